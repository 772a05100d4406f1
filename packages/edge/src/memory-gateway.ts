import {
  type CloseReason,
  CodedError,
  type Gateway,
  type GatewayConn,
  type GatewayFeatures,
  type GatewayHandlers,
  type Logger,
  type PayloadFormat,
  type RequestMeta,
} from '@rony/interface'
import { disabledLogger } from './logger.js'

/**
 * An in-process gateway: no sockets, the client side is an object in the same process.
 * Messages are delivered synchronously in both directions. For tests and benchmarks of
 * handlers and middleware (like `fastify.inject`), and as the reference implementation
 * of the gateway contract.
 */
export interface MemoryGateway extends Gateway {
  /** Opens a client connection (after `start()`). */
  connect(init?: MemoryConnectInit): MemoryClient
}

export interface MemoryConnectInit {
  /** Transport headers the edge sees (`ctx.transportHeaders`). */
  headers?: Record<string, string>
  /** Called with every message the edge sends, synchronously. Default: queue for `next()`. */
  onMessage?: (bytes: Uint8Array) => void
  /** Whether the connection takes pushes and many requests. Default true. */
  persistent?: boolean
  /**
   * How this connection's messages are encoded: `'json'` sends JSON envelopes (UTF-8) and
   * gets JSON replies, as an HTTP client posting `application/json` does. Default `'binary'`.
   */
  format?: PayloadFormat
}

/** The client end of a memory connection. */
export interface MemoryClient {
  readonly id: number
  readonly closed: boolean
  /** Resolves when the connection closes, from either side. */
  readonly whenClosed: Promise<CloseReason>
  /** Sends one message (an encoded envelope) to the edge. */
  send(bytes: Uint8Array): void
  /** The next message from the edge (queued ones first). Rejects if the connection closes first. */
  next(): Promise<Uint8Array>
  /** Closes from the client side; the edge sees initiator 'remote'. */
  close(): void
}

export interface MemoryGatewayInit {
  /** Default 'memory'. */
  name?: string
  /** Where errors thrown by the edge's callbacks go. Default: silent. */
  logger?: Logger
  /** Largest message the gateway passes on, in bytes. Default 1 MiB. */
  maxMessageSize?: number
}

class MemoryConnection implements GatewayConn {
  readonly persistent: boolean
  readonly protocol = 'memory'
  readonly remoteAddress: string
  closed = false
  private received = 0
  readonly whenClosed: Promise<CloseReason>
  private resolveClosed!: (reason: CloseReason) => void
  private readonly queue: Uint8Array[] = []
  private waiting: { resolve(bytes: Uint8Array): void; reject(error: Error): void }[] = []
  private readonly meta: RequestMeta

  constructor(
    readonly id: number,
    private readonly gateway: MemoryGatewayImpl,
    init: MemoryConnectInit,
    private readonly onMessage = init.onMessage,
  ) {
    this.persistent = init.persistent ?? true
    this.remoteAddress = `memory:${id}`
    this.meta = {
      headers: new Map(Object.entries(init.headers ?? {})),
      format: init.format ?? 'binary',
    }
    this.whenClosed = new Promise((resolve) => {
      this.resolveClosed = resolve
    })
  }

  // GatewayConn: the edge's side.
  send(bytes: Uint8Array): boolean {
    if (this.closed) return false
    if (this.onMessage) this.onMessage(bytes)
    else {
      const waiter = this.waiting.shift()
      if (waiter) waiter.resolve(bytes)
      else this.queue.push(bytes)
    }
    // A non-persistent connection carries one request and its one reply, like HTTP.
    if (!this.persistent) this.end({ initiator: 'local', code: 1000, reason: 'replied' })
    return true
  }

  close(code = 1000, reason = ''): void {
    this.end({ initiator: 'local', code, reason })
  }

  // The client side, exposed through the MemoryClient object that connect() returns.
  next(): Promise<Uint8Array> {
    const queued = this.queue.shift()
    if (queued) return Promise.resolve(queued)
    if (this.closed) return Promise.reject(new Error('memory connection closed'))
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }))
  }

  /** Client → edge. Named apart from `send` (edge → client) since one object plays both ends. */
  deliver(bytes: Uint8Array): void {
    if (this.closed) throw new Error('memory connection closed')
    if (!this.persistent && this.received++ > 0) {
      throw new Error('a non-persistent memory connection carries one request')
    }
    if (bytes.length > this.gateway.features.maxMessageSize) {
      this.end({ initiator: 'local', code: 1009, reason: 'message too big' })
      return
    }
    try {
      this.gateway.handlers.onMessage(this, bytes, this.meta)
    } catch (error) {
      // The contract: a throwing callback is logged and never closes the connection.
      this.gateway.log.error('onMessage threw: %s', error)
    }
  }

  end(reason: CloseReason): void {
    if (this.closed) return
    this.closed = true
    for (const waiter of this.waiting) waiter.reject(new Error('memory connection closed'))
    this.waiting = []
    this.gateway.forget(this, reason)
    this.resolveClosed(reason)
  }
}

class MemoryGatewayImpl implements MemoryGateway {
  readonly name: string
  readonly features: GatewayFeatures
  handlers!: GatewayHandlers
  readonly log: Logger
  private readonly open = new Set<MemoryConnection>()
  private nextId = 1
  private started = false

  constructor(init: MemoryGatewayInit) {
    this.name = init.name ?? 'memory'
    this.log = init.logger ?? disabledLogger
    this.features = {
      serverPush: true,
      json: true,
      maxMessageSize: init.maxMessageSize ?? 1024 * 1024,
    }
  }

  attach(handlers: GatewayHandlers): void {
    this.handlers = handlers
  }

  start(): void {
    if (!this.handlers)
      throw new CodedError('attach handlers before start()', 'RONY_ERR_NOT_ATTACHED')
    this.started = true
  }

  stop(): void {
    this.started = false
    for (const conn of [...this.open])
      conn.end({ initiator: 'local', code: 1001, reason: 'going away' })
  }

  addresses(): string[] {
    return this.started ? [`memory://${this.name}`] : []
  }

  connect(init: MemoryConnectInit = {}): MemoryClient {
    if (!this.started) throw new CodedError('memory gateway is not started', 'RONY_ERR_NOT_STARTED')
    const conn = new MemoryConnection(this.nextId++, this, init)
    this.open.add(conn)
    this.handlers.onConnect(conn)
    return {
      id: conn.id,
      get closed() {
        return conn.closed
      },
      whenClosed: conn.whenClosed,
      send: (bytes) => conn.deliver(bytes),
      next: () => conn.next(),
      close: () => conn.end({ initiator: 'remote', code: 1000, reason: '' }),
    }
  }

  forget(conn: MemoryConnection, reason: CloseReason): void {
    if (this.open.delete(conn)) this.handlers.onClose(conn, reason)
  }
}

/** Builds an in-process gateway. */
export function memoryGateway(init: MemoryGatewayInit = {}): MemoryGateway {
  return new MemoryGatewayImpl(init)
}
