import { invalidEnvelope } from '../errors.js'
import { readUtf8 } from './utf8.js'

const WIRE_VARINT = 0
const WIRE_FIXED64 = 1
const WIRE_BYTES = 2
const WIRE_START_GROUP = 3
const WIRE_END_GROUP = 4
const WIRE_FIXED32 = 5

/** Deepest nesting of unknown groups skipped before the input is called malformed. */
const MAX_GROUP_DEPTH = 64

const scratch = new DataView(new ArrayBuffer(8))

/** Joins two uint32 halves into a uint64 bigint. */
function toBigUint64(lo: number, hi: number): bigint {
  if (hi === 0) return BigInt(lo >>> 0)
  scratch.setUint32(0, lo, true)
  scratch.setUint32(4, hi, true)
  return scratch.getBigUint64(0, true)
}

/**
 * A bounds-checked protobuf reader over one buffer. Every read past `end`, every
 * malformed varint and every bad wire type throws `RonyError` E01/ENVELOPE; nothing
 * else escapes, whatever the bytes.
 */
export class WireReader {
  pos = 0
  /** Reads never pass this offset; nested messages lower it with `limit`. */
  end: number

  constructor(readonly buf: Uint8Array) {
    this.end = buf.length
  }

  private byte(): number {
    if (this.pos >= this.end) throw invalidEnvelope('truncated message')
    return this.buf[this.pos++]!
  }

  /**
   * A varint that must fit in 32 bits: tags and lengths. Padded (non-canonical) encodings
   * up to 10 bytes are accepted, as Go's decoder does, as long as the value fits.
   */
  uint32(): number {
    let value = 0
    for (let shift = 0; shift < 28; shift += 7) {
      const b = this.byte()
      value |= (b & 0x7f) << shift
      if (b < 0x80) return value >>> 0
    }
    let b = this.byte()
    if ((b & 0x70) !== 0) throw invalidEnvelope('varint does not fit in 32 bits')
    value |= b << 28
    for (let i = 5; b >= 0x80; i++) {
      if (i === 10) throw invalidEnvelope('varint longer than 10 bytes')
      b = this.byte()
      if ((b & 0x7f) !== 0) throw invalidEnvelope('varint does not fit in 32 bits')
    }
    return value >>> 0
  }

  /** A uint64 varint as a bigint. */
  uint64(): bigint {
    let lo = 0
    let hi = 0
    let b = 0
    for (let shift = 0; shift < 28; shift += 7) {
      b = this.byte()
      lo |= (b & 0x7f) << shift
      if (b < 0x80) return toBigUint64(lo, 0)
    }
    b = this.byte()
    lo |= (b & 0x7f) << 28
    hi = (b & 0x7f) >>> 4
    if (b < 0x80) return toBigUint64(lo, hi)
    for (let shift = 3; shift < 31; shift += 7) {
      b = this.byte()
      hi |= (b & 0x7f) << shift
      if (b < 0x80) return toBigUint64(lo, hi)
    }
    b = this.byte()
    if (b > 1) throw invalidEnvelope('varint overflows 64 bits')
    return toBigUint64(lo, hi | (b << 31))
  }

  /**
   * A varint read as a boolean (any non-zero value is true, as protobuf decoders do); also
   * how unknown varints are skipped. Rejects varints that overflow 64 bits, as `uint64` does.
   */
  bool(): boolean {
    let any = 0
    for (let i = 0; i < 9; i++) {
      const b = this.byte()
      any |= b & 0x7f
      if (b < 0x80) return any !== 0
    }
    const b = this.byte()
    if (b > 1) throw invalidEnvelope('varint overflows 64 bits')
    return (any | b) !== 0
  }

  /** A little-endian fixed64 as a bigint. */
  fixed64(): bigint {
    if (this.end - this.pos < 8) throw invalidEnvelope('truncated fixed64')
    const { buf, pos } = this
    this.pos += 8
    const lo = buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)
    const hi = buf[pos + 4]! | (buf[pos + 5]! << 8) | (buf[pos + 6]! << 16) | (buf[pos + 7]! << 24)
    return toBigUint64(lo >>> 0, hi >>> 0)
  }

  /** Reads a length prefix and checks that many bytes remain. */
  length(): number {
    const length = this.uint32()
    if (length > this.end - this.pos) throw invalidEnvelope('length exceeds the remaining bytes')
    return length
  }

  /** A length-delimited field as a view into the input (not a copy). */
  bytes(): Uint8Array {
    const length = this.length()
    const { buf } = this
    const start = buf.byteOffset + this.pos
    this.pos += length
    // A plain Uint8Array view: cheaper to make than `subarray`, which for a Node Buffer
    // input goes through Buffer's species constructor.
    return new Uint8Array(buf.buffer, start, length)
  }

  string(): string {
    const length = this.length()
    const start = this.pos
    this.pos += length
    return readUtf8(this.buf, start, this.pos)
  }

  /** Reads a field tag; field number 0 is malformed. */
  tag(): number {
    const tag = this.uint32()
    if (tag >>> 3 === 0) throw invalidEnvelope('field number 0')
    return tag
  }

  /** Restricts reads to the next `length` bytes; returns the end to restore afterwards. */
  limit(length: number): number {
    const outer = this.end
    this.end = this.pos + length
    return outer
  }

  /**
   * Skips the value of an unknown (or unexpectedly typed) field. A group is skipped up to
   * the end-group of the same field number; a stray or mismatched end-group is malformed.
   */
  skip(tag: number, depth = 0): void {
    switch (tag & 7) {
      case WIRE_VARINT:
        this.bool()
        return
      case WIRE_FIXED64:
        this.advance(8)
        return
      case WIRE_BYTES:
        this.advance(this.length())
        return
      case WIRE_FIXED32:
        this.advance(4)
        return
      case WIRE_START_GROUP: {
        if (depth === MAX_GROUP_DEPTH) throw invalidEnvelope('groups nested too deeply')
        const endTag = (tag & ~7) | WIRE_END_GROUP
        for (let inner = this.tag(); inner !== endTag; inner = this.tag()) {
          this.skip(inner, depth + 1)
        }
        return
      }
      case WIRE_END_GROUP:
        throw invalidEnvelope('unexpected end group')
      default:
        throw invalidEnvelope(`invalid wire type ${tag & 7}`)
    }
  }

  private advance(count: number): void {
    if (count > this.end - this.pos) throw invalidEnvelope('truncated message')
    this.pos += count
  }
}
