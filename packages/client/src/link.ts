import type { RonyError } from '@rony/envelope'
import { backoffDelay } from './backoff.js'
import { clientClosed, connectionLost, dialFailed } from './errors.js'
import type { ReconnectInfo } from './events.js'
import { Keepalive } from './keepalive.js'
import type { ResolvedOptions } from './options.js'
import type { Connection, ConnectionHandler, Transport } from './transport/transport.js'

/** `'idle'` until the first connect; `'closed'` after `close()`, for good. */
export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'

/** What the link reports to the client, which owns requests and events. */
export interface LinkHost {
  /** A connection opened: send what waits. */
  opened(connection: Connection): void
  /** The open connection ended; `reconnecting` says whether another will be tried. */
  lost(error: RonyError, code: number, reason: string, reconnecting: boolean): void
  /**
   * An attempt failed and no other will follow on its own: everything waiting for a
   * connection (requests and `connect()` calls) fails with `error`.
   */
  failed(error: RonyError): void
  /** An attempt to make the first connection failed: the requests waiting for it fail. */
  firstDialFailed(error: RonyError): void
  /** Whether a `connect()` call waits for a connection (and so for further attempts). */
  awaitsConnect(): boolean
  reconnecting(info: ReconnectInfo): void
  /** Bytes received on the open connection. */
  frame(bytes: Uint8Array): void
  /** A per-request transport's response to the request `requestId`. */
  reply(requestId: bigint, bytes: Uint8Array): void
  /** The request `requestId` failed in transit. */
  requestFailed(requestId: bigint, error: RonyError): void
  /** Something unusable received (a text frame). */
  invalid(error: RonyError): void
  /** An encoded `rony.Ping` request for the keepalive, and its request id. */
  ping(): { frame: Uint8Array; requestId: bigint }
}

const CLOSE_NORMAL = 1000
const CLOSE_KEEPALIVE = 4000

/**
 * The connection's life: dialing, the connect timeout, reconnecting with backoff, the
 * keepalive, closing. It knows nothing of requests; the client (its host) does.
 */
export class Link implements ConnectionHandler {
  state: ClientState = 'idle'
  /** The open connection, while `state` is `'open'`. */
  connection: Connection | undefined
  /** Why the last connection or attempt ended, for error causes. */
  lastError: RonyError | undefined
  private dialing: AbortController | undefined
  private reconnectTimer: unknown
  /** Failed attempts since a connection last delivered a message: the backoff exponent. */
  private attempt = 0
  /**
   * Whether a connection opened since the link was last idle. Until one has, a failed
   * attempt fails the requests waiting for it: nothing says the address is right, and the
   * caller learns why at once instead of at its timeout. Afterwards, requests wait for the
   * reconnect, as documented.
   */
  private hasOpened = false
  private receivedOnConnection = false
  private readonly keepalive: Keepalive

  constructor(
    private readonly transport: Transport,
    private readonly options: ResolvedOptions,
    private readonly host: LinkHost,
  ) {
    this.keepalive = new Keepalive(
      options.clock,
      transport.persistent ? options.keepalive : 0,
      options.timeout,
      { ping: () => this.sendPing(), dead: () => this.keepaliveDead() },
    )
    this.reconnectNow = this.reconnectNow.bind(this)
  }

  /** Starts connecting if nothing is under way (state `'idle'`). */
  ensureConnecting(): void {
    if (this.state !== 'idle') return
    this.state = 'connecting'
    this.dial()
  }

  /** Stops everything; resolves once the connection (if any) is closed. */
  async close(): Promise<void> {
    this.state = 'closed'
    if (this.reconnectTimer !== undefined) this.options.clock.clearTimeout(this.reconnectTimer)
    this.reconnectTimer = undefined
    this.keepalive.stop()
    this.dialing?.abort(clientClosed())
    this.dialing = undefined
    const connection = this.connection
    this.connection = undefined
    if (connection !== undefined) await connection.close(CLOSE_NORMAL, 'client closed')
  }

  // ---- ConnectionHandler: calls from the open connection ----

  onFrame(bytes: Uint8Array): void {
    this.keepalive.receivedFrame()
    if (!this.receivedOnConnection) {
      // The server answers: the backoff starts over the next time the connection drops.
      this.receivedOnConnection = true
      this.attempt = 0
    }
    this.host.frame(bytes)
  }

