import {
  type CloseReason,
  type GatewayConn,
  type PayloadFormat,
  type RequestMeta,
  truncateCloseReason,
} from '@rony/interface'
import type { RawData, WebSocket } from 'ws'
import type { ResolvedConnectionOptions } from './options.js'

/** What a connection needs from the gateway that accepted it. */
export interface ConnHost {
  readonly opts: ResolvedConnectionOptions
  dispatchMessage(conn: WsConn, data: Uint8Array, meta: RequestMeta): void
  connClosed(conn: WsConn, reason: CloseReason): void
}

// ws readyState values (WebSocket.OPEN etc. are instance getters; constants are cheaper).
const OPEN = 1

/** Marks a ws socket with its connection, so the shared listeners below need no closures. */
const kConn = Symbol('rony.conn')
type TaggedSocket = WebSocket & { [kConn]?: WsConn | undefined }

const TEXT = { binary: false } as const

/** Leaves room for the frame header when predicting that a send crosses the high-water mark. */
const FRAME_OVERHEAD = 14

/** Close codes an endpoint may send (RFC 6455 §7.4, as `ws` validates them). */
export function isSendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  )
}

/** ws error codes → the close code ws sent for them; message-size errors are local limits. */
function closeCodeOf(err: Error & { code?: unknown }): number {
  switch (err.code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH':
      return 1009
    case 'WS_ERR_INVALID_UTF8':
      return 1007
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS':
      return 1008
    default:
      return 1002
  }
}

/** One data message as one Uint8Array; with `binaryType: 'nodebuffer'` that is the Buffer itself. */
function toBytes(data: RawData): Uint8Array {
  if (data instanceof Uint8Array) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return new Uint8Array(data)
}

/**
 * One WebSocket connection, shared by every gateway of this package. Kept small on purpose
 * (a few thousand of them sit idle on a busy edge): one object, the ws listeners are
 * module-level functions, no timers (the gateway's sweep does idle, keepalive and close
 * deadlines), and a drain callback allocated only for connections that ever hit the
 * high-water mark.
 */
export class WsConn implements GatewayConn {
  readonly persistent = true
  closed = false
  /** Date.now() of the last inbound message, for the idle sweep. */
  lastActive: number
  /** Date.now() when closing started, for the close-timeout sweep; 0 while open. */
  closingAt = 0
  /** A ping is out and no pong came back yet. */
  awaitingPong = false
  /** Reading is paused because the outbound queue is over the high-water mark. */
  paused = false
  /** The socket is corked, so the replies to one read (or one tick) leave in one write. */
  private corked = false
  /** Inside the socket's 'data' event: replies sent now are uncorked when it ends. */
  reading = false
  /** Set when this side decided to close: the reason onClose reports. */
  private localReason: CloseReason | undefined = undefined
  private error: (Error & { code?: unknown }) | undefined = undefined
  private onDrain: (() => void) | undefined = undefined
  /** The meta of text frames (JSON envelopes): made on the first one, same headers. */
  private jsonMeta: RequestMeta | undefined = undefined

  constructor(
    private readonly host: ConnHost,
    readonly id: number,
    readonly ws: WebSocket,
    readonly remoteAddress: string,
    readonly protocol: 'ws' | 'wss',
    private readonly meta: RequestMeta,
  ) {
    this.lastActive = Date.now()
    ws.binaryType = 'nodebuffer'
    ;(ws as TaggedSocket)[kConn] = this
    ws.on('message', onWsMessage)
    ws.on('pong', onWsPong)
    ws.on('error', onWsError)
    ws.on('close', onWsClose)
    const socket = socketOf(ws)
    if (socket !== undefined) {
      // Around ws's own 'data' listener, which parses the chunk and emits its messages.
      ;(socket as TaggedStream)[kConn] = this
      socket.prependListener('data', onReadStart)
      socket.on('data', onReadEnd)
    }
  }

  send(bytes: Uint8Array, format: PayloadFormat = 'binary'): boolean {
    const ws = this.ws
    if (this.closed || ws.readyState !== OPEN) return false
    const { highWaterMark, maxBufferedBytes } = this.host.opts
    // Only sends that may cross the mark carry a callback: it tells when the queue drained.
    const cb =
      ws.bufferedAmount + bytes.byteLength + FRAME_OVERHEAD > highWaterMark
        ? this.drainCallback()
        : undefined
    if (bytes.byteLength <= CORK_MAX_BYTES) this.cork()
    if (format === 'json') ws.send(bytes, TEXT, cb)
    else ws.send(bytes, cb)
    const queued = ws.bufferedAmount
    if (queued <= highWaterMark) return true
    if (queued > maxBufferedBytes) {
      this.close(1008, 'slow consumer')
      return false
    }
    if (!this.paused) {
      // Stop reading from a peer that does not read: its requests would only add replies.
      this.paused = true
      ws.pause()
    }
    return false
  }

