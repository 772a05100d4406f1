/**
 * The WAL writer: an append-only, segmented log of records with group commit.
 *
 * **Ordering.** Every operation is applied to the in-memory {@link LogState} and encoded
 * synchronously when called (so validation sees the effect of earlier calls), and its
 * records join a queue in call order. The one exception is a snapshot: its file must be
 * durable before its WAL record may be written, so operations called after it wait (they
 * are held in `#held`) until the file is durable.
 *
 * **Group commit.** One flush loop drains the queue: it takes everything queued, writes it
 * with one durable append per segment, resolves those operations, and repeats.
 * Operations called while a sync is in flight accumulate and share the next one, so N
 * concurrent appends cost about two syncs rather than N.
 *
 * **Segments.** When the segment being filled reaches `segmentBytes`, a roll is queued: the
 * flush loop syncs and closes the segment, creates the next one, writes its SegmentStart
 * record (hard state and snapshot) durably, fsyncs the directory, and only then moves
 * `wal.head` to it (see {@link writeWalHead}): a segment exists on disk only once every
 * earlier one is complete, and the head never names a segment that is not durable. The
 * start record lets older segments be deleted once a durable snapshot covers every entry
 * in them; the head lets recovery notice a newest segment that went missing.
 *
 * **Failure.** Any I/O error breaks the WAL: the failed batch, everything queued, and every
 * later call reject with the same `RONY_ERR_STORAGE_FAILED`. What was written but not
 * synced may or may not be on disk; the node must stop and recover from the files.
 *
 * @module
 */

import { join } from 'node:path'
import type { CodedError } from '@rony/interface'
import { concatBytes } from './bytes.js'
import { storageFailed } from './errors.js'
import type { StorageFile, StorageFs } from './fs.js'
import { checkHardState, type LogState } from './log-state.js'
import { writeSnapshotFile } from './snapshot-file.js'
import type { HardState, LogEntry, Snapshot } from './types.js'
import { writeWalHead } from './wal-head.js'
import {
  encodeEntry,
  encodeHardState,
  encodeSegmentStart,
  encodeSnapshotMarker,
} from './wal-records.js'
import { type RecoveredWal, type SegmentInfo, segmentName } from './wal-recovery.js'

/** Called once the operation's records are durable, or with the error that broke the WAL. */
type Waiter = (error: CodedError | undefined) => void

/** A queued record, or a roll to segment `seq`, which starts with the record `start`. */
type Item = Uint8Array | { readonly seq: number; readonly start: Uint8Array }

export class Wal {
  readonly #fs: StorageFs
  readonly #dir: string
  readonly #segmentBytes: number
  readonly #log: LogState
  readonly #segments: SegmentInfo[]
  #snapshotFile: string | undefined
  /** The segment the flush loop writes to. */
  #file: StorageFile
  /** The newest segment whose start record is durable: older ones may be deleted. */
  #durableSeq: number
  /** Bytes queued or written into the last segment: when it reaches `segmentBytes`, roll. */
  #lastSegmentBytes: number
  #queue: Item[] = []
  #waiters: Waiter[] = []
  #flushing = false
  /** The operations of the batch being written. */
  #inflight: Waiter[] = []
  /** Operations called while a snapshot file is being written, run after it in order. */
  #held: (() => void)[] | undefined
  #failure: CodedError | undefined
  /** Deletions after snapshots, one at a time so they never race each other. */
  #cleanup: Promise<void> = Promise.resolve()

  constructor(fs: StorageFs, dir: string, segmentBytes: number, recovered: RecoveredWal) {
    this.#fs = fs
    this.#dir = dir
    this.#segmentBytes = segmentBytes
    this.#log = recovered.log
    this.#segments = recovered.segments
    this.#snapshotFile = recovered.snapshotFile
    this.#file = recovered.file
    this.#durableSeq = this.#segments.at(-1)!.seq
    this.#lastSegmentBytes = recovered.fileBytes
  }

