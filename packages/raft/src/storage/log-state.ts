/**
 * The state a {@link LogStorage} stores, as plain data with the contract's rules: the
 * memory storage keeps it as its whole content, the WAL replays records into it on recovery
 * and keeps it current afterwards (it needs the terms to decide what a snapshot drops, and
 * the last index to validate appends).
 *
 * @module
 */

import type { EntryKind, HardState, LogEntry, ServerInfo, SnapshotMeta } from './types.js'

const KINDS: ReadonlySet<EntryKind> = new Set(['command', 'configuration', 'noop'])

export class LogState {
  hardState: HardState = { term: 0, votedFor: undefined }
  snapshotIndex = 0
  snapshotTerm = 0
  /**
   * Contiguous entries. Normally they start at `snapshotIndex + 1`; while the WAL replays
   * from a segment after deleted ones they may start later, until a snapshot record covers
   * the gap (recovery checks that one did).
   */
  entries: LogEntry[] = []

  get lastIndex(): number {
    return this.entries.at(-1)?.index ?? this.snapshotIndex
  }

  /** Tells whether the log holds `index` with `term` (the snapshot's last entry counts). */
  holds(index: number, term: number): boolean {
    if (index === this.snapshotIndex) return term === this.snapshotTerm
    const first = this.entries[0]?.index
    return first !== undefined && index >= first && this.entries[index - first]?.term === term
  }

  /**
   * Appends contiguous entries, first discarding the stored ones from `entries[0].index` on.
   * An index below the first stored entry discards them all (only replay sees that: it may
   * start mid-log).
   */
  append(entries: readonly LogEntry[]): void {
    const from = entries[0]?.index
    const first = this.entries[0]?.index
    if (from === undefined) return
    if (first !== undefined && from <= this.lastIndex) {
      this.entries.length = Math.max(0, from - first)
    }
    for (const entry of entries) this.entries.push(entry)
  }

  /** Applies a snapshot at `index`: `keep` retains the entries after it, else all go. */
  compact(index: number, term: number, keep: boolean): void {
    const first = this.entries[0]?.index
    if (!keep) this.entries = []
    else if (first !== undefined && index >= first) this.entries.splice(0, index - first + 1)
    this.snapshotIndex = index
    this.snapshotTerm = term
  }

  /** Validates an append against the contract; throws TypeError/RangeError, changes nothing. */
  checkAppend(entries: readonly LogEntry[]): void {
    if (!Array.isArray(entries)) throw new TypeError('append: entries must be an array')
    entries.forEach((entry, i) => {
      const at = `append: entries[${i}]`
      if (typeof entry !== 'object' || entry === null)
        throw new TypeError(`${at} must be an object`)
      checkCount(`${at}.index`, entry.index, 1)
      checkCount(`${at}.term`, entry.term, 0)
      if (!KINDS.has(entry.kind)) throw new TypeError(`${at}.kind must be an EntryKind`)
      if (!(entry.data instanceof Uint8Array))
        throw new TypeError(`${at}.data must be a Uint8Array`)
      const expected = (entries[0]?.index ?? 0) + i
      if (entry.index !== expected) {
        throw new RangeError(`${at}.index must be ${expected} (contiguous), got ${entry.index}`)
      }
    })
    const from = entries[0]?.index
    if (from !== undefined && (from <= this.snapshotIndex || from > this.lastIndex + 1)) {
      throw new RangeError(
        `append: entries[0].index must be in ${this.snapshotIndex + 1}..${this.lastIndex + 1} (after the snapshot, at most the last index + 1), got ${from}`,
      )
    }
  }

  /** Validates a snapshot; snapshots never go back, so the WAL can delete what one covers. */
  checkSnapshot(meta: SnapshotMeta, data: Uint8Array): void {
    if (typeof meta !== 'object' || meta === null) {
      throw new TypeError('saveSnapshot: meta must be an object')
    }
    checkCount('saveSnapshot: meta.index', meta.index, Math.max(1, this.snapshotIndex))
    checkCount('saveSnapshot: meta.term', meta.term, 0)
    const config = meta.configuration
    if (typeof config !== 'object' || config === null) {
      throw new TypeError('saveSnapshot: meta.configuration must be an object')
    }
    for (const role of ['voters', 'learners'] as const) {
      if (!isServerList(config[role])) {
        throw new TypeError(
          `saveSnapshot: meta.configuration.${role} must be an array of { id, address } strings`,
        )
      }
    }
    if (!(data instanceof Uint8Array))
      throw new TypeError('saveSnapshot: data must be a Uint8Array')
  }
}

/** Validates a hard state (the term is not compared with the stored one: that is Raft's job). */
export function checkHardState(state: HardState): void {
  if (typeof state !== 'object' || state === null) {
    throw new TypeError('setHardState: state must be an object')
  }
  checkCount('setHardState: state.term', state.term, 0)
  if (state.votedFor !== undefined && typeof state.votedFor !== 'string') {
    throw new TypeError('setHardState: state.votedFor must be a string or undefined')
  }
}

/** Tells whether a value is an array of `{ id, address }` with string fields. */
export function isServerList(list: unknown): list is ServerInfo[] {
  return (
    Array.isArray(list) &&
    list.every((s) => typeof s?.id === 'string' && typeof s.address === 'string')
  )
}

function checkCount(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be a safe integer, got ${String(value)}`)
  }
  if (value < min) throw new RangeError(`${name} must be at least ${min}, got ${value}`)
}