  /**
   * Replies to one socket read are sent while ws parses it (synchronous handlers) or from
   * the same tick (handlers that resolve in its microtasks); corking until the read ends,
   * or else until the next tick, turns them into one `writev` instead of one per frame,
   * which is most of a small RPC's server CPU. Only small frames cork: large ones gain
   * nothing, and should reach the kernel (and backpressure) at once. `ws` exposes no
   * public cork, so its socket is reached through `_socket`; without it, frames go out
   * one by one.
   */
  private cork(): void {
    if (this.corked) return
    const socket = socketOf(this.ws)
    if (socket === undefined) return
    socket.cork()
    this.corked = true
    if (!this.reading) process.nextTick(uncork, this, socket)
  }

  /** @internal */
  uncork(socket: CorkableSocket): void {
    if (!this.corked) return
    this.corked = false
    socket.uncork()
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return
    if (!isSendableCloseCode(code)) throw new RangeError(`invalid WebSocket close code ${code}`)
    const truncated = truncateCloseReason(reason)
    this.markClosing({ initiator: 'local', code, reason: truncated })
    // Read again so the peer's close frame can arrive and finish the handshake.
    if (this.paused) this.ws.resume()
    this.ws.close(code, truncated)
  }

  /** Drops the socket without a closing handshake (keepalive, close timeout, stop grace). */
  terminate(reason: string): void {
    if (!this.closed) this.markClosing({ initiator: 'local', code: 1006, reason })
    this.ws.terminate()
  }

  private drainCallback(): () => void {
    if (this.onDrain === undefined) this.onDrain = () => this.checkDrain()
    return this.onDrain
  }

  /** Resumes reading once the outbound queue is back under the high-water mark. */
  checkDrain(): void {
    if (!this.paused || this.ws.bufferedAmount > this.host.opts.highWaterMark) return
    this.paused = false
    if (!this.closed) this.ws.resume()
  }

  private markClosing(reason: CloseReason): void {
    this.closed = true
    this.closingAt = Date.now()
    this.localReason = reason
  }

  /** @internal */
  handleMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return // the edge closed it: it wants nothing more
    this.lastActive = Date.now()
    const bytes = toBytes(data)
    // ws enforces this already; it matters when the ws server is shared (Fastify).
    if (bytes.byteLength > this.host.opts.maxPayload) {
      this.close(1009, 'message too big')
      return
    }
    // A text frame is a JSON envelope (ws checked its UTF-8); the edge answers it in kind.
    this.host.dispatchMessage(this, bytes, isBinary ? this.meta : this.textMeta())
  }

  private textMeta(): RequestMeta {
    this.jsonMeta ??= { headers: this.meta.headers, format: 'json' }
    return this.jsonMeta
  }

  /** @internal */
  handleError(err: Error & { code?: unknown }): void {
    this.error ??= err
    const code = closeCodeOf(err)
    // ws already sent the close frame for protocol errors; a size limit is ours, not a failure.
    if (!this.closed && code === 1009) {
      this.markClosing({ initiator: 'local', code, reason: 'message too big' })
    } else if (!this.closed) {
      this.closed = true
      this.closingAt = Date.now()
    }
  }

  /** @internal */
  handleClose(code: number, reasonBytes: Buffer): void {
    this.closed = true
    this.paused = false
    const reason = this.closeReason(code, reasonBytes)
    this.host.connClosed(this, reason)
  }

  private closeReason(code: number, reasonBytes: Buffer): CloseReason {
    if (this.localReason !== undefined) return this.localReason
    const err = this.error
    if (err !== undefined) {
      return { initiator: 'error', code: closeCodeOf(err), reason: err.message, error: err }
    }
    // 1006: the socket ended without a close frame (reset, crash): a transport failure.
    if (code === 1006) return { initiator: 'error', code, reason: 'connection lost' }
    return { initiator: 'remote', code, reason: reasonBytes.toString() }
  }
}

/** Frames up to this size are coalesced per tick (see `WsConn.cork`). */
const CORK_MAX_BYTES = 4096

interface CorkableSocket {
  cork(): void
  uncork(): void
  prependListener(event: 'data', listener: () => void): unknown
  on(event: 'data', listener: () => void): unknown
}

type TaggedStream = CorkableSocket & { [kConn]?: WsConn | undefined }

/** ws's underlying socket, when it is one that can be corked. */
function socketOf(ws: WebSocket): CorkableSocket | undefined {
  const socket = (ws as unknown as { _socket?: CorkableSocket })._socket
  return typeof socket?.cork === 'function' ? socket : undefined
}

function uncork(conn: WsConn, socket: CorkableSocket): void {
  conn.uncork(socket)
}

function onReadStart(this: TaggedStream): void {
  const conn = this[kConn]
  if (conn !== undefined) conn.reading = true
}

function onReadEnd(this: TaggedStream): void {
  const conn = this[kConn]
  if (conn === undefined) return
  conn.reading = false
  conn.uncork(this)
}

function onWsMessage(this: TaggedSocket, data: RawData, isBinary: boolean): void {
  this[kConn]?.handleMessage(data, isBinary)
}

function onWsPong(this: TaggedSocket): void {
  const conn = this[kConn]
  if (conn !== undefined) conn.awaitingPong = false
}

function onWsError(this: TaggedSocket, err: Error): void {
  this[kConn]?.handleError(err)
}

function onWsClose(this: TaggedSocket, code: number, reason: Buffer): void {
  const conn = this[kConn]
  this[kConn] = undefined
  conn?.handleClose(code, reason)
}
