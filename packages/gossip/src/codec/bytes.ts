/**
 * Protobuf wire primitives written by hand for the hot paths (every packet, every push-pull
 * entry): sizes computed up front, then one exact allocation, no intermediate objects. They
 * write exactly what protobufjs writes (strings as Node's UTF-8, lone surrogates as U+FFFD;
 * 64-bit varints of numbers up to 2^53) and read only the canonical encodings our peers send:
 * anything else throws {@link Unusual}, and the caller hands the bytes to protobufjs, which
 * decides (see `decodeCompound`).
 */

/** Thrown by the fast reader on input it does not take: protobufjs then decides. */
export class Unusual extends Error {}

const unusual = new Unusual('unusual encoding')

/** Bytes a varint of `n` (an unsigned 32-bit integer) takes. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1
  if (n < 0x4000) return 2
  if (n < 0x200000) return 3
  if (n < 0x10000000) return 4
  return 5
}

/** Bytes a varint of `n` (an integer in 0 … 2^53) takes. */
export function varint64Size(n: number): number {
  if (n < 0x10000000) return varintSize(n)
  let size = 4
  for (let v = Math.floor(n / 0x10000000); v > 0; v = Math.floor(v / 0x80)) size++
  return size
}

/** UTF-8 length of `s` as Node encodes it (one pass; ASCII, the usual case, never leaves it). */
export function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8')
  }
  return s.length
}

/** Size of a varint field (tag below 16) holding `v`, 0 when `v` is 0 (proto3 omits it). */
export const uintField = (v: number): number => (v === 0 ? 0 : 1 + varintSize(v))
/** Size of a 64-bit varint field holding `v`, 0 when 0. */
export const uint64Field = (v: number): number => (v === 0 ? 0 : 1 + varint64Size(v))
/** Size of a length-delimited field with `len` bytes of content, 0 when empty. */
export const lenField = (len: number): number => (len === 0 ? 0 : 1 + varintSize(len) + len)
/** Size of a length-delimited field always written (map entries, repeated messages). */
export const lenFieldAlways = (len: number): number => 1 + varintSize(len) + len

const encoder = new TextEncoder()

/** Writes into a buffer allocated at the exact size up front. */
export class ByteWriter {
  readonly buf: Uint8Array
  pos: number

  constructor(size: number, pos = 0) {
    this.buf = new Uint8Array(size)
    this.pos = pos
  }

  byte(b: number): void {
    this.buf[this.pos++] = b
  }

  varint(n: number): void {
    const buf = this.buf
    let v = n >>> 0
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    buf[this.pos++] = v
  }

  varint64(n: number): void {
    let v = n
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.pos++] = v
  }

  /**
   * A string of `len` UTF-8 bytes (from {@link utf8Length}). Beyond ASCII, as protobufjs's
   * writer in Node: its own encoder below 40 UTF-16 units, Node's from there (they differ only
   * on a lone surrogate: bytes ED xx xx against U+FFFD's EF BF BD, both 3 bytes).
   */
  string(s: string, len: number): void {
    const buf = this.buf
    if (len === s.length) {
      for (let i = 0; i < len; i++) buf[this.pos + i] = s.charCodeAt(i)
      this.pos += len
    } else if (s.length < 40) this.#utf8(s)
    else {
      encoder.encodeInto(s, buf.subarray(this.pos, this.pos + len))
      this.pos += len
    }
  }

  /** protobufjs's `utf8.write`. */
  #utf8(s: string): void {
    const buf = this.buf
    let pos = this.pos
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i)
      if (c < 0x80) buf[pos++] = c
      else if (c < 0x800) {
        buf[pos++] = (c >> 6) | 0xc0
        buf[pos++] = (c & 0x3f) | 0x80
      } else {
        const next = s.charCodeAt(i + 1)
        if ((c & 0xfc00) === 0xd800 && (next & 0xfc00) === 0xdc00) {
          c = 0x10000 + ((c & 0x3ff) << 10) + (next & 0x3ff)
          i++
          buf[pos++] = (c >> 18) | 0xf0
          buf[pos++] = ((c >> 12) & 0x3f) | 0x80
        } else buf[pos++] = (c >> 12) | 0xe0
        buf[pos++] = ((c >> 6) & 0x3f) | 0x80
        buf[pos++] = (c & 0x3f) | 0x80
      }
    }
    this.pos = pos
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos)
    this.pos += b.byteLength
  }

  /** A varint field, omitted when 0. */
  uintField(tag: number, v: number): void {
    if (v === 0) return
    this.buf[this.pos++] = tag
    this.varint(v)
  }

  uint64Field(tag: number, v: number): void {
    if (v === 0) return
    this.buf[this.pos++] = tag
    this.varint64(v)
  }

  /** A string field, omitted when empty. */
  stringField(tag: number, s: string, len: number): void {
    if (len === 0) return
    this.buf[this.pos++] = tag
    this.varint(len)
    this.string(s, len)
  }
}

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const latin1 = Buffer.prototype.latin1Slice as (
  this: Uint8Array,
  start: number,
  end: number,
) => string