  onInvalid(error: RonyError): void {
    this.host.invalid(error)
  }

  onReply(requestId: bigint, bytes: Uint8Array): void {
    this.host.reply(requestId, bytes)
  }

  onRequestFailed(requestId: bigint, error: RonyError): void {
    this.host.requestFailed(requestId, error)
  }

  onClose(code: number, reason: string): void {
    this.connection = undefined
    this.ended(code, reason)
  }

  // ---- internals ----

  private dial(): void {
    const controller = new AbortController()
    this.dialing = controller
    const { clock, connectTimeout } = this.options
    const url = this.transport.url
    const timer = clock.setTimeout(() => {
      controller.abort(dialFailed(url, `no connection within ${connectTimeout} ms`))
    }, connectTimeout)
    this.transport.connect(this, controller.signal).then(
      (connection) => {
        clock.clearTimeout(timer)
        if (this.dialing !== controller) {
          void connection.close(CLOSE_NORMAL, 'client closed')
          return
        }
        this.dialing = undefined
        this.opened(connection)
      },
      (error: unknown) => {
        clock.clearTimeout(timer)
        if (this.dialing !== controller) return
        this.dialing = undefined
        const ronyError = isRonyError(error) ? error : dialFailed(url, String(error), error)
        // A TypeError: this environment lacks what the transport needs; no retry can help.
        this.failed(ronyError, error instanceof TypeError)
      },
    )
  }

  private opened(connection: Connection): void {
    this.connection = connection
    this.state = 'open'
    this.hasOpened = true
    this.receivedOnConnection = false
    this.lastError = undefined
    this.keepalive.start()
    this.host.opened(connection)
  }

  /**
   * An attempt failed. Another follows (after the backoff) only when one can succeed and
   * someone waits for it: a link that was open reconnects; one that never opened retries
   * only while a `connect()` call waits, and fails its waiting requests at every attempt.
   */
  private failed(error: RonyError, permanent: boolean): void {
    this.lastError = error
    const retry =
      !permanent &&
      this.options.reconnect !== false &&
      (this.hasOpened || this.host.awaitsConnect())
    if (!retry) {
      this.idle()
      this.host.failed(error)
      return
    }
    if (!this.hasOpened) this.host.firstDialFailed(error)
    this.scheduleReconnect(error)
  }

  /** Nothing under way: the next request or `connect()` dials afresh. */
  private idle(): void {
    this.state = 'idle'
    this.hasOpened = false
    this.attempt = 0
  }

  /** The open connection ended, closed by the peer or declared dead by the keepalive. */
  private ended(code: number, reason: string): void {
    this.keepalive.stop()
    const error = connectionLost(`connection closed (${code}${reason ? ` ${reason}` : ''})`)
    this.lastError = error
    const reconnecting = this.options.reconnect !== false
    if (reconnecting) this.state = 'reconnecting'
    else this.idle()
    this.host.lost(error, code, reason, reconnecting)
    // The host's 'close' listeners may have called close().
    if (this.state === 'reconnecting') this.scheduleReconnect(error)
  }

  private scheduleReconnect(error: RonyError): void {
    if (this.options.reconnect === false) return
    this.state = 'reconnecting'
    const delay = backoffDelay(this.options.reconnect, this.attempt, this.options.random.next())
    this.attempt++
    this.reconnectTimer = this.options.clock.setTimeout(this.reconnectNow, delay)
    this.host.reconnecting({ attempt: this.attempt, delay, error })
  }

  private reconnectNow(): void {
    this.reconnectTimer = undefined
    if (this.state === 'reconnecting') this.dial()
  }

  private sendPing(): void {
    try {
      const { frame, requestId } = this.host.ping()
      this.connection?.send(frame, requestId)
    } catch {
      // No answer will come: the keepalive declares the connection dead in due course.
    }
  }

  private keepaliveDead(): void {
    const connection = this.connection
    if (connection === undefined) return
    this.connection = undefined
    const reason = 'keepalive timeout'
    // Not awaited: a dead peer may never answer the close handshake.
    void connection.close(CLOSE_KEEPALIVE, reason)
    this.ended(CLOSE_KEEPALIVE, reason)
  }
}

/** Duck-typed so a second copy of @rony/envelope in a bundle does not defeat it. */
function isRonyError(error: unknown): error is RonyError {
  return error instanceof Error && 'wireCode' in error && 'items' in error
}
