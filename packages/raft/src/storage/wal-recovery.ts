/**
 * Opening a WAL directory: find the segments and the snapshot, verify and replay every
 * record, cut a crash's torn tail off the last segment, and leave that segment open for
 * appending.
 *
 * Recovery is strict about everything except the torn tail: a damaged record with valid
 * records after it, damage in any segment but the last, a missing segment (the newest one
 * too: `wal.head` names it, see {@link readWalHead}), a snapshot the log names but cannot
 * be read: each refuses to open with a coded error naming the file and byte offset. The
 * torn tail is cut off and logged on the error channel with the bytes it dropped.
 * Opening anyway would serve a log that silently lost acknowledged
 * entries, which breaks Raft's safety; an operator restoring the node is the better outcome.
 *
 * @module
 */

import { dirname, join } from 'node:path'
import type { Logger } from '@rony/interface'
import { snapshotCorrupt, walCorrupt } from './errors.js'
import { type StorageFile, type StorageFs, TEMP_SUFFIX } from './fs.js'
import { LogState } from './log-state.js'
import { hex16, readSnapshotFile, SNAPSHOT_FILE, snapshotName } from './snapshot-file.js'
import type { Snapshot } from './types.js'
import { scanSegment } from './wal-format.js'
import { readWalHead, WAL_HEAD_FILE, writeWalHead } from './wal-head.js'
import { decodeRecord, encodeSegmentStart, type WalOp } from './wal-records.js'

const SEGMENT_FILE = /^([0-9a-f]{16})\.wal$/

export function segmentName(seq: number): string {
  return `${hex16(seq)}.wal`
}

/** A segment and the highest entry index written to it (0 for none). */
export interface SegmentInfo {
  readonly seq: number
  maxIndex: number
}

export interface RecoveredWal {
  readonly log: LogState
  readonly snapshot: Snapshot | undefined
  /** The name of the current snapshot's file. */
  readonly snapshotFile: string | undefined
  /** Oldest first; the last one is open in `file`. */
  readonly segments: SegmentInfo[]
  readonly file: StorageFile
  readonly fileBytes: number
}

/**
 * Recovers the WAL in `dir` (creating the directory and a first segment when empty). After
 * it returns, everything it read is durable: recovery fdatasyncs the last segment and the
 * directory, because after a process crash (no power loss) it may have read writes that
 * were still only in the OS cache.
 */
export async function recoverWal(fs: StorageFs, dir: string, log: Logger): Promise<RecoveredWal> {
  const seqs: number[] = []
  const snapshotFiles: string[] = []
  for (const name of await fs.readdir(dir)) {
    const segment = SEGMENT_FILE.exec(name)
    if (segment) seqs.push(Number.parseInt(segment[1]!, 16))
    else if (SNAPSHOT_FILE.test(name)) snapshotFiles.push(name)
    else if (name.endsWith(TEMP_SUFFIX)) await fs.unlink(join(dir, name))
  }
  seqs.sort((a, b) => a - b)
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] !== seqs[i - 1]! + 1) {
      const missing = segmentName(seqs[i - 1]! + 1)
      throw walCorrupt(missing, 0, `missing, but ${segmentName(seqs[i]!)} follows it`)
    }
  }
  const head = await readWalHead(fs, dir)
  const newest = seqs.at(-1) ?? 0
  if (newest < head) {
    const reason = `missing: ${WAL_HEAD_FILE} names it as the newest segment, so the tail of the log (entries, term and vote) is gone`
    throw walCorrupt(segmentName(head), 0, reason)
  }
  if (seqs.length === 0 && snapshotFiles.length > 0) {
    throw walCorrupt(segmentName(1), 0, 'no WAL segment, but the directory holds snapshots')
  }

  const replay = new Replay()
  const segments: SegmentInfo[] = []
  let tail = { size: 0, end: 0, empty: true }
  for (const [i, seq] of seqs.entries()) {
    const name = segmentName(seq)
    const bytes = await fs.readFile(join(dir, name))
    const { maxIndex, end, empty } = replay.segment(name, seq, bytes, i === seqs.length - 1)
    segments.push({ seq, maxIndex })
    tail = { size: bytes.length, end, empty }
  }
  const state = replay.log
  if (replay.missingUpTo > state.snapshotIndex) {
    const reason = `entries ${state.snapshotIndex + 1}..${replay.missingUpTo} are in no segment and no snapshot`
    throw walCorrupt(segmentName(seqs[0]!), 0, reason)
  }
  // Only a roll cut short by a crash leaves an empty segment, and it is newer than the head.
  if (tail.empty && newest > 0 && newest <= head) {
    const reason = `empty, but ${WAL_HEAD_FILE} records its start as durable: the tail of the log (entries, term and vote) is gone`
    throw walCorrupt(segmentName(newest), 0, reason)
  }

  let snapshot: Snapshot | undefined
  let snapshotFile: string | undefined
  if (state.snapshotIndex > 0) {
    snapshotFile = snapshotName(state.snapshotIndex, state.snapshotTerm)
    snapshot = await readSnapshotFile(fs, dir, snapshotFile)
    if (snapshot.meta.index !== state.snapshotIndex || snapshot.meta.term !== state.snapshotTerm) {
      throw snapshotCorrupt(snapshotFile, 'its header does not match its name')
    }
  }
  // Older snapshots whose deletion was cut short, or a newer one whose WAL record was not.
  for (const name of snapshotFiles) {
    if (name !== snapshotFile) await fs.unlink(join(dir, name))
  }

  const seq = seqs.at(-1) ?? 1
  if (segments.length === 0) segments.push({ seq, maxIndex: 0 })
  const file = await fs.open(join(dir, segmentName(seq)), 'append')
  try {
    if (tail.end < tail.size) {
      const dropped = tail.size - tail.end
      log.warn(
        'WAL %s: cut a torn tail of %d bytes at byte %d (a write cut short by a crash)',
        segmentName(seq),
        dropped,
        tail.end,
      )
      await file.truncate(tail.end)
    }
    let fileBytes = tail.end
    if (tail.empty) {
      // A new segment, or one whose start record was torn: every segment starts with one.
      const start = encodeSegmentStart(seq, state)
      await file.append(start)
      fileBytes += start.length
    }
    await file.datasync()
    await fs.syncDir(dir)
    // A new directory's own entry is durable only once its parent is synced.
    if (seqs.length === 0) await fs.syncDir(dirname(dir))
    if (head !== seq) await writeWalHead(fs, dir, seq)
    return { log: state, snapshot, snapshotFile, segments, file, fileBytes }
  } catch (err) {
    await file.close().catch(() => {})
    throw err
  }
}

