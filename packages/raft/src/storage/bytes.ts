/**
 * Little-endian field helpers shared by the WAL record and snapshot file codecs. Index and
 * term are stored as 64-bit fields so the format never needs to change, but are read back
 * as JavaScript numbers: a value above `Number.MAX_SAFE_INTEGER` could only come from
 * damage (or a foreign writer), so it is rejected rather than rounded.
 *
 * @module
 */

const TWO_32 = 2 ** 32

/** Writes a non-negative safe integer as an unsigned 64-bit little-endian field. */
export function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % TWO_32, true)
  view.setUint32(offset + 4, Math.floor(value / TWO_32), true)
}

/** Reads an unsigned 64-bit little-endian field; throws when it exceeds 2^53 - 1. */
export function getU64(view: DataView, offset: number, field: string): number {
  const value = view.getUint32(offset + 4, true) * TWO_32 + view.getUint32(offset, true)
  if (!Number.isSafeInteger(value)) throw new Error(`${field} ${value} exceeds 2^53 - 1`)
  return value
}

/** A DataView over exactly the bytes of `bytes`, which may be a view into a larger buffer. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Joins byte chunks into one buffer, so a batch reaches the file in a single write. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!
  let size = 0
  for (const chunk of chunks) size += chunk.length
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

export const utf8Encoder = new TextEncoder()

/** Strict: invalid UTF-8 behind a valid checksum is damage, not something to paper over. */
export const utf8Decoder = new TextDecoder('utf-8', { fatal: true })
