import { allocBytes } from './codec/alloc.js'
import { invalidEnvelope } from './errors.js'
import { DEFAULT_LIMITS } from './limits.js'

/**
 * Varint length-prefixed framing, as a QUIC stream (or any byte stream) carries
 * envelopes: `varint(length) ‖ bytes`, repeated.
 */

/** A varint length prefix of a frame within the limit takes at most this many bytes. */
const MAX_PREFIX_BYTES = 5

export interface FrameDecoderInit {
  /** Largest frame accepted, in bytes. Default: `DEFAULT_LIMITS.maxEnvelopeBytes` (1 MiB). */
  maxFrameBytes?: number
}

/** Prefixes `payload` with its varint length. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  let length = payload.length
  let prefix = 1
  for (let n = length; n > 0x7f; n >>>= 7) prefix++
  const out = allocBytes(prefix + length)
  let pos = 0
  while (length > 0x7f) {
    out[pos++] = (length & 0x7f) | 0x80
    length >>>= 7
  }
  out[pos++] = length
  out.set(payload, pos)
  return out
}

/**
 * Splits a byte stream into frames, incrementally: feed chunks of any size as they
 * arrive, get every frame they complete.
 *
 * A frame that lies inside one chunk is returned as a view of that chunk; one split
 * across chunks is copied once into a buffer of its exact length (see `allocBytes`), so
 * memory never exceeds one frame plus the chunk being read. A prefix announcing more than `maxFrameBytes`
 * throws at once, before any of the body is buffered. After an error the decoder is
 * unusable: the stream's framing is lost.
 *
 * @example
 * const decoder = new FrameDecoder({ maxFrameBytes: 64 * 1024 })
 * socket.on('data', (chunk) => { for (const frame of decoder.push(chunk)) handle(frame) })
 * socket.on('end', () => decoder.end())
 */
export class FrameDecoder {
  readonly maxFrameBytes: number
  /** The length prefix read so far (while `body` is undefined). */
  private prefixValue = 0
  private prefixBytes = 0
  /** The frame being assembled across chunks, and how much of it is filled. */
  private body: Uint8Array | undefined
  private filled = 0
  private failed = false

  constructor(init: FrameDecoderInit = {}) {
    const max = init.maxFrameBytes ?? DEFAULT_LIMITS.maxEnvelopeBytes
    if (!Number.isSafeInteger(max) || max < 0 || max > 0xffffffff) {
      throw new RangeError(`maxFrameBytes must be an integer in [0, 2^32), got ${String(max)}`)
    }
    this.maxFrameBytes = max
  }

  /** Bytes held for an incomplete frame: prefix and body so far. */
  get buffered(): number {
    return this.body === undefined ? this.prefixBytes : this.filled
  }

  /** True while a frame has begun (some of its prefix was read) but is not complete. */
  get inFrame(): boolean {
    return this.body !== undefined || this.prefixBytes > 0
  }

  /**
   * Feeds one chunk; returns the frames it completed, in order. Throws `RonyError`
   * E01/ENVELOPE for an oversized or malformed length prefix.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed)
      throw invalidEnvelope('frame decoder used after an error', 'RONY_ERR_BAD_FRAME')
    const frames: Uint8Array[] = []
    let pos = 0
    while (pos < chunk.length) {
      if (this.body !== undefined) {
        const take = Math.min(this.body.length - this.filled, chunk.length - pos)
        this.body.set(chunk.subarray(pos, pos + take), this.filled)
        this.filled += take
        pos += take
        if (this.filled === this.body.length) {
          frames.push(this.body)
          this.body = undefined
        }
        continue
      }
      const b = chunk[pos++]!
      this.prefixValue += (b & 0x7f) * 2 ** (7 * this.prefixBytes)
      this.prefixBytes++
      if (b >= 0x80) {
        if (this.prefixBytes === MAX_PREFIX_BYTES) this.fail('frame length prefix too long')
        continue
      }
      const length = this.prefixValue
      this.prefixValue = 0
      this.prefixBytes = 0
      if (length > this.maxFrameBytes) {
        this.fail(`frame of ${length} bytes exceeds maxFrameBytes (${this.maxFrameBytes})`)
      }
      if (chunk.length - pos >= length) {
        frames.push(chunk.subarray(pos, pos + length))
        pos += length
      } else {
        this.body = allocBytes(length)
        this.filled = 0
      }
    }
    return frames
  }

  /** Declares the stream ended; throws `RonyError` if it stopped inside a frame or failed before. */
  end(): void {
    if (this.failed)
      throw invalidEnvelope('frame decoder used after an error', 'RONY_ERR_BAD_FRAME')
    if (this.inFrame) this.fail(`stream ended inside a frame (${this.buffered} bytes held)`)
  }

  private fail(description: string): never {
    this.failed = true
    this.body = undefined
    throw invalidEnvelope(description, 'RONY_ERR_BAD_FRAME')
  }
}

/** Decodes a stream of chunks into frames; throws `RonyError` on malformed framing or truncation. */
export async function* decodeFrames(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  init: FrameDecoderInit = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const decoder = new FrameDecoder(init)
  for await (const chunk of source) yield* decoder.push(chunk)
  decoder.end()
}

/** Length-prefixes each payload of a stream. */
export async function* encodeFrames(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const payload of source) yield encodeFrame(payload)
}
