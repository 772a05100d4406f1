/**
 * The small binary format of the edge's replicated records (commands, the session table,
 * state snapshots): a leading format version byte, then fields in a fixed order. Integers
 * are unsigned LEB128 varints (canonical: the shortest form) or fixed little-endian words;
 * bytes and strings carry a varint length. Encoders measure first and write into one
 * exactly sized buffer. The reader is strict, so a decoded value re-encodes to the same
 * bytes, and anything else fails with the caller's `CodedError`.
 *
 * @module
 */

import type { CodedError } from '@rony/interface'

/** Largest uint32. */
export const U32_MAX = 0xffff_ffff
const U64_MAX = 0xffff_ffff_ffff_ffffn

/** Below this many characters a loop beats TextEncoder/TextDecoder (a builtin call). */
const SHORT = 32
const encoder = new TextEncoder()
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const scratch = new DataView(new ArrayBuffer(8))

/** Encoded size of a varint holding the non-negative safe integer `n`. */
export function varintSize(n: number): number {
  let size = 1
  for (; n >= 0x80; n = Math.floor(n / 0x80)) size++
  return size
}

/** Writes the non-negative safe integer `n` as a varint at `pos`; returns the position after. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  // Above 2^31 bit operations would truncate: divide instead.
  while (n > 0x7fff_ffff) {
    buf[pos++] = (n % 0x80) | 0x80
    n = Math.floor(n / 0x80)
  }
  while (n > 0x7f) {
    buf[pos++] = (n & 0x7f) | 0x80
    n >>>= 7
  }
  buf[pos] = n
  return pos + 1
}

/**
 * The UTF-8 length of `text`, as TextEncoder writes it: a surrogate without its pair becomes
 * U+FFFD (3 bytes), so such a string does not come back unchanged.
 */
export function utf8Size(text: string): number {
  let size = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) size += 1
    else if (c < 0x800) size += 2
    else if ((c & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      i++
      size += 4
    } else size += 3
  }
  return size
}

/** Size of a length-prefixed field holding `length` bytes. */
export function prefixedSize(length: number): number {
  return varintSize(length) + length
}

/** Writes `text` with its varint UTF-8 length; `size` is `utf8Size(text)`. */
export function writeString(buf: Uint8Array, pos: number, text: string, size: number): number {
  return writeUtf8(buf, writeVarint(buf, pos, size), text, size)
}

/** Writes `text` as UTF-8, no length; `size` is `utf8Size(text)`. */
export function writeUtf8(buf: Uint8Array, pos: number, text: string, size: number): number {
  if (size === text.length && size <= SHORT) {
    // All ASCII (any other character takes more bytes than UTF-16 units).
    for (let i = 0; i < size; i++) buf[pos + i] = text.charCodeAt(i)
  } else {
    encoder.encodeInto(text, buf.subarray(pos, pos + size))
  }
  return pos + size
}

/** Writes `bytes` with its varint length. */
export function writeBytes(buf: Uint8Array, pos: number, bytes: Uint8Array): number {
  pos = writeVarint(buf, pos, bytes.length)
  buf.set(bytes, pos)
  return pos + bytes.length
}

/** Writes a uint32 as 4 little-endian bytes. */
export function writeU32(buf: Uint8Array, pos: number, n: number): number {
  buf[pos] = n
  buf[pos + 1] = n >>> 8
  buf[pos + 2] = n >>> 16
  buf[pos + 3] = n >>> 24
  return pos + 4
}

/** Writes a uint64 as 8 little-endian bytes; the caller checked {@link isU64}. */
export function writeU64(buf: Uint8Array, pos: number, n: bigint): number {
  scratch.setBigUint64(0, n, true)
  return writeU32(buf, writeU32(buf, pos, scratch.getUint32(0, true)), scratch.getUint32(4, true))
}

export function isU32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= U32_MAX
}

export function isU64(n: unknown): n is bigint {
  return typeof n === 'bigint' && n >= 0n && n <= U64_MAX
}

export function isSafeCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

/**
 * A strict reader over one encoded record. Every read names its field, so the error says
 * what is wrong; `fail` makes the caller's coded error from that detail.
 */
