/**
 * The {@link LogStorage} contract as a reusable suite: every storage (memory, files on a
 * real disk, files on a simulated disk, yours) must pass the same tests.
 */

import { isCodedError, type LogStorage } from '@rony/interface'
import { describe, expect, it, onTestFinished } from 'vitest'
import { entries, entry, plain, snapshot } from './builders.js'

/** One storage under test, over a fresh location. */
export interface StorageUnderTest {
  readonly storage: LogStorage
  /** The storage a restarted process uses over the same location (after `close()`). */
  restart(): LogStorage
  /** The WAL segment file names, oldest first, for storages that have segments. */
  readonly segments?: () => Promise<string[]>
}

export interface StorageTarget {
  /** A storage over a fresh, empty location. */
  create(): Promise<StorageUnderTest>
  /** Whether it writes WAL segments (then `segments` is set and small segments are used). */
  readonly segmented: boolean
}

/**
 * Registers the {@link LogStorage} contract tests for one kind of storage: recovery of an
 * empty state, of the hard state, of entries and snapshots across restarts, conflicting
 * appends, call order, close waiting for pending operations, coded errors before `open()`
 * and after `close()`, and invalid input rejected without harm. With `segmented`, also
 * that segments roll and that a snapshot deletes the ones it covers.
 *
 * @param name - Shown in the test names: `<name>: the LogStorage contract`.
 * @param target - Creates a storage over a fresh location per test.
 */
