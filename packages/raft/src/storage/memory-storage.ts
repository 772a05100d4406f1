/**
 * `memoryStorage()`: a {@link LogStorage} that keeps everything in memory, with the same
 * rules as the file storage (validation, conflict truncation, snapshot compaction, lifecycle)
 * but nothing durable beyond the object itself.
 *
 * It exists for simulations: a simulated node "restarts" by calling `open()` again on the
 * same instance after `close()`, and gets back what was stored. Every operation is durable
 * the moment it is called, so it models a disk that never loses a write; to test crashes
 * with lost writes, use `fileStorage(dir, { fs: simulatedDisk() })` instead.
 *
 * @module
 */

import { notOpen } from './errors.js'
import { checkHardState, LogState } from './log-state.js'
import type { LogEntry, LogStorage, RecoveredState, Snapshot } from './types.js'

/** Creates an in-memory storage; see the module documentation. */
export function memoryStorage(): LogStorage {
  const log = new LogState()
  let snapshot: Snapshot | undefined
  let state: 'new' | 'open' | 'closed' = 'new'

  /** Runs `apply` if open. Resolves asynchronously, as a real storage does. */
  const run = async (apply: () => void): Promise<void> => {
    if (state !== 'open') throw notOpen(state)
    apply()
  }

  return {
    async open(): Promise<RecoveredState> {
      if (state === 'open') throw new Error('memoryStorage: open() called while open')
      state = 'open'
      return { hardState: log.hardState, snapshot, entries: [...log.entries] }
    },

    setHardState: (hardState) =>
      run(() => {
        checkHardState(hardState)
        log.hardState = { term: hardState.term, votedFor: hardState.votedFor }
      }),

    append: (entries) =>
      run(() => {
        log.checkAppend(entries)
        // Copies: what the caller does with its objects later must not change what is stored.
        log.append(entries.map((e): LogEntry => ({ ...e, data: new Uint8Array(e.data) })))
      }),

    saveSnapshot: (next) =>
      run(() => {
        const { meta, data } = next
        log.checkSnapshot(meta, data)
        log.compact(meta.index, meta.term, log.holds(meta.index, meta.term))
        const server = ({ id, address }: { id: string; address: string }) => ({ id, address })
        const configuration = {
          voters: meta.configuration.voters.map(server),
          learners: meta.configuration.learners.map(server),
        }
        snapshot = {
          meta: { index: meta.index, term: meta.term, configuration },
          data: new Uint8Array(data),
        }
      }),

    async close(): Promise<void> {
      if (state === 'open') state = 'closed'
    },
  }
}
