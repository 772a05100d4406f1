import { invalidEnvelope } from '@rony/envelope'
import { dialFailed } from '../errors.js'
import type { ClientClock } from '../options.js'
import type { Connection, ConnectionHandler, Transport } from './transport.js'

/** An event listener object: the client passes objects, never closures, to sockets. */
interface ListenerObject {
  // biome-ignore lint/suspicious/noExplicitAny: the DOM, undici and ws each type events differently
  handleEvent(event: any): void
}

/**
 * The part of the WHATWG `WebSocket` the client uses, so the browser's, Node's global
 * one (undici) and the `ws` package's all fit.
 */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
  addEventListener(type: string, listener: ListenerObject): void
  removeEventListener(type: string, listener: ListenerObject): void
}

/** A `WebSocket` class: `globalThis.WebSocket`, or `WebSocket` from the `ws` package. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

/**
 * The stream under a `ws` package WebSocket (its `_socket`, a `net.Socket`). Corking it
 * lets the frames of one tick leave in one write (one syscall) instead of one write each.
 */
interface CorkableStream {
  cork(): void
  uncork(): void
}

/** Node's `process.nextTick`, where there is one: it runs once the tick's microtasks are done. */
const nextTick = (globalThis as { process?: { nextTick?: (callback: () => void) => void } }).process
  ?.nextTick

/** How long `close()` waits for the peer's close frame before giving up on it. */
const CLOSE_GRACE_MS = 1000
const EVENTS = ['open', 'message', 'close', 'error'] as const

export class WsTransport implements Transport {
  readonly persistent = true
  private readonly WebSocket: WebSocketConstructor | undefined

  constructor(
    readonly url: string,
    private readonly options: { WebSocket: WebSocketConstructor | undefined; clock: ClientClock },
  ) {
    this.WebSocket = options.WebSocket
  }

  connect(handler: ConnectionHandler, signal: AbortSignal): Promise<Connection> {
    if (signal.aborted) return Promise.reject(signal.reason)
    // Looked up per dial, not at import, so a polyfill installed later still counts.
    const WebSocket =
      this.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (typeof WebSocket !== 'function') {
      return Promise.reject(
        new TypeError(
          'no WebSocket implementation: pass one as createClient(url, { WebSocket }) (e.g. from the ws package)',
        ),
      )
    }
    let ws: WebSocketLike
    try {
      ws = new WebSocket(this.url)
    } catch (cause) {
      return Promise.reject(dialFailed(this.url, String(cause), cause))
    }
    return new WsConnection(ws, this.url, handler, signal, this.options.clock).opened
  }
}

/**
 * One WebSocket. Until it opens it settles `opened`; afterwards it feeds the handler.
 * It listens to the socket and the abort signal through `handleEvent`, so no closure is
 * made per socket.
 */
class WsConnection implements Connection, ListenerObject {
  readonly opened: Promise<Connection>
  private resolveOpen!: (connection: Connection) => void
  private rejectOpen!: (error: unknown) => void
  private state: 'connecting' | 'open' | 'detached' | 'closed' = 'connecting'
  private closedWaiter: (() => void) | undefined
  private signal: AbortSignal | undefined
  /** What the socket's 'error' event said while connecting: the dial failure's cause. */
  private dialError: unknown
  /** The stream to cork while a tick sends, when the WebSocket is the `ws` package's. */
  private stream: CorkableStream | undefined
  /** This tick: nothing sent yet, one frame sent, or later frames held in the corked stream. */
  private tick: 'idle' | 'sent' | 'corked' = 'idle'

  constructor(
    private readonly ws: WebSocketLike,
    private readonly url: string,
    private readonly handler: ConnectionHandler,
    signal: AbortSignal,
    private readonly clock: ClientClock,
  ) {
    this.opened = new Promise((resolve, reject) => {
      this.resolveOpen = resolve
      this.rejectOpen = reject
    })
    // The ws package's own 'nodebuffer' hands over views of what the socket read; its
    // 'arraybuffer' would copy each message into a new ArrayBuffer (about 1 µs each). A kept
    // view keeps that read alive, at most 64 KiB, as the envelope codec's pooled slabs do.
    if (ws.binaryType !== 'nodebuffer') ws.binaryType = 'arraybuffer'
    for (const type of EVENTS) ws.addEventListener(type, this)
    this.signal = signal
    signal.addEventListener('abort', this)
    this.endTick = this.endTick.bind(this)
  }

