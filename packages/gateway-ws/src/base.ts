import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import {
  type CloseReason,
  CodedError,
  type Gateway,
  GatewayConnections,
  type GatewayFeatures,
  type GatewayHandlers,
  Lifecycle,
  type Logger,
  type RequestMeta,
} from '@rony/interface'
import type { WebSocket } from 'ws'
import { type ConnHost, WsConn } from './connection.js'
import type { ResolvedConnectionOptions } from './options.js'
import { headerMap, hostPort } from './upgrade.js'

/** The sweep never runs less often than this, so close deadlines and drain fallbacks are timely. */
const MAX_SWEEP_MS = 1_000
const MIN_SWEEP_MS = 10
const OPEN = 1 // ws readyState

/**
 * What the WebSocket gateways share: the `Gateway` lifecycle, the table of open
 * connections, and one sweep timer for idle timeouts, keepalive pings, close deadlines and
 * drain checks (one timer for all connections instead of one or two per connection).
 * Subclasses only decide where upgrades come from.
 */
export abstract class WsGatewayBase implements Gateway, ConnHost {
  readonly name: string
  readonly features: GatewayFeatures
  readonly opts: ResolvedConnectionOptions
  protected readonly log: Logger
  /** Open connections, and closing ones until their onClose ran. */
  protected readonly conns: GatewayConnections<WsConn>
  private running = false
  private readonly lifecycle = new Lifecycle({
    start: () => this.doStart(),
    stop: () => this.doStop(),
  })
  private sweepTimer: ReturnType<typeof setInterval> | undefined = undefined
  private nextPingAt = 0

  constructor(opts: ResolvedConnectionOptions) {
    this.opts = opts
    this.name = opts.name
    this.log = opts.logger
    this.conns = new GatewayConnections(opts.name, opts.logger)
    this.features = Object.freeze({
      serverPush: true,
      json: true,
      maxMessageSize: opts.maxPayload,
    })
  }

  /** Starts accepting upgrades (listens, or hooks into the owner's server). */
  protected abstract listen(): Promise<void>
  /** Stops accepting upgrades; connections already open stay open. */
  protected abstract unlisten(): void
  /** Releases what `listen` acquired, once every connection closed. */
  protected abstract release(): Promise<void>
  abstract addresses(): string[]

  attach(handlers: GatewayHandlers): void {
    this.conns.attach(handlers)
  }

  /** `true` once started, until stop begins. */
  protected get started(): boolean {
    return this.running
  }

  start(): Promise<void> {
    return this.lifecycle.start()
  }

  private async doStart(): Promise<void> {
    if (this.conns.handlers === undefined) {
      throw new CodedError(
        `gateway ${this.name}: attach(handlers) before start()`,
        'RONY_ERR_NOT_ATTACHED',
      )
    }
    const { idleTimeout, pingInterval, closeTimeout } = this.opts
    const shortest = Math.min(idleTimeout || Infinity, pingInterval || Infinity, closeTimeout)
    const period = Math.max(MIN_SWEEP_MS, Math.min(MAX_SWEEP_MS, Math.floor(shortest / 4)))
    this.nextPingAt = Date.now() + pingInterval
    this.sweepTimer = setInterval(() => this.sweep(), period)
    this.sweepTimer.unref()
    // Accept from the first upgrade on: one may arrive before listen()'s promise settles.
    this.running = true
    try {
      await this.listen()
    } catch (err) {
      this.running = false
      clearInterval(this.sweepTimer)
      this.sweepTimer = undefined
      throw err
    }
    if (this.log.enabled)
      this.log('%s gateway listening on %s', this.name, this.addresses().join(', '))
  }

  stop(): Promise<void> {
    return this.lifecycle.stop()
  }

  private async doStop(): Promise<void> {
    this.running = false
    this.unlisten()
    for (const conn of this.conns) conn.close(1001, 'going away')
    if (!(await this.conns.drained(this.opts.stopTimeout))) {
      if (this.log.enabled) this.log('%s: terminating %d connections', this.name, this.conns.size)
      for (const conn of this.conns) conn.terminate('going away')
      await this.conns.drained()
    }
    clearInterval(this.sweepTimer)
    this.sweepTimer = undefined
    await this.release()
    if (this.log.enabled) this.log('%s gateway stopped', this.name)
  }

  /** Whether one more upgrade may be accepted now. */
  protected canAccept(): boolean {
    return this.running && this.conns.size < this.opts.maxConnections
  }

  /** Takes over a socket that finished its WebSocket handshake. */
  protected accept(ws: WebSocket, req: IncomingMessage, socket: Duplex): void {
    if (this.conns.handlers === undefined || !this.canAccept()) {
      // Only reachable when a check and the upgrade are not atomic (Fastify hooks).
      ws.on('error', () => {})
      ws.close(1013, 'try again later')
      return
    }
    const net = socket as Duplex & {
      remoteAddress?: string
      remotePort?: number
      encrypted?: boolean
    }
    const meta: RequestMeta = { headers: headerMap(req.headers), format: 'binary' }
    const conn = new WsConn(
      this,
      this.conns.nextId(),
      ws,
      hostPort(net.remoteAddress, net.remotePort),
      net.encrypted === true ? 'wss' : 'ws',
      meta,
    )
    this.conns.open(conn)
  }

  /** @internal Called by a connection for each message (binary or JSON text). */
  dispatchMessage(conn: WsConn, data: Uint8Array, meta: RequestMeta): void {
    this.conns.message(conn, data, meta)
  }

  /** @internal Called by a connection once its socket closed. */
  connClosed(conn: WsConn, reason: CloseReason): void {
    this.conns.close(conn, reason)
  }

  /** One pass over every connection: close deadlines, idle timeouts, drains, keepalive. */
  private sweep(): void {
    const now = Date.now()
    const { idleTimeout, pingInterval, closeTimeout } = this.opts
    const ping = pingInterval > 0 && now >= this.nextPingAt
    if (ping) this.nextPingAt = now + pingInterval
    for (const conn of this.conns) {
      if (conn.closed) {
        if (now - conn.closingAt >= closeTimeout) conn.terminate('close timeout')
        continue
      }
      if (idleTimeout > 0 && now - conn.lastActive >= idleTimeout) {
        conn.close(1000, 'idle timeout')
        continue
      }
      // Fallback for a drain whose write callback we did not ask for.
      if (conn.paused) conn.checkDrain()
      if (!ping || conn.ws.readyState !== OPEN) continue
      if (conn.awaitingPong) {
        conn.terminate('keepalive timeout')
      } else {
        conn.awaitingPong = true
        conn.ws.ping()
      }
    }
  }
}