export class ByteReader {
  private pos = 0

  constructor(
    private readonly buf: Uint8Array,
    private readonly fail: (detail: string) => CodedError,
  ) {}

  /** Bytes left to read. */
  get remaining(): number {
    return this.buf.length - this.pos
  }

  /** Reads the version byte and checks it. */
  version(expected: number): void {
    if (this.buf.length === 0) throw this.fail('empty input')
    const version = this.buf[this.pos++]!
    if (version !== expected) {
      throw this.fail(`format version ${version}, this code reads ${expected}`)
    }
  }

  /** A canonical varint no larger than `max` (at most `Number.MAX_SAFE_INTEGER`). */
  uint(field: string, max: number = Number.MAX_SAFE_INTEGER): number {
    const { buf } = this
    let value = 0
    let scale = 1
    for (;;) {
      if (this.pos >= buf.length) throw this.fail(`truncated ${field}`)
      const b = buf[this.pos++]!
      value += (b & 0x7f) * scale
      if (value > max) throw this.fail(`${field} is above ${max}`)
      if (b < 0x80) {
        if (b === 0 && scale > 1) throw this.fail(`${field} is not in its shortest form`)
        return value
      }
      scale *= 0x80
      // A ninth byte would hold bits above 2^56: past any safe integer.
      if (scale > 2 ** 49) throw this.fail(`${field} is above ${max}`)
    }
  }

  /** A uint32 in 4 little-endian bytes. */
  u32(field: string): number {
    const { buf, pos } = this
    if (buf.length - pos < 4) throw this.fail(`truncated ${field}`)
    this.pos += 4
    return (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0
  }

  /** A uint64 in 8 little-endian bytes. */
  u64(field: string): bigint {
    const lo = this.u32(field)
    const hi = this.u32(field)
    if (hi === 0) return BigInt(lo)
    scratch.setUint32(0, lo, true)
    scratch.setUint32(4, hi, true)
    return scratch.getBigUint64(0, true)
  }

  /** A length-prefixed field as a view into the input (not a copy). */
  view(field: string): Uint8Array {
    const length = this.length(field)
    const { buf } = this
    const start = this.pos
    this.pos += length
    // A plain Uint8Array view, also when the input is a Node Buffer (whose `subarray`
    // goes through Buffer's species constructor).
    return new Uint8Array(buf.buffer, buf.byteOffset + start, length)
  }

  /** A length-prefixed field copied out, so it does not keep the whole input alive. */
  copy(field: string): Uint8Array {
    const view = this.view(field)
    const copy = new Uint8Array(view.length)
    copy.set(view)
    return copy
  }

  /** A length-prefixed UTF-8 string; malformed UTF-8 fails. */
  string(field: string): string {
    return this.stringOf(field, this.length(field))
  }

  /** A varint length prefix, checked against the bytes that remain after it. */
  private length(field: string): number {
    const length = this.uint(`${field} length`)
    if (length > this.buf.length - this.pos) throw this.fail(`truncated ${field}`)
    return length
  }

  /** A UTF-8 string of `length` bytes (already read); malformed UTF-8 fails. */
  stringOf(field: string, length: number): string {
    if (length > this.buf.length - this.pos) throw this.fail(`truncated ${field}`)
    const { buf } = this
    const start = this.pos
    const end = start + length
    this.pos = end
    if (length <= SHORT) {
      let text = ''
      for (let i = start; i < end; i++) {
        const c = buf[i]!
        if (c >= 0x80) return text + this.decodeUtf8(field, i, end)
        text += String.fromCharCode(c)
      }
      return text
    }
    return this.decodeUtf8(field, start, end)
  }

  /** Fails unless every byte was read. */
  end(): void {
    if (this.pos !== this.buf.length) {
      throw this.fail(`${this.buf.length - this.pos} trailing bytes`)
    }
  }

  private decodeUtf8(field: string, start: number, end: number): string {
    try {
      return strictDecoder.decode(this.buf.subarray(start, end))
    } catch {
      throw this.fail(`${field} is not valid UTF-8`)
    }
  }
}