/**
 * Reads canonical protobuf from `buf` within `limit`; throws {@link Unusual} on anything else
 * (a read past the limit, a varint longer than it needs, a group, invalid UTF-8).
 */
export class ByteReader {
  readonly buf: Uint8Array
  pos: number
  limit: number

  constructor(buf: Uint8Array, pos = 0, limit = buf.byteLength) {
    this.buf = buf
    this.pos = pos
    this.limit = limit
  }

  /** An unsigned 32-bit varint of at most 5 bytes. */
  varint(): number {
    const buf = this.buf
    let pos = this.pos
    let value = 0
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= this.limit) throw unusual
      const b = buf[pos++]!
      if (shift === 28 && b > 0x0f) throw unusual
      value += (b & 0x7f) * 2 ** shift
      if (b < 0x80) {
        this.pos = pos
        return value
      }
    }
    throw unusual
  }

  /**
   * A uint64 varint as protobufjs with `long` reads it, then as `Long#toNumber()`: exact up to
   * 2^53, rounded above (the caller refuses unsafe ones).
   */
  varint64(): number {
    const buf = this.buf
    let pos = this.pos
    let lo = 0
    let hi = 0
    for (let i = 0; i < 10; i++) {
      if (pos >= this.limit) throw unusual
      const b = buf[pos++]!
      const bits = b & 0x7f
      if (i < 4) lo |= bits << (7 * i)
      else if (i === 4) {
        lo |= bits << 28
        hi |= bits >>> 4
      } else hi |= bits << (7 * i - 32)
      if (b < 0x80) {
        this.pos = pos
        return (hi >>> 0) * 0x1_0000_0000 + (lo >>> 0)
      }
    }
    throw unusual
  }

  /** A length prefix, the bytes it announces within the limit: their end. */
  lengthEnd(): number {
    const len = this.varint()
    const end = this.pos + len
    if (end > this.limit) throw unusual
    return end
  }

  /** A length-delimited UTF-8 string, validated as protobufjs's `stringVerify`. */
  string(): string {
    const end = this.lengthEnd()
    const start = this.pos
    this.pos = end
    return readUtf8(this.buf, start, end)
  }

  /** Skips a length-delimited string, validating its UTF-8 without making it. */
  skipString(): void {
    const end = this.lengthEnd()
    const buf = this.buf
    for (let i = this.pos; i < end; i++) {
      if (buf[i]! >= 0x80) {
        strict.decode(buf.subarray(this.pos, end))
        break
      }
    }
    this.pos = end
  }

  /** Skips an unknown field's value (not a group: protobufjs handles those). */
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        do {
          if (this.pos >= this.limit) throw unusual
        } while (this.buf[this.pos++]! & 0x80)
        return
      case 1:
        this.#advance(8)
        return
      case 2:
        this.pos = this.lengthEnd()
        return
      case 5:
        this.#advance(4)
        return
      default:
        throw unusual
    }
  }

  /** A field tag: its field number must not be 0. */
  tag(): number {
    const t = this.varint()
    if (t < 8) throw unusual
    return t
  }

  #advance(n: number): void {
    if (this.pos + n > this.limit) throw unusual
    this.pos += n
  }
}

/** Decodes UTF-8 strictly (protobufjs's `stringVerify`); throws on invalid bytes. */
export function readUtf8(buf: Uint8Array, start: number, end: number): string {
  if (start === end) return ''
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) return strict.decode(buf.subarray(start, end))
  }
  return latin1.call(buf, start, end)
}

/** Reads one map<string, string> entry into `into` (a later key wins, as in protobufjs). */
export function readMetaEntry(r: ByteReader, into: Record<string, string>): void {
  const end = r.lengthEnd()
  const outer = r.limit
  r.limit = end
  let key = ''
  let value = ''
  while (r.pos < end) {
    const tag = r.tag()
    if (tag === 0x0a) key = r.string()
    else if (tag === 0x12) value = r.string()
    else r.skip(tag & 7)
  }
  r.limit = outer
  setMeta(into, key, value)
}

/** Sets a meta key, `__proto__` included (as an own property, as protobufjs does). */
export function setMeta(into: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') {
    Object.defineProperty(into, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  } else into[key] = value
}
