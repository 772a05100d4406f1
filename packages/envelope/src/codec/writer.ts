import { utf8Length, writeUtf8 } from './utf8.js'

/**
 * Sizing and writing helpers for a protobuf encoder that measures first and then writes
 * into one exactly sized buffer: no growth, no copies, one allocation per message.
 */

const U64_MAX = 0xffff_ffff_ffff_ffffn
/**
 * A uint64 bigint split into uint32 halves: `load` fills `lo` and `hi`. Writing through a
 * DataView takes the value apart without allocating bigints or arrays.
 */
export class Uint64Halves {
  lo = 0
  hi = 0
  private readonly view = new DataView(new ArrayBuffer(8))

  /** Rejects values outside [0, 2^64) with a TypeError naming `field`. */
  load(value: bigint, field: string): void {
    if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
      throw new TypeError(`${field} must be a bigint in [0, 2^64), got ${String(value)}`)
    }
    this.view.setBigUint64(0, value, true)
    this.lo = this.view.getUint32(0, true)
    this.hi = this.view.getUint32(4, true)
  }
}

export function varint32Size(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5
}

export function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varint32Size(lo)
  return hi < 0x8
    ? 5
    : hi < 0x400
      ? 6
      : hi < 0x20000
        ? 7
        : hi < 0x1000000
          ? 8
          : hi < 0x80000000
            ? 9
            : 10
}

/** Size of a length-delimited field's value with its length prefix (tag excluded). */
export function delimitedSize(length: number): number {
  return varint32Size(length) + length
}

export function stringFieldSize(text: string): number {
  return 1 + delimitedSize(utf8Length(text))
}

/** A cursor over a buffer that the caller sized exactly. */
export class WireWriter {
  pos = 0
  constructor(readonly buf: Uint8Array) {}

  byte(value: number): void {
    this.buf[this.pos++] = value
  }

  uint32(value: number): void {
    const { buf } = this
    while (value > 0x7f) {
      buf[this.pos++] = (value & 0x7f) | 0x80
      value >>>= 7
    }
    buf[this.pos++] = value
  }

  uint64(lo: number, hi: number): void {
    const { buf } = this
    while (hi !== 0) {
      buf[this.pos++] = (lo & 0x7f) | 0x80
      lo = ((lo >>> 7) | (hi << 25)) >>> 0
      hi >>>= 7
    }
    this.uint32(lo)
  }

  fixed64(lo: number, hi: number): void {
    const { buf, pos } = this
    buf[pos] = lo
    buf[pos + 1] = lo >>> 8
    buf[pos + 2] = lo >>> 16
    buf[pos + 3] = lo >>> 24
    buf[pos + 4] = hi
    buf[pos + 5] = hi >>> 8
    buf[pos + 6] = hi >>> 16
    buf[pos + 7] = hi >>> 24
    this.pos = pos + 8
  }

  bytes(value: Uint8Array): void {
    this.uint32(value.length)
    this.buf.set(value, this.pos)
    this.pos += value.length
  }

  string(text: string): void {
    const length = utf8Length(text)
    this.uint32(length)
    this.pos = writeUtf8(text, this.buf, this.pos)
  }
}