  // biome-ignore lint/suspicious/noExplicitAny: see ListenerObject
  handleEvent(event: any): void {
    switch (event.type as string) {
      case 'message':
        if (this.state === 'open') this.message(event.data)
        return
      case 'open':
        if (this.state !== 'connecting') return
        this.state = 'open'
        this.stream = corkableStream(this.ws)
        this.forgetSignal()
        this.resolveOpen(this)
        return
      case 'close':
        this.closed(Number(event.code) || 1006, String(event.reason ?? ''))
        return
      case 'abort':
        // Only while connecting: the dial timed out or the client closed.
        if (this.state !== 'connecting') return
        this.state = 'detached'
        this.rejectOpen((event.target as AbortSignal).reason)
        this.forgetSignal()
        this.ws.close()
        return
      case 'error':
        // Browsers give no detail, Node's global WebSocket an empty TypeError, the ws
        // package the reason (`Unexpected server response: 404`, `ECONNREFUSED`). The
        // 'close' that always follows settles the dial; this becomes its cause.
        if (this.state === 'connecting') this.dialError = event.error
        return
    }
  }

  /**
   * Where the socket can be corked (the `ws` package in Node), the first frame of a tick
   * goes at once and the ones after it in the same tick (the requests a burst of replies
   * sets off, say) are held and written together once the tick's microtasks are done: one
   * write instead of one each. Elsewhere each frame goes at once.
   */
  send(bytes: Uint8Array): void {
    if (this.stream !== undefined) {
      if (this.tick === 'idle') {
        this.tick = 'sent'
        nextTick!(this.endTick)
      } else if (this.tick === 'sent') {
        this.tick = 'corked'
        this.stream.cork()
      }
    }
    this.ws.send(bytes)
  }

  /** Writes what the tick held back. */
  private endTick(): void {
    if (this.tick === 'corked') this.stream?.uncork()
    this.tick = 'idle'
  }

  close(code: number, reason: string): Promise<void> {
    if (this.state === 'closed') return Promise.resolve()
    this.state = 'detached'
    return new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(resolve, CLOSE_GRACE_MS)
      this.closedWaiter = () => {
        this.clock.clearTimeout(timer)
        resolve()
      }
      try {
        this.ws.close(code, reason)
      } catch {
        this.ws.close() // a code the implementation rejects must not leave the socket open
      }
    })
  }

  private message(data: unknown): void {
    if (data instanceof ArrayBuffer) {
      this.handler.onFrame(new Uint8Array(data))
    } else if (ArrayBuffer.isView(data)) {
      // The ws package's 'nodebuffer', or a WebSocket that ignores binaryType.
      this.handler.onFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    } else {
      this.handler.onInvalid(
        invalidEnvelope('text frame received; Rony sends binary envelopes', 'RONY_ERR_TEXT_FRAME'),
      )
    }
  }

  private closed(code: number, reason: string): void {
    const previous = this.state
    this.state = 'closed'
    this.endTick()
    this.stream = undefined
    for (const type of EVENTS) this.ws.removeEventListener(type, this)
    this.forgetSignal()
    if (previous === 'connecting') {
      const cause = this.dialError
      const detail = cause instanceof Error && cause.message !== '' ? `: ${cause.message}` : ''
      this.rejectOpen(
        dialFailed(
          this.url,
          `closed before opening (${code}${reason ? ` ${reason}` : ''})${detail}`,
          cause,
        ),
      )
    } else if (previous === 'open') {
      this.handler.onClose(code, reason)
    }
    this.closedWaiter?.()
  }

  private forgetSignal(): void {
    this.signal?.removeEventListener('abort', this)
    this.signal = undefined
  }
}

/** The `ws` package's stream under `ws`, if that is what `ws` is and Node can flush it. */
function corkableStream(ws: WebSocketLike): CorkableStream | undefined {
  const stream = (ws as { _socket?: Partial<CorkableStream> | null })._socket
  if (nextTick === undefined || stream == null) return undefined
  return typeof stream.cork === 'function' && typeof stream.uncork === 'function'
    ? (stream as CorkableStream)
    : undefined
}
