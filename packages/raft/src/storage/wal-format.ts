/**
 * The framing of WAL records and the scan that finds where a segment's valid data ends.
 *
 * A record is a 13-byte header and a payload:
 *
 * | Offset | Size | Field |
 * | --- | --- | --- |
 * | 0 | 4 | payload length `n` (u32 LE) |
 * | 4 | 1 | record type (1..4, see {@link RecordType}) |
 * | 5 | 4 | body CRC-32C, over the type byte and the payload |
 * | 9 | 4 | header CRC-32C, over bytes 0..9 |
 * | 13 | n | payload |
 *
 * The header has its own checksum so the length can be trusted before the payload is read.
 * That is what separates the two kinds of damage recovery must tell apart:
 *
 * - a **torn tail**, left by a crash during a write: the last record is cut short, or the
 *   file ends in zeros (a file system that grew the file before writing its data). Nothing
 *   valid follows it, and no acknowledged write is lost by cutting it off;
 * - **corruption**: a damaged record with valid records after it. Cutting the log there would
 *   silently drop acknowledged entries, so recovery refuses to open instead.
 *
 * A zero-filled header never passes: type 0 is invalid and the CRC of zeros is not zero.
 *
 * @module
 */

import { crc32c } from './crc32c.js'

export const HEADER_BYTES = 13

/** The record types. Values are part of the on-disk format: never renumber. */
export const RecordType = {
  /** One log entry. */
  Entry: 1,
  /** Term and vote. */
  HardState: 2,
  /** A snapshot became durable: compact the log up to it. */
  Snapshot: 3,
  /** First record of every segment: its sequence number and the state it starts from. */
  SegmentStart: 4,
} as const

export type RecordTypeValue = (typeof RecordType)[keyof typeof RecordType]

const MAX_TYPE = RecordType.SegmentStart

/** A record found by {@link scanSegment}; `payload` is a view into the segment's bytes. */
export interface ScannedRecord {
  readonly type: RecordTypeValue
  readonly offset: number
  readonly payload: Uint8Array
}

/** Where and why a scan stopped before the end of the segment. */
export interface Damage {
  readonly offset: number
  readonly reason: string
  /** True when nothing valid follows: a crash's torn write, safe to cut away. */
  readonly torn: boolean
}

export interface ScanResult {
  readonly records: ScannedRecord[]
  /** The first byte after the last valid record. */
  readonly end: number
  readonly damage: Damage | undefined
}

/**
 * Allocates a record with room for an `n`-byte payload at {@link HEADER_BYTES}; fill it and
 * pass it to {@link seal}. Encoding in place saves a copy of every payload.
 */
export function allocRecord(n: number): Uint8Array {
  return new Uint8Array(HEADER_BYTES + n)
}

/** Writes the header of a record built with {@link allocRecord}. */
export function seal(record: Uint8Array, type: RecordTypeValue): Uint8Array {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength)
  view.setUint32(0, record.length - HEADER_BYTES, true)
  record[4] = type
  view.setUint32(5, bodyCrc(record, 0, record.length - HEADER_BYTES), true)
  view.setUint32(9, crc32c(record, 0, 0, 9), true)
  return record
}

function bodyCrc(bytes: Uint8Array, at: number, n: number): number {
  return crc32c(bytes, crc32c(bytes, 0, at + 4, at + 5), at + HEADER_BYTES, at + HEADER_BYTES + n)
}

function u32(bytes: Uint8Array, at: number): number {
  return (
    (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0
  )
}

/** Tells whether a well-formed header starts at `at` (cheap: a CRC over 9 bytes). */
function headerValid(bytes: Uint8Array, at: number): boolean {
  const type = bytes[at + 4]!
  return type >= 1 && type <= MAX_TYPE && u32(bytes, at + 9) === crc32c(bytes, 0, at, at + 9)
}

/** Tells whether a complete, valid record starts at `at`. */
function recordValid(bytes: Uint8Array, at: number): boolean {
  if (at + HEADER_BYTES > bytes.length || !headerValid(bytes, at)) return false
  const n = u32(bytes, at)
  return at + HEADER_BYTES + n <= bytes.length && u32(bytes, at + 5) === bodyCrc(bytes, at, n)
}

/**
 * Tells whether a valid record starts anywhere in `bytes[from, end)`. Runs only on damage,
 * and the type-byte filter skips most offsets without computing a checksum.
 */
function validRecordFrom(bytes: Uint8Array, from: number): boolean {
  for (let at = from; at + HEADER_BYTES <= bytes.length; at++) {
    const type = bytes[at + 4]!
    if (type >= 1 && type <= MAX_TYPE && recordValid(bytes, at)) return true
  }
  return false
}

/**
 * Reads the records of one segment file, stopping at the first damaged one and saying
 * whether that damage is a torn tail (nothing valid after it) or corruption.
 */
export function scanSegment(bytes: Uint8Array): ScanResult {
  const records: ScannedRecord[] = []
  let at = 0
  const stop = (reason: string, torn: boolean): ScanResult => ({
    records,
    end: at,
    damage: { offset: at, reason, torn },
  })
  while (at < bytes.length) {
    if (at + HEADER_BYTES > bytes.length) return stop('incomplete record header', true)
    if (!headerValid(bytes, at)) {
      const zeros = bytes.subarray(at).every((b) => b === 0)
      const reason = zeros ? 'zero-filled tail' : 'record header checksum mismatch'
      return stop(reason, zeros || !validRecordFrom(bytes, at + 1))
    }
    const n = u32(bytes, at)
    const next = at + HEADER_BYTES + n
    if (next > bytes.length) return stop('record extends past the end of the file', true)
    if (u32(bytes, at + 5) !== bodyCrc(bytes, at, n)) {
      return stop('record checksum mismatch', !validRecordFrom(bytes, next))
    }
    records.push({
      type: bytes[at + 4] as RecordTypeValue,
      offset: at,
      payload: bytes.subarray(at + HEADER_BYTES, next),
    })
    at = next
  }
  return { records, end: at, damage: undefined }
}
