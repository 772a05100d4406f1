import type { Connection, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import {
  C_Error,
  encodeEnvelope,
  encodeFrame,
  FrameDecoder,
  type RonyError,
  rony,
} from '@rony/envelope'
import {
  type CloseReason,
  type GatewayConn,
  type PayloadFormat,
  type RequestMeta,
  truncateCloseReason,
} from '@rony/interface'
import { QUIC_CLOSE_CODES, type ResolvedQuicOptions } from './options.js'

/** What a connection needs from the gateway that accepted it. */
export interface ConnHost {
  readonly opts: ResolvedQuicOptions
  dispatchMessage(conn: QuicConn, data: Uint8Array, meta: RequestMeta): void
  connClosed(conn: QuicConn, reason: CloseReason): void
}

/** A QUIC application error code: a non-negative integer below 2^62 (RFC 9000 varint). */
function checkCode(code: number): number {
  if (!Number.isSafeInteger(code) || code < 0) {
    throw new RangeError(`invalid QUIC application error code ${String(code)}`)
  }
  return code
}

/** The `E01 ENVELOPE` envelope sent before closing a stream whose framing broke. */
function framingError(error: RonyError): Uint8Array {
  return encodeFrame(
    encodeEnvelope({
      ctor: C_Error,
      requestId: 0n,
      message: rony.Error.encode(error.toWire()).finish(),
    }),
  )
}

/** libp2p hands chunks as `Uint8Array` or `Uint8ArrayList`; both have `subarray()`. */
function bytesOf(data: StreamMessageEvent['data']): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray()
}

/**
 * One Rony stream on a QUIC connection: one `GatewayConn`. Inbound chunks go through a
 * `FrameDecoder` (varint length prefix, `maxMessageSize` checked before any body is
 * buffered); each whole frame is one `onMessage`. Outbound, `send` frames the bytes and
 * queues them on the stream; the queue is bounded by `highWaterMark` (backpressure:
 * `send` returns `false`, inbound frames wait) and `maxBufferedBytes` (the stream closes).
 * No timers of its own: the gateway's sweep does idle timeouts and close deadlines.
 */
export class QuicConn implements GatewayConn {
  readonly persistent = true
  readonly protocol = 'quic'
  /** The peer's multiaddr, `/ip4/…/udp/…/quic-v1/p2p/<peerId>`. */
  readonly remoteAddress: string
  closed = false
  /** Date.now() of the last inbound chunk, for the idle sweep. */
  lastActive: number
  /** Date.now() when closing started, for the close-timeout sweep; 0 while open. */
  closingAt = 0
  /** Dispatch is paused because the outbound queue is over the high-water mark. */
  paused = false
  /** Frames decoded while paused, dispatched once the queue drained (at most one chunk's worth). */
  private held: Uint8Array[] = []
  private readonly decoder: FrameDecoder
  /** Set once closing started (by either side): the reason onClose reports. */
  private localReason: CloseReason | undefined = undefined
  private finished = false

  constructor(
    private readonly host: ConnHost,
    readonly id: number,
    readonly stream: Stream,
    /** The QUIC connection the stream belongs to. */
    readonly connection: Connection,
    private readonly meta: RequestMeta,
  ) {
    this.remoteAddress = connection.remoteAddr.toString()
    this.lastActive = Date.now()
    this.decoder = new FrameDecoder({ maxFrameBytes: host.opts.maxMessageSize })
    // While paused libp2p buffers reads up to this bound, then resets the stream.
    stream.maxReadBufferLength = Math.max(4 * 1024 * 1024, 2 * host.opts.maxMessageSize)
    stream.addEventListener('message', (event) => this.handleChunk(bytesOf(event.data)))
    stream.addEventListener('remoteCloseWrite', () => this.handleRemoteEnd())
    stream.addEventListener('drain', () => queueMicrotask(() => this.checkDrain()))
    stream.addEventListener('close', (event) => this.handleClose(event))
  }

