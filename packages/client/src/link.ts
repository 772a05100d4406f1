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
  /** An attempt failed and no other will follow on its own (`reconnect: false`). */
  failed(error: RonyError): void
  reconnecting(info: ReconnectInfo): void
  /** Bytes received on the open connection. */
  frame(bytes: Uint8Array): void
  /** Something unusable received (a text frame). */
  invalid(error: RonyError): void
  /** An encoded `rony.Ping` request for the keepalive. */
  ping(): Uint8Array
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
        this.failed(ronyError)
      },
    )
  }

  private opened(connection: Connection): void {
    this.connection = connection
    this.state = 'open'
    this.receivedOnConnection = false
    this.lastError = undefined
    this.keepalive.start()
    this.host.opened(connection)
  }

  private failed(error: RonyError): void {
    this.lastError = error
    if (this.options.reconnect === false) {
      this.state = 'idle'
      this.host.failed(error)
    } else {
      this.scheduleReconnect(error)
    }
  }

  /** The open connection ended, closed by the peer or declared dead by the keepalive. */
  private ended(code: number, reason: string): void {
    this.keepalive.stop()
    const error = connectionLost(`connection closed (${code}${reason ? ` ${reason}` : ''})`)
    this.lastError = error
    const reconnecting = this.options.reconnect !== false
    this.state = reconnecting ? 'reconnecting' : 'idle'
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
      this.connection?.send(this.host.ping())
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