/**
 * Replays records into a {@link LogState}, checking that they form one consistent history.
 *
 * Replay may start at a segment whose predecessors were deleted: its start record says the
 * log then reached `lastIndex`, so entries up to there exist but were not seen. They are
 * tracked as `missingUpTo` and must be covered by a snapshot (or replaced by a conflicting
 * append) by the end, else a segment holding live entries is gone.
 */
class Replay {
  readonly log = new LogState()
  missingUpTo = 0
  #started = false

  /** Replays one segment; throws `RONY_ERR_WAL_CORRUPT` on damage it may not cut. */
  segment(name: string, seq: number, bytes: Uint8Array, last: boolean) {
    const { records, end, damage } = scanSegment(bytes)
    if (damage !== undefined && !(last && damage.torn)) {
      throw walCorrupt(name, damage.offset, damage.reason)
    }
    if (records.length === 0 && !last) throw walCorrupt(name, 0, 'empty segment before the last')
    let maxIndex = 0
    for (const [i, record] of records.entries()) {
      try {
        const op = decodeRecord(record.type, record.payload)
        if ((i === 0) !== (op.type === 'segmentStart')) {
          throw new Error(
            i === 0 ? 'segment does not begin with a start record' : 'misplaced start record',
          )
        }
        maxIndex = Math.max(maxIndex, this.#apply(op, seq))
      } catch (err) {
        throw walCorrupt(name, record.offset, (err as Error).message)
      }
    }
    return { maxIndex, end, empty: records.length === 0 }
  }

  get #lastIndex(): number {
    return this.log.entries.at(-1)?.index ?? Math.max(this.log.snapshotIndex, this.missingUpTo)
  }

  /** Applies one record; returns the entry's index for an entry record, else 0. */
  #apply(op: WalOp, seq: number): number {
    const log = this.log
    switch (op.type) {
      case 'segmentStart':
        if (op.seq !== seq) throw new Error(`start record of segment ${op.seq} in segment ${seq}`)
        if (!this.#started) {
          this.#started = true
          log.hardState = op.hardState
          log.compact(op.snapshotIndex, op.snapshotTerm, true)
          this.missingUpTo = op.lastIndex
        } else if (
          op.lastIndex !== this.#lastIndex ||
          op.snapshotIndex !== log.snapshotIndex ||
          op.snapshotTerm !== log.snapshotTerm ||
          op.hardState.term !== log.hardState.term ||
          op.hardState.votedFor !== log.hardState.votedFor
        ) {
          throw new Error('start record does not match the segments before it')
        }
        return 0
      case 'hardState':
        log.hardState = op.hardState
        return 0
      case 'snapshot':
        log.compact(op.index, op.term, op.keep)
        if (!op.keep || op.index >= this.missingUpTo) this.missingUpTo = 0
        return 0
      case 'entry': {
        const { index } = op.entry
        if (index <= log.snapshotIndex) {
          throw new Error(`entry ${index} at or below the snapshot (${log.snapshotIndex})`)
        }
        if (index > this.#lastIndex + 1) {
          throw new Error(`entry ${index} leaves a gap after entry ${this.#lastIndex}`)
        }
        this.missingUpTo = Math.min(this.missingUpTo, index - 1)
        log.append([op.entry])
        return index
      }
    }
  }
}
