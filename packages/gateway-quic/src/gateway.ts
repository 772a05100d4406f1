import type { Connection, Libp2p, PrivateKey, Stream } from '@libp2p/interface'
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
import { type ConnHost, QuicConn } from './connection.js'
import { generateIdentity, nodeAddresses, startNode, stopNode } from './node.js'
import {
  QUIC_CLOSE_CODES,
  type QuicGatewayInit,
  type ResolvedQuicOptions,
  resolveOptions,
} from './options.js'

/** The sweep never runs less often than this, so close deadlines and drains are timely. */
const MAX_SWEEP_MS = 1_000
const MIN_SWEEP_MS = 10

/**
 * The QUIC gateway: a libp2p node whose protocol handler turns each inbound Rony stream
 * into a `QuicConn`. One sweep timer serves every stream (idle timeouts, close deadlines,
 * drain checks). Lifecycle as the WebSocket gateway: `start()` twice is a no-op, `stop()`
 * closes every stream, waits for each `onClose`, then stops the node, bounded in time.
 */
class QuicGateway implements Gateway, ConnHost {
  readonly name: string
  readonly features: GatewayFeatures
  readonly opts: ResolvedQuicOptions
  private readonly log: Logger
  /** Open streams, and closing ones until their onClose ran. */
  private readonly conns: GatewayConnections<QuicConn>
  /** Open Rony streams per QUIC connection, for `maxConnections`. */
  private readonly peers = new Map<Connection, number>()
  private privateKey: PrivateKey | undefined
  private node: Libp2p | undefined = undefined
  private running = false
  private readonly lifecycle = new Lifecycle({
    start: () => this.doStart(),
    stop: () => this.doStop(),
  })
  private sweepTimer: ReturnType<typeof setInterval> | undefined = undefined

  constructor(init: QuicGatewayInit) {
    this.opts = resolveOptions(init)
    this.name = this.opts.name
    this.log = this.opts.logger
    this.conns = new GatewayConnections(this.name, this.log)
    this.privateKey = this.opts.privateKey
    this.features = Object.freeze({
      serverPush: true,
      json: false,
      maxMessageSize: this.opts.maxMessageSize,
    })
  }

  attach(handlers: GatewayHandlers): void {
    this.conns.attach(handlers)
  }

  addresses(): string[] {
    const node = this.node
    if (!this.running || node === undefined) return []
    return nodeAddresses(node)
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
    this.privateKey ??= await generateIdentity()
    // Accept from the first stream on: one may arrive before start()'s promise settles.
    this.running = true
    try {
      const { node } = await startNode(this.opts, this.privateKey, (stream, connection) =>
        this.accept(stream, connection),
      )
      this.node = node
    } catch (err) {
      this.running = false
      throw err
    }
    const { idleTimeout, closeTimeout } = this.opts
    const shortest = Math.min(idleTimeout || Infinity, closeTimeout)
    const period = Math.max(MIN_SWEEP_MS, Math.min(MAX_SWEEP_MS, Math.floor(shortest / 4)))
    this.sweepTimer = setInterval(() => this.sweep(), period)
    this.sweepTimer.unref()
    if (this.log.enabled)
      this.log('%s gateway listening on %s', this.name, this.addresses().join(', '))
  }

  stop(): Promise<void> {
    return this.lifecycle.stop()
  }

  private async doStop(): Promise<void> {
    this.running = false
    for (const conn of this.conns) conn.close(QUIC_CLOSE_CODES.GOING_AWAY, 'going away')
    if (!(await this.conns.drained(this.opts.stopTimeout))) {
      if (this.log.enabled) this.log('%s: resetting %d streams', this.name, this.conns.size)
      for (const conn of this.conns) conn.terminate('going away')
      // An aborted stream reports 'close' synchronously; this bound is a safety net.
      await this.conns.drained(this.opts.closeTimeout)
    }
    clearInterval(this.sweepTimer)
    this.sweepTimer = undefined
    const node = this.node
    this.node = undefined
    if (node !== undefined) await stopNode(node, this.opts.nodeStopTimeout, this.log, this.name)
    this.peers.clear()
    if (this.log.enabled) this.log('%s gateway stopped', this.name)
  }

  /** The protocol handler: takes over one inbound Rony stream. */
  private accept(stream: Stream, connection: Connection): void {
    const known = this.peers.has(connection)
    if (
      this.conns.handlers === undefined ||
      !this.running ||
      (!known && this.peers.size >= this.opts.maxConnections)
    ) {
      const reason = this.running ? 'too many connections' : 'not accepting connections'
      if (this.log.enabled) this.log('%s: refusing a stream: %s', this.name, reason)
      stream.abort(new Error(reason))
      if (!known) void connection.close().catch(() => connection.abort(new Error(reason)))
      return
    }
    this.peers.set(connection, (this.peers.get(connection) ?? 0) + 1)
    const meta: RequestMeta = {
      headers: new Map([['peer-id', connection.remotePeer.toString()]]),
      format: 'binary',
    }
    this.conns.open(new QuicConn(this, this.conns.nextId(), stream, connection, meta))
  }

  /** @internal Called by a connection for each whole inbound frame. */
  dispatchMessage(conn: QuicConn, data: Uint8Array, meta: RequestMeta): void {
    this.conns.message(conn, data, meta)
  }

  /** @internal Called by a connection once its stream closed. */
  connClosed(conn: QuicConn, reason: CloseReason): void {
    if (!this.conns.close(conn, reason)) return
    const left = (this.peers.get(conn.connection) ?? 1) - 1
    if (left > 0) this.peers.set(conn.connection, left)
    else this.peers.delete(conn.connection)
  }

  /** One pass over every stream: close deadlines, idle timeouts, drain fallbacks. */
  private sweep(): void {
    const now = Date.now()
    const { idleTimeout, closeTimeout } = this.opts
    for (const conn of this.conns) {
      if (conn.closed) {
        if (now - conn.closingAt >= closeTimeout) conn.terminate('close timeout')
        continue
      }
      if (idleTimeout > 0 && now - conn.lastActive >= idleTimeout) {
        conn.close(QUIC_CLOSE_CODES.NORMAL, 'idle timeout')
        continue
      }
      if (conn.paused) conn.checkDrain()
    }
  }
}

/**
 * Creates a QUIC gateway: each client opens one long-lived stream of `protocol` and sends
 * varint-length-prefixed envelopes on it; replies and pushes come back the same way.
 *
 * @param init - Options; every field has a default (see {@link QuicGatewayInit}).
 * @returns A {@link Gateway} to hand to the edge (or to `attach` and `start` yourself).
 * @throws TypeError or RangeError for invalid options.
 *
 * @example
 * ```ts
 * const gateway = quicGateway({ listen: ['/ip4/0.0.0.0/udp/4433/quic-v1'], maxStreams: 4 })
 * ```
 */
export function quicGateway(init: QuicGatewayInit = {}): Gateway {
  return new QuicGateway(init)
}