  setHardState(state: HardState): Promise<void> {
    return this.#submit((done) => {
      checkHardState(state)
      const copy: HardState = { term: state.term, votedFor: state.votedFor }
      this.#log.hardState = copy
      this.#enqueue([encodeHardState(copy)], done)
    })
  }

  append(entries: readonly LogEntry[]): Promise<void> {
    return this.#submit((done) => {
      this.#log.checkAppend(entries)
      const records = entries.map(encodeEntry)
      this.#log.append(entries)
      const segment = this.#segments.at(-1)!
      segment.maxIndex = Math.max(segment.maxIndex, entries.at(-1)?.index ?? 0)
      this.#enqueue(records, done)
    })
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.#submit((done) => {
      this.#log.checkSnapshot(snapshot.meta, snapshot.data)
      this.#held = []
      writeSnapshotFile(this.#fs, this.#dir, snapshot).then(
        (name) => {
          if (this.#failure !== undefined) {
            done(this.#failure)
            return this.#release()
          }
          const { index, term } = snapshot.meta
          const keep = this.#log.holds(index, term)
          this.#log.compact(index, term, keep)
          const previous = this.#snapshotFile
          this.#snapshotFile = name
          this.#enqueue([encodeSnapshotMarker(index, term, keep)], (error) => {
            if (error !== undefined) return done(error)
            const stale = previous === name ? undefined : previous
            this.deleteCovered(index, stale).then(() => done(undefined), done)
          })
          this.#release()
        },
        (err) => {
          done(this.#fail(err))
          this.#release()
        },
      )
    })
  }

  /** Waits for everything called before (and the deletions they started), then closes. */
  async close(): Promise<void> {
    try {
      await this.#submit((done) => this.#enqueue([], done))
      await this.#cleanup
    } finally {
      await this.#file.close().catch(() => {})
    }
  }

  /**
   * Deletes what a durable snapshot at index `covered` made redundant: `staleSnapshot` (the
   * previous snapshot's file), and the oldest segments while every entry in them is at or
   * below `covered`. (Not the model's snapshot index: a later snapshot may be staged but not
   * yet durable.) Only segments followed by one whose start record is durable go, so the
   * hard state and snapshot they recorded stay on disk. Oldest first, so a crash midway never
   * leaves a gap between segments. A failed deletion breaks the WAL like any I/O error.
   */
  deleteCovered(covered: number, staleSnapshot?: string): Promise<void> {
    const task = async (): Promise<void> => {
      if (staleSnapshot !== undefined) await this.#fs.unlink(join(this.#dir, staleSnapshot))
      let n = 0
      while (
        n < this.#segments.length - 1 &&
        this.#segments[n]!.maxIndex <= covered &&
        this.#segments[n + 1]!.seq <= this.#durableSeq
      ) {
        n++
      }
      for (const segment of this.#segments.splice(0, n)) {
        await this.#fs.unlink(join(this.#dir, segmentName(segment.seq)))
      }
    }
    this.#cleanup = this.#cleanup.then(task).catch((err: unknown) => {
      throw this.#fail(err)
    })
    return this.#cleanup
  }

  /** Runs `stage` now, or after the snapshot being written; rejects once the WAL is broken. */
  #submit(stage: (done: Waiter) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const done: Waiter = (error) => (error === undefined ? resolve() : reject(error))
      const run = (): void => {
        try {
          if (this.#failure !== undefined) throw this.#failure
          stage(done)
        } catch (err) {
          reject(err) // a broken WAL, or invalid input (validation throws before any change)
        }
      }
      if (this.#held === undefined) run()
      else this.#held.push(run)
    })
  }

  /** Runs the operations held behind a snapshot, until one of them is a snapshot again. */
  #release(): void {
    const held = this.#held ?? []
    this.#held = undefined
    for (let i = 0; i < held.length; i++) {
      held[i]!()
      if (this.#holdAgain(held, i + 1)) return
    }
  }

  /** When a snapshot is being written again, holds `runs[from..]` behind it. */
  #holdAgain(runs: readonly (() => void)[], from: number): boolean {
    if (this.#held === undefined) return false
    for (let i = from; i < runs.length; i++) this.#held.push(runs[i]!)
    return true
  }

  #enqueue(records: readonly Uint8Array[], done: Waiter): void {
    for (const record of records) {
      this.#queue.push(record)
      this.#lastSegmentBytes += record.length
    }
    this.#waiters.push(done)
    if (this.#lastSegmentBytes >= this.#segmentBytes) {
      const seq = this.#segments.at(-1)!.seq + 1
      const start = encodeSegmentStart(seq, this.#log)
      this.#queue.push({ seq, start })
      this.#segments.push({ seq, maxIndex: 0 })
      this.#lastSegmentBytes = start.length
    }
    // Start on the next microtask, so that calls made together share the first sync too.
    if (!this.#flushing) {
      this.#flushing = true
      queueMicrotask(() => void this.#flush())
    }
  }

  async #flush(): Promise<void> {
    while (this.#waiters.length > 0 && this.#failure === undefined) {
      const items = this.#queue
      const batch = this.#waiters
      this.#queue = []
      this.#waiters = []
      this.#inflight = batch
      try {
        await this.#write(items)
      } catch (err) {
        this.#fail(err)
      }
      this.#inflight = []
      // A failure elsewhere (a snapshot file) may have rejected this batch meanwhile.
      if (this.#failure !== undefined) break
      for (const done of batch) done(undefined)
    }
    this.#flushing = false
  }

  /** Writes one batch: one durable append per segment it touches. */
  async #write(items: readonly Item[]): Promise<void> {
    let chunks: Uint8Array[] = []
    const writeChunks = async (): Promise<void> => {
      if (chunks.length === 0) return
      await this.#file.appendDurable(concatBytes(chunks))
      chunks = []
    }
    for (const item of items) {
      if (item instanceof Uint8Array) {
        chunks.push(item)
        continue
      }
      await writeChunks()
      await this.#file.close()
      this.#file = await this.#fs.open(join(this.#dir, segmentName(item.seq)), 'append')
      await this.#file.appendDurable(item.start)
      await this.#fs.syncDir(this.#dir)
      // Only now: the head must never name a segment a power loss could take away.
      await writeWalHead(this.#fs, this.#dir, item.seq)
      this.#durableSeq = item.seq
    }
    await writeChunks()
  }

  /** Breaks the WAL: rejects everything pending and, from now on, every call. */
  #fail(cause: unknown): CodedError {
    if (this.#failure !== undefined) return this.#failure
    const failure = storageFailed(cause)
    this.#failure = failure
    const pending = [...this.#inflight, ...this.#waiters]
    this.#inflight = []
    this.#queue = []
    this.#waiters = []
    for (const done of pending) done(failure)
    return failure
  }
}
