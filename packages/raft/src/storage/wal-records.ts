/**
 * The payloads of the WAL's record types, encoded with DataView (fixed little-endian
 * fields; see {@link RecordType} for what each record means):
 *
 * | Record | Payload |
 * | --- | --- |
 * | Entry | index u64, term u64, kind u8 (1 command, 2 configuration, 3 noop), data |
 * | HardState | term u64, has-vote u8, votedFor UTF-8 |
 * | Snapshot | index u64, term u64, keep u8 (1: entries after index kept, 0: all dropped) |
 * | SegmentStart | seq u64, snapshot index u64, snapshot term u64, last index u64, term u64, has-vote u8, votedFor UTF-8 |
 *
 * The Snapshot record stores the outcome of the "does the log hold the snapshot's last
 * entry" test rather than re-running it on replay: after old segments are deleted, replay
 * starts mid-log and could no longer see the entry the test looked at. SegmentStart carries
 * the last index too, so that replay starting after deleted segments knows which entries it
 * has not seen, and can tell entries lost with a missing segment from entries a snapshot
 * covers.
 *
 * @module
 */

import { getU64, setU64, utf8Decoder, utf8Encoder, viewOf } from './bytes.js'
import type { LogState } from './log-state.js'
import type { EntryKind, HardState, LogEntry } from './types.js'
import { allocRecord, HEADER_BYTES, RecordType, type RecordTypeValue, seal } from './wal-format.js'

/** A decoded record. */
export type WalOp =
  | { readonly type: 'entry'; readonly entry: LogEntry }
  | { readonly type: 'hardState'; readonly hardState: HardState }
  | {
      readonly type: 'snapshot'
      readonly index: number
      readonly term: number
      readonly keep: boolean
    }
  | {
      readonly type: 'segmentStart'
      readonly seq: number
      readonly snapshotIndex: number
      readonly snapshotTerm: number
      readonly lastIndex: number
      readonly hardState: HardState
    }

const KINDS: readonly EntryKind[] = ['command', 'configuration', 'noop']

export function encodeEntry(entry: LogEntry): Uint8Array {
  const record = allocRecord(17 + entry.data.length)
  const view = viewOf(record)
  setU64(view, HEADER_BYTES, entry.index)
  setU64(view, HEADER_BYTES + 8, entry.term)
  record[HEADER_BYTES + 16] = KINDS.indexOf(entry.kind) + 1
  record.set(entry.data, HEADER_BYTES + 17)
  return seal(record, RecordType.Entry)
}

export function encodeHardState(state: HardState): Uint8Array {
  return encodeWithVote(RecordType.HardState, [state.term], state.votedFor)
}

export function encodeSnapshotMarker(index: number, term: number, keep: boolean): Uint8Array {
  const record = allocRecord(17)
  const view = viewOf(record)
  setU64(view, HEADER_BYTES, index)
  setU64(view, HEADER_BYTES + 8, term)
  record[HEADER_BYTES + 16] = keep ? 1 : 0
  return seal(record, RecordType.Snapshot)
}

/** The start record of segment `seq`, holding the state of `log` where the segment begins. */
export function encodeSegmentStart(seq: number, log: LogState): Uint8Array {
  const { snapshotIndex, snapshotTerm, lastIndex, hardState } = log
  const fields = [seq, snapshotIndex, snapshotTerm, lastIndex, hardState.term]
  return encodeWithVote(RecordType.SegmentStart, fields, hardState.votedFor)
}

/** Records that end with u64 fields, a has-vote byte and the vote's UTF-8. */
function encodeWithVote(
  type: RecordTypeValue,
  fields: readonly number[],
  votedFor: string | undefined,
): Uint8Array {
  const vote = votedFor === undefined ? new Uint8Array(0) : utf8Encoder.encode(votedFor)
  const record = allocRecord(fields.length * 8 + 1 + vote.length)
  const view = viewOf(record)
  for (const [i, value] of fields.entries()) setU64(view, HEADER_BYTES + i * 8, value)
  const at = HEADER_BYTES + fields.length * 8
  record[at] = votedFor === undefined ? 0 : 1
  record.set(vote, at + 1)
  return seal(record, type)
}

/**
 * Decodes a record whose checksums passed. Throws (with the reason) on a payload that does
 * not fit its type: behind a valid checksum that is damage or a foreign writer, never a
 * torn write. Entry data is copied (not a view: `Buffer#slice` would be one), so the
 * segment's buffer can be released.
 */
export function decodeRecord(type: RecordTypeValue, payload: Uint8Array): WalOp {
  const view = viewOf(payload)
  switch (type) {
    case RecordType.Entry: {
      need(payload, 17, 'entry')
      const kind = KINDS[payload[16]! - 1]
      if (kind === undefined) throw new Error(`unknown entry kind ${payload[16]}`)
      const index = getU64(view, 0, 'entry index')
      const term = getU64(view, 8, 'entry term')
      return {
        type: 'entry',
        entry: { index, term, kind, data: new Uint8Array(payload.subarray(17)) },
      }
    }
    case RecordType.HardState:
      return { type: 'hardState', hardState: decodeHardState(payload, view, 0) }
    case RecordType.Snapshot: {
      need(payload, 17, 'snapshot')
      if (payload.length !== 17 || payload[16]! > 1) throw new Error('malformed snapshot record')
      const index = getU64(view, 0, 'snapshot index')
      const term = getU64(view, 8, 'snapshot term')
      return { type: 'snapshot', index, term, keep: payload[16] === 1 }
    }
    case RecordType.SegmentStart:
      need(payload, 32, 'segment start')
      return {
        type: 'segmentStart',
        seq: getU64(view, 0, 'segment sequence number'),
        snapshotIndex: getU64(view, 8, 'snapshot index'),
        snapshotTerm: getU64(view, 16, 'snapshot term'),
        lastIndex: getU64(view, 24, 'last index'),
        hardState: decodeHardState(payload, view, 32),
      }
  }
}

function decodeHardState(payload: Uint8Array, view: DataView, at: number): HardState {
  need(payload, at + 9, 'hard state')
  const term = getU64(view, at, 'term')
  const flag = payload[at + 8]!
  if (flag > 1 || (flag === 0 && payload.length > at + 9)) throw new Error('malformed vote')
  const votedFor = flag === 1 ? utf8Decoder.decode(payload.subarray(at + 9)) : undefined
  return { term, votedFor }
}

function need(payload: Uint8Array, n: number, what: string): void {
  if (payload.length < n) throw new Error(`${what} record too short (${payload.length} bytes)`)
}
