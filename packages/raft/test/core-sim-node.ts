/**
 * One simulated server: a {@link RaftCore}, the durable state a `LogStorage` would hold (only
 * what the node persisted survives a crash), and a state machine whose state is the hash of
 * the log prefix it applied, so that any divergence shows as a different hash.
 */

import type { RaftCore, ReadState, Ready } from '../src/core/index.js'
import type {
  Configuration,
  HardState,
  LogEntry,
  RecoveredState,
  Snapshot,
} from '../src/storage/types.js'
import { EMPTY_HASH, fold, type NodeView, type SafetyChecker } from './core-safety.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
export const bytes = (s: string): Uint8Array => encoder.encode(s)
export const text = (b: Uint8Array): string => decoder.decode(b)

export class SimNode implements NodeView {
  core!: RaftCore
  up = true
  hardState: HardState = { term: 0, votedFor: undefined }
  snapshot: Snapshot | undefined
  snapshotHash = EMPTY_HASH
  entries: LogEntry[] = []
  prefixes: number[] = []
  /** The state machine: the prefix hash of what it applied, and up to where. */
  smIndex = 0
  smHash = EMPTY_HASH
  readStates: ReadState[] = []
  /** A Ready being persisted, and the tick it becomes durable. */
  writing: { readonly rd: Ready; readonly at: number } | undefined

  constructor(
    readonly id: string,
    /** The configuration it founds a group with, passed to every core it starts (an option). */
    public bootstrap: Configuration | undefined,
    readonly checker: SafetyChecker,
  ) {}

  get snapshotIndex(): number {
    return this.snapshot?.meta.index ?? 0
  }

  prefixAt(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotHash
    return this.prefixes[index - this.snapshotIndex - 1]
  }

  /** What `LogStorage.open()` would return; the state machine restarts from the snapshot. */
  recover(): RecoveredState {
    this.smIndex = this.snapshotIndex
    this.smHash = this.snapshotHash
    return { hardState: this.hardState, snapshot: this.snapshot, entries: [...this.entries] }
  }

  setHardState(hardState: HardState): void {
    this.checker.hardState(this.id, this.hardState, hardState)
    this.hardState = hardState
  }

  /** `LogStorage.append`: entries from the first one's index on are replaced. */
  append(entries: readonly LogEntry[]): void {
    const first = entries[0]!.index
    const keep = first - this.snapshotIndex - 1
    if (keep < 0 || keep > this.entries.length) {
      throw new Error(`${this.id}: append at ${first} leaves a gap`)
    }
    this.entries.length = keep
    this.prefixes.length = keep
    for (const e of entries) {
      const prefix = fold(this.prefixAt(e.index - 1)!, e)
      this.entries.push(e)
      this.prefixes.push(prefix)
      this.checker.durableEntry(this.id, e.index, e.term, prefix)
    }
  }

  /** `LogStorage.saveSnapshot`; a snapshot from the leader also restores the state machine. */
  saveSnapshot(snapshot: Snapshot, restore: boolean): void {
    const { index, term } = snapshot.meta
    const hash = (JSON.parse(text(snapshot.data)) as { hash: number }).hash
    const matches = this.entries.find((e) => e.index === index)?.term === term
    const drop = matches ? index - this.snapshotIndex : this.entries.length
    this.entries = this.entries.slice(drop)
    this.prefixes = this.prefixes.slice(drop)
    this.snapshot = snapshot
    this.snapshotHash = hash
    this.checker.durableEntry(this.id, index, term, hash)
    this.checker.applied(this.id, index, hash)
    if (restore) {
      this.smIndex = index
      this.smHash = hash
    }
  }

  /** The state machine applies committed entries, in order and each once. */
  apply(entries: readonly LogEntry[]): void {
    for (const e of entries) {
      if (e.index !== this.smIndex + 1) {
        throw new Error(`${this.id} applied ${e.index} after ${this.smIndex}`)
      }
      this.smHash = fold(this.smHash, e)
      this.smIndex = e.index
      this.checker.applied(this.id, e.index, this.smHash)
    }
  }

  /** Snapshots the state machine, saves the snapshot and compacts the core's log. */
  compact(padding: number): void {
    const meta = this.core.snapshotMeta(this.smIndex)
    const data = bytes(JSON.stringify({ hash: this.smHash, pad: 'x'.repeat(padding) }))
    const snapshot = { meta, data }
    this.saveSnapshot(snapshot, false)
    this.core.compact(snapshot)
  }
}