  send(bytes: Uint8Array, _format: PayloadFormat = 'binary'): boolean {
    // JSON is not supported (features.json is false): bytes go out as they are.
    const stream = this.stream
    if (this.closed || stream.writeStatus !== 'writable') return false
    try {
      stream.send(encodeFrame(bytes))
    } catch {
      return false // the stream closed under us; its 'close' event follows
    }
    const queued = stream.writeBufferLength
    if (queued <= this.host.opts.highWaterMark) return true
    if (queued > this.host.opts.maxBufferedBytes) {
      this.close(QUIC_CLOSE_CODES.SLOW_CONSUMER, 'slow consumer')
      return false
    }
    if (!this.paused) {
      // Stop reading from a peer that does not read: its requests would only add replies.
      this.paused = true
      stream.pause()
    }
    return false
  }

  close(code: number = QUIC_CLOSE_CODES.NORMAL, reason = ''): void {
    if (this.closed) return
    this.markClosing({
      initiator: 'local',
      code: checkCode(code),
      reason: truncateCloseReason(reason),
    })
    this.endStream()
  }

  /** Resets the stream without flushing (close timeout, stop grace). */
  terminate(reason: string): void {
    if (!this.closed) {
      this.markClosing({ initiator: 'local', code: QUIC_CLOSE_CODES.GOING_AWAY, reason })
    }
    this.stream.abort(new Error(reason))
  }

  /** Resumes dispatch once the outbound queue is back under the high-water mark. */
  checkDrain(): void {
    if (!this.paused || this.stream.writeBufferLength > this.host.opts.highWaterMark) return
    this.paused = false
    if (this.closed) return
    if (this.stream.readStatus === 'paused') this.stream.resume()
    const held = this.held
    this.held = []
    for (const frame of held) {
      if (this.closed) return
      this.host.dispatchMessage(this, frame, this.meta)
    }
  }

  private markClosing(reason: CloseReason): void {
    this.closed = true
    this.closingAt = Date.now()
    this.localReason = reason
    this.held = []
  }

  /** Flushes what is queued, ends our side; the sweep resets it after `closeTimeout`. */
  private endStream(): void {
    const stream = this.stream
    if (stream.readStatus === 'paused') stream.resume()
    stream.close({ signal: AbortSignal.timeout(this.host.opts.closeTimeout) }).catch((err) => {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    })
  }

  private handleChunk(chunk: Uint8Array): void {
    if (this.closed) return // the edge closed it: it wants nothing more
    this.lastActive = Date.now()
    let frames: Uint8Array[]
    try {
      frames = this.decoder.push(chunk)
    } catch (err) {
      this.framingFailed(err as RonyError)
      return
    }
    for (const frame of frames) {
      if (this.closed) return
      if (this.paused) this.held.push(frame)
      else this.host.dispatchMessage(this, frame, this.meta)
    }
  }

  /** Bad varint or an over-limit length: tell the peer why, then close the stream. */
  private framingFailed(error: RonyError): void {
    const tooBig = error.message.includes('exceeds maxFrameBytes')
    const reason: CloseReason = tooBig
      ? { initiator: 'local', code: QUIC_CLOSE_CODES.MESSAGE_TOO_BIG, reason: 'message too big' }
      : {
          initiator: 'error',
          code: QUIC_CLOSE_CODES.PROTOCOL_ERROR,
          reason: truncateCloseReason(error.message),
          error,
        }
    try {
      if (this.stream.writeStatus === 'writable') this.stream.send(framingError(error))
    } catch {
      // the stream is going anyway
    }
    this.markClosing(reason)
    this.endStream()
  }

  /** The peer ended its side: a clean close, unless it stopped inside a frame. */
  private handleRemoteEnd(): void {
    if (this.closed) return
    try {
      this.decoder.end()
    } catch (err) {
      this.framingFailed(err as RonyError)
      return
    }
    this.markClosing({ initiator: 'remote', code: QUIC_CLOSE_CODES.NORMAL, reason: '' })
    this.endStream()
  }

  private handleClose(event: StreamCloseEvent): void {
    if (this.finished) return
    this.finished = true
    this.closed = true
    this.paused = false
    this.held = []
    const reason: CloseReason =
      this.localReason ??
      (event.error !== undefined
        ? { initiator: 'error', reason: event.error.message, error: event.error }
        : { initiator: 'remote', code: QUIC_CLOSE_CODES.NORMAL, reason: '' })
    this.host.connClosed(this, reason)
  }
}
