/**
 * Varint length-prefixed framing, as the TCP transport puts messages on a byte stream:
 * `varint(length) ‖ bytes`, repeated. The varint is unsigned LEB128 (protobuf's), so a
 * frame of up to 127 bytes costs one byte of prefix, up to 16 KiB two, up to 2 MiB three.
 *
 * This is a deliberate small copy of `@rony/envelope`'s framing: gossip and Raft depend on
 * `@rony/interface` only, and so does this package. The wire format is the same.
 */

/** A length prefix for a length below 2^35 fits in this many bytes; longer is malformed. */
const MAX_PREFIX_BYTES = 5

/** Thrown by {@link FrameDecoder.push} for an oversized or malformed prefix. */
export class FrameError extends Error {
  override name = 'FrameError'
}

/** The varint prefix of a frame of `length` bytes. */
export function encodePrefix(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0 || length > 0xffffffff) {
    throw new RangeError(`frame length must be an integer in [0, 2^32), got ${length}`)
  }
  const out = new Uint8Array(MAX_PREFIX_BYTES)
  let pos = 0
  let n = length
  while (n > 0x7f) {
    out[pos++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  out[pos++] = n
  return out.subarray(0, pos)
}

/** `payload` prefixed with its length, in one new buffer. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const prefix = encodePrefix(payload.byteLength)
  const out = new Uint8Array(prefix.byteLength + payload.byteLength)
  out.set(prefix, 0)
  out.set(payload, prefix.byteLength)
  return out
}

/**
 * Splits a byte stream into frames, incrementally: feed chunks of any size as they arrive,
 * get every frame they complete, in order.
 *
 * A frame that lies inside one chunk is returned as a view of it; a frame split across
 * chunks is gathered from the pieces as they arrive (not preallocated from the announced
 * length, so a peer cannot make us reserve `maxFrameBytes` with a five-byte prefix) and
 * joined once. A prefix announcing more than `maxFrameBytes` throws at once, before any of
 * the body is buffered. After an error the decoder refuses further input: framing is lost.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number
  #prefixValue = 0
  #prefixBytes = 0
  /** Length of the frame being gathered, or -1 while reading a prefix. */
  #want = -1
  #pieces: Uint8Array[] = []
  #have = 0
  #failed = false

  /** @param maxFrameBytes - Largest frame accepted, in bytes. */
  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes
  }

  /** True while a frame has begun but is not complete (an `end` here means truncation). */
  get inFrame(): boolean {
    return this.#want >= 0 || this.#prefixBytes > 0
  }

  /** Bytes held for the incomplete frame. */
  get buffered(): number {
    return this.#have + this.#prefixBytes
  }

  /**
   * Feeds one chunk.
   *
   * @returns The frames it completed, in order.
   * @throws {FrameError} For a prefix over `maxFrameBytes`, or longer than 5 bytes.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failed) throw new FrameError('frame decoder used after an error')
    const frames: Uint8Array[] = []
    let pos = 0
    while (pos < chunk.length) {
      if (this.#want >= 0) {
        const take = Math.min(this.#want - this.#have, chunk.length - pos)
        this.#pieces.push(chunk.subarray(pos, pos + take))
        this.#have += take
        pos += take
        if (this.#have === this.#want) frames.push(this.#join())
        continue
      }
      const b = chunk[pos++]!
      this.#prefixValue += (b & 0x7f) * 2 ** (7 * this.#prefixBytes)
      this.#prefixBytes++
      if (b >= 0x80) {
        if (this.#prefixBytes === MAX_PREFIX_BYTES) this.#fail('frame length prefix too long')
        continue
      }
      const length = this.#prefixValue
      this.#prefixValue = 0
      this.#prefixBytes = 0
      if (length > this.maxFrameBytes) {
        this.#fail(`frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`)
      }
      if (chunk.length - pos >= length) {
        frames.push(chunk.subarray(pos, pos + length))
        pos += length
      } else {
        this.#want = length
      }
    }
    return frames
  }

  #join(): Uint8Array {
    const pieces = this.#pieces
    let out: Uint8Array
    if (pieces.length === 1) {
      out = pieces[0]!
    } else {
      out = new Uint8Array(this.#want)
      let at = 0
      for (const p of pieces) {
        out.set(p, at)
        at += p.byteLength
      }
    }
    this.#pieces = []
    this.#have = 0
    this.#want = -1
    return out
  }

  #fail(message: string): never {
    this.#failed = true
    this.#pieces = []
    throw new FrameError(message)
  }
}
