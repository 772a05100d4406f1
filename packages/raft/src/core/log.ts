/**
 * The in-memory Raft log: the entries after the latest snapshot, plus what is needed to
 * hand new entries to storage exactly once and to know which of them are durable.
 *
 * Indexes below `firstIndex` are compacted into the snapshot; the snapshot's last index and
 * term stay known, so that an AppendEntries whose `prevIndex` is the snapshot's index can be
 * checked (Raft paper §7).
 *
 * @module
 */

import type { LogEntry, SnapshotMeta } from '../storage/types.js'

/**
 * Bytes an entry is charged for in batches and inflight windows: its payload plus a fixed
 * estimate of index, term and framing, so that empty entries are not free.
 */
export function entryBytes(entry: LogEntry): number {
  return entry.data.byteLength + 16
}

export class RaftLog {
  #snapshotIndex: number
  #snapshotTerm: number
  /** `#entries[i]` has index `#snapshotIndex + 1 + i`. */
  #entries: LogEntry[]
  /** Entries up to here are durable and identical to the in-memory ones. */
  #persisted: number
  /** The first index not yet handed to storage in a Ready. */
  #unstable: number

  /**
   * @param base - Where the log starts: the recovered snapshot's index and term, or 0/0.
   * @param entries - The durable entries after `base`, contiguous.
   */
  constructor(base: { index: number; term: number }, entries: readonly LogEntry[]) {
    this.#snapshotIndex = base.index
    this.#snapshotTerm = base.term
    this.#entries = entries.filter((e) => e.index > base.index)
    this.#entries.forEach((e, i) => {
      if (e.index !== base.index + 1 + i) {
        throw new RangeError(`recovered log is not contiguous at index ${e.index}`)
      }
    })
    this.#persisted = this.lastIndex
    this.#unstable = this.lastIndex + 1
  }

  /** The snapshot's last index (0 when there is none): the log's base. */
  get snapshotIndex(): number {
    return this.#snapshotIndex
  }

  get firstIndex(): number {
    return this.#snapshotIndex + 1
  }

  get lastIndex(): number {
    return this.#snapshotIndex + this.#entries.length
  }

  get lastTerm(): number {
    return this.#entries.at(-1)?.term ?? this.#snapshotTerm
  }

  /** The last index known durable and identical to the in-memory entry. */
  get persisted(): number {
    return this.#persisted
  }

  /** The term of the entry at `index`, `undefined` when compacted or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.#snapshotIndex) return this.#snapshotTerm
    return this.#entries[index - this.#snapshotIndex - 1]?.term
  }

  /** Whether the log holds `index` with `term` (the AppendEntries consistency check). */
  matches(index: number, term: number): boolean {
    return this.term(index) === term
  }

  /**
   * Whether a candidate whose log ends at (`lastIndex`, `lastTerm`) is at least as
   * up-to-date as this log (Raft paper §5.4.1): later last term, or same term and as long.
   */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex)
  }

  /**
   * Entries from `from` to `to` inclusive, stopping early once `maxBytes` is exceeded (but
   * always at least one entry). `undefined` when `from` is compacted.
   */
  slice(from: number, to: number, maxBytes = Number.POSITIVE_INFINITY): LogEntry[] | undefined {
    if (from < this.firstIndex) return undefined
    const out: LogEntry[] = []
    let bytes = 0
    for (let i = from; i <= Math.min(to, this.lastIndex); i++) {
      const entry = this.#entries[i - this.firstIndex]!
      bytes += entryBytes(entry)
      if (out.length > 0 && bytes > maxBytes) break
      out.push(entry)
    }
    return out
  }

  /** Appends entries that follow the last one (the leader's own proposals). */
  append(entries: readonly LogEntry[]): void {
    for (const entry of entries) {
      if (entry.index !== this.lastIndex + 1) {
        throw new RangeError(`append at ${entry.index}, last index is ${this.lastIndex}`)
      }
      this.#entries.push(entry)
    }
  }

  /**
   * The follower's side of AppendEntries (Raft paper Figure 2, receiver steps 2–4): when the
   * log holds (`prevIndex`, `prevTerm`), skips the entries it already has, truncates at the
   * first conflicting one and appends the rest. Entries after the batch that do not conflict
   * are kept: a delayed, shorter AppendEntries must not erase entries a later one added.
   *
   * @returns `undefined` on a mismatch; otherwise the index of the last entry the batch
   * covers (which now matches the leader) and the entries actually written.
   */
  tryAppend(
    prevIndex: number,
    prevTerm: number,
    entries: readonly LogEntry[],
  ): { lastNew: number; written: readonly LogEntry[] } | undefined {
    if (!this.matches(prevIndex, prevTerm)) return undefined
    const lastNew = prevIndex + entries.length
    const conflict = entries.findIndex(
      (e) => e.index > this.lastIndex || !this.matches(e.index, e.term),
    )
    if (conflict < 0) return { lastNew, written: [] }
    const written = entries.slice(conflict)
    const from = written[0]!.index
    if (from <= this.lastIndex) this.#truncateFrom(from)
    this.append(written)
    return { lastNew, written }
  }

  #truncateFrom(index: number): void {
    this.#entries.length = index - this.firstIndex
    this.#persisted = Math.min(this.#persisted, index - 1)
    this.#unstable = Math.min(this.#unstable, index)
  }

  /**
   * The last index at or below `index` whose term is at or below `term`, or the snapshot's
   * index if no entry qualifies. Both sides of fast backtracking use it (see
   * {@link AppendRejected}).
   */
  lastIndexWithTermAtMost(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex)
    while (i > this.#snapshotIndex && this.term(i)! > term) i--
    return i
  }

  /** Entries not yet handed to storage; marks them handed. */
  takeUnstable(): LogEntry[] {
    const out = this.#entries.slice(this.#unstable - this.firstIndex)
    this.#unstable = this.lastIndex + 1
    return out
  }

  hasUnstable(): boolean {
    return this.#unstable <= this.lastIndex
  }

  /**
   * Storage made entries up to (`index`, `term`) durable. Ignored when the log no longer
   * holds that entry (it was truncated meanwhile): by the Log Matching Property the same
   * index and term mean the same prefix, so nothing else needs checking.
   */
  persistedTo(index: number, term: number): void {
    if (this.matches(index, term) && index > this.#persisted) this.#persisted = index
  }

  /**
   * Drops the entries up to `index`, which a snapshot now covers (Raft paper §7). `index`
   * must be durable: compaction never loses an entry that is only in memory.
   */
  compact(index: number): void {
    if (index <= this.#snapshotIndex) return
    if (index > this.#persisted) throw new RangeError(`compact(${index}) beyond durable log`)
    this.#snapshotTerm = this.term(index)!
    this.#entries = this.#entries.slice(index - this.#snapshotIndex)
    this.#snapshotIndex = index
  }

  /**
   * Replaces the whole log by a snapshot from the leader (Raft paper Figure 13, step 8). The
   * snapshot is not durable yet; entries appended after it are handed to storage after it.
   */
  restore(meta: SnapshotMeta): void {
    this.#snapshotIndex = meta.index
    this.#snapshotTerm = meta.term
    this.#entries = []
    this.#persisted = meta.index
    this.#unstable = meta.index + 1
  }
}