export function storageContract(name: string, { create, segmented }: StorageTarget): void {
  /** Closes, restarts and reopens: what a node sees after a clean restart. */
  async function reopen(t: StorageUnderTest) {
    await t.storage.close()
    const storage = t.restart()
    onTestFinished(() => storage.close())
    const state = await storage.open()
    return { storage, state, entries: plain(state.entries) }
  }

  /** A storage under test that is closed when the test ends, whatever happens. */
  async function start(): Promise<StorageUnderTest> {
    const t = await create()
    onTestFinished(() => t.storage.close())
    return t
  }

  describe(`${name}: the LogStorage contract`, () => {
    it('a fresh storage recovers an empty state', async () => {
      const t = await start()
      expect(await t.storage.open()).toEqual({
        hardState: { term: 0, votedFor: undefined },
        snapshot: undefined,
        entries: [],
      })
      const { state } = await reopen(t)
      expect(state.hardState).toEqual({ term: 0, votedFor: undefined })
    })

    it('the last hard state survives a restart', async () => {
      const t = await start()
      await t.storage.open()
      await t.storage.setHardState({ term: 3, votedFor: 'b' })
      await t.storage.setHardState({ term: 4, votedFor: 'nœud-é' })
      expect((await reopen(t)).state.hardState).toEqual({ term: 4, votedFor: 'nœud-é' })
      const t2 = await start()
      await t2.storage.open()
      await t2.storage.setHardState({ term: 2 ** 40, votedFor: undefined })
      expect((await reopen(t2)).state.hardState).toEqual({ term: 2 ** 40, votedFor: undefined })
    })

    it('appended entries survive a restart, with their kind and data', async () => {
      const t = await start()
      await t.storage.open()
      const log = [...entries(1, 3, 1), entry(4, 2, 'noop'), entry(5, 2, 'configuration')]
      await t.storage.append(log.slice(0, 2))
      await t.storage.append(log.slice(2))
      const { storage, entries: recovered } = await reopen(t)
      expect(recovered).toEqual(plain(log))
      await storage.append([entry(6, 2)])
      await storage.close()
      expect((await reopen({ ...t, storage })).state.entries.map((e) => e.index)).toEqual([
        1, 2, 3, 4, 5, 6,
      ])
    })

    it('a conflicting append discards the stored suffix first', async () => {
      const t = await start()
      await t.storage.open()
      await t.storage.append(entries(1, 10, 1))
      await t.storage.append(entries(6, 7, 2))
      expect((await reopen(t)).entries).toEqual(plain([...entries(1, 5, 1), ...entries(6, 7, 2)]))
    })

    it('a snapshot drops the entries it covers and survives a restart', async () => {
      const t = await start()
      await t.storage.open()
      await t.storage.append([...entries(1, 4, 1), ...entries(5, 10, 2)])
      await t.storage.saveSnapshot(snapshot(6, 2))
      const { storage, state, entries: recovered } = await reopen(t)
      expect(state.snapshot?.meta).toEqual(snapshot(6, 2).meta)
      expect([...(state.snapshot?.data ?? [])]).toEqual([...snapshot(6, 2).data])
      expect(recovered).toEqual(plain(entries(7, 10, 2)))
      await storage.append(entries(11, 12, 3))
      await storage.saveSnapshot(snapshot(12, 3))
      await storage.append(entries(13, 13, 3))
      const again = await reopen({ ...t, storage })
      expect(again.state.snapshot?.meta.index).toBe(12)
      expect(again.entries).toEqual(plain(entries(13, 13, 3)))
    })

    it('a snapshot the log does not hold drops every entry', async () => {
      const t = await start()
      await t.storage.open()
      await t.storage.append(entries(1, 10, 1))
      await t.storage.saveSnapshot(snapshot(7, 2)) // the log has index 7 in term 1, not 2
      const first = await reopen(t)
      expect(first.state.snapshot?.meta.index).toBe(7)
      expect(first.entries).toEqual([])
      await first.storage.append(entries(8, 9, 2))
      await first.storage.saveSnapshot(snapshot(20, 2)) // beyond the last index
      const second = await reopen({ ...t, storage: first.storage })
      expect(second.state.snapshot?.meta).toEqual(snapshot(20, 2).meta)
      expect(second.entries).toEqual([])
      await second.storage.append(entries(21, 21, 3))
      expect((await reopen({ ...t, storage: second.storage })).entries).toEqual(
        plain(entries(21, 21, 3)),
      )
    })

    it('operations called without waiting take effect in call order', async () => {
      const t = await start()
      await t.storage.open()
      await Promise.all([
        t.storage.append(entries(1, 5, 1)),
        t.storage.setHardState({ term: 2, votedFor: 'a' }),
        t.storage.append(entries(4, 6, 2)),
        t.storage.saveSnapshot(snapshot(5, 2)),
        t.storage.append(entries(7, 8, 2)),
        t.storage.setHardState({ term: 3, votedFor: undefined }),
        t.storage.saveSnapshot(snapshot(7, 2)),
        t.storage.append(entries(9, 9, 3)),
      ])
      const { state, entries: recovered } = await reopen(t)
      expect(state.hardState).toEqual({ term: 3, votedFor: undefined })
      expect(state.snapshot?.meta.index).toBe(7)
      expect(recovered).toEqual(plain([entry(8, 2), entry(9, 3)]))
    })

    it('close waits for pending operations', async () => {
      const t = await start()
      await t.storage.open()
      const pending = [t.storage.append(entries(1, 3, 1)), t.storage.saveSnapshot(snapshot(2, 1))]
      const appended = t.storage.append(entries(4, 4, 1))
      const { state, entries: recovered } = await reopen(t) // reopen() closes first
      await Promise.all([...pending, appended])
      expect(state.snapshot?.meta.index).toBe(2)
      expect(recovered).toEqual(plain([entry(3, 1), entry(4, 1)]))
    })

    it('operations before open() and after close() reject with coded errors', async () => {
      const t = await start()
      const early = await t.storage.append(entries(1, 1, 1)).catch((e: unknown) => e)
      expect(isCodedError(early, 'RONY_ERR_NOT_STARTED')).toBe(true)
      await t.storage.open()
      await t.storage.close()
      for (const call of [
        () => t.storage.append(entries(1, 1, 1)),
        () => t.storage.setHardState({ term: 1, votedFor: undefined }),
        () => t.storage.saveSnapshot(snapshot(1, 1)),
      ]) {
        const err = await call().catch((e: unknown) => e)
        expect(isCodedError(err, 'RONY_ERR_STOPPED')).toBe(true)
      }
      await t.storage.close() // a second close does nothing
    })

    it('invalid input rejects and leaves the storage working and unchanged', async () => {
      const t = await start()
      await t.storage.open()
      await t.storage.append(entries(1, 5, 1))
      await t.storage.saveSnapshot(snapshot(2, 1))
      const bad: (() => Promise<void>)[] = [
        () => t.storage.append(entries(7, 7, 1)), // a gap after 5
        () => t.storage.append(entries(2, 3, 2)), // at or below the snapshot
        () => t.storage.append([entry(3, 1), entry(5, 1)]), // not contiguous
        () => t.storage.append([{ ...entry(6, 1), index: 6.5 }]),
        () => t.storage.append([{ ...entry(6, 1), kind: 'other' as 'noop' }]),
        () => t.storage.setHardState({ term: -1, votedFor: undefined }),
        () => t.storage.setHardState({ term: 1, votedFor: 7 as unknown as string }),
        () => t.storage.saveSnapshot(snapshot(1, 1)), // older than the current snapshot
        () => t.storage.saveSnapshot({ ...snapshot(3, 1), data: 'x' as unknown as Uint8Array }),
      ]
      for (const call of bad) {
        const err = await call().catch((e: unknown) => e)
        expect(err instanceof TypeError || err instanceof RangeError, String(err)).toBe(true)
      }
      await t.storage.append(entries(6, 6, 1))
      expect((await reopen(t)).entries).toEqual(plain(entries(3, 6, 1)))
    })

    it('recovers the same state across many restarts', async () => {
      const t = await start()
      let storage = t.storage
      await storage.open()
      for (let round = 1; round <= 20; round++) {
        await storage.append(entries(round * 10 - 9, round * 10, round))
        await storage.setHardState({ term: round, votedFor: `n${round}` })
        if (round % 3 === 0) await storage.saveSnapshot(snapshot(round * 10 - 5, round))
        const next = await reopen({ ...t, storage })
        storage = next.storage
        const snapshotIndex = Math.floor(round / 3) * 30 - 5
        expect(next.state.hardState).toEqual({ term: round, votedFor: `n${round}` })
        expect(next.state.entries[0]?.index).toBe(Math.max(1, snapshotIndex + 1))
        expect(next.state.entries.at(-1)?.index).toBe(round * 10)
      }
      await storage.close()
    })

    if (!segmented) return
    it('segments roll, and a snapshot deletes the ones it covers', async () => {
      const t = await start()
      const segments = t.segments!
      await t.storage.open()
      for (let i = 0; i < 10; i++) await t.storage.append(entries(i * 20 + 1, i * 20 + 20, 1))
      const before = await segments()
      expect(before.length).toBeGreaterThan(4)
      await t.storage.saveSnapshot(snapshot(150, 1))
      const after = await segments()
      expect(after.length).toBeLessThan(before.length)
      expect(after.length).toBeGreaterThanOrEqual(1)
      expect(after[0]! > before[0]!).toBe(true)
      const { state, entries: recovered } = await reopen(t)
      expect(recovered).toEqual(plain(entries(151, 200, 1)))
      expect(state.snapshot?.meta.index).toBe(150)
    })
  })
}
