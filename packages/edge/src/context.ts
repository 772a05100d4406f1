import {
  type Envelope,
  type KeyValue,
  type MessageRegistry,
  type MessageType,
  RonyError,
} from '@rony/envelope'
import type { GatewayConn } from '@rony/interface'
import type { RequestOrigin } from './connection.js'
import { messageReply, type ReplySink } from './reply.js'

/** What every request of an edge shares: its server id, and the types replies are encoded by. */
export interface EdgeScope {
  readonly serverId: string
  readonly messages: MessageRegistry
  /** Runs a request on another replica set; absent on an edge without a tunnel. */
  readonly execute?: Executor | undefined
}

/** Sends a request to an edge of `replicaSet` and resolves with its reply. */
export type Executor = (
  replicaSet: number,
  message: object,
  options: ExecuteOptions,
) => Promise<unknown>

/** Options of `ctx.execute`. */
export interface ExecuteOptions {
  /** The request's type, when `message` is a plain object rather than an instance. */
  type?: MessageType | undefined
  /** How long to wait for the reply, in ms. Default: the tunnel's (10 000). */
  timeout?: number | undefined
  /** Aborts the wait. Default: the request's own `ctx.signal`. */
  signal?: AbortSignal | undefined
}

/**
 * What a replicated command fixes for every replica: the leader's clock when it stamped the
 * command, and a random sequence from the leader's seed.
 */
export interface CommandStamp {
  readonly now: number
  readonly random: () => number
  /** Server id of the edge the client sent the request to (the command's origin). */
  readonly origin: string
}

/**
 * What a handler and every middleware receive with a request. One object per request;
 * stores and the signal are created only when first used.
 */
export class RequestContext<Req = unknown> {
  /** The decoded request message (set before middleware runs). */
  request: Req
  /**
   * The reply: what the handler returned, or what a middleware set instead of calling
   * `next()`. Encoded and sent when the chain completes.
   */
  response: unknown = undefined
  /** Type to encode `response` with when it is a plain object (the handler's `returns`). */
  responseType: MessageType | undefined
  /** Replies sent so far through `send` (or the returned reply). */
  replies = 0
  private requestStore: Map<string, unknown> | undefined

  constructor(
    private readonly scope: EdgeScope,
    /** Where the request came from (a connection, or what a remote origin sent along); internal. */
    readonly origin: RequestOrigin,
    /** The envelope as received: `ctor`, `requestId`, `header`, `auth`, raw `message`. */
    readonly envelope: Envelope,
    request: Req,
    responseType: MessageType | undefined,
    /** Where answers go (the connection, a reply batch, nowhere), chosen by the origin; internal. */
    readonly sink: ReplySink,
    /** The replicated command's time and seed; undefined for a request run once, here. */
    private readonly stamp?: CommandStamp,
  ) {
    this.request = request
    this.responseType = responseType
  }

  /** This edge's server id. */
  get serverId(): string {
    return this.scope.serverId
  }

  /**
   * The client connection the request arrived on. Throws `TypeError` for a request run
   * without one on this edge.
   */
  get conn(): GatewayConn {
    const { conn } = this.origin
    if (conn === undefined) {
      throw new TypeError(
        `ctx.conn: this request came through '${this.gateway}', not a connection here`,
      )
    }
    return conn
  }

  /** The name of the gateway the request arrived through (`ws`, `http`, …). */
  get gateway(): string {
    return this.origin.gateway
  }

  /** The request's id; replies carry it. */
  get requestId(): bigint {
    return this.envelope.requestId
  }

  /** The request's constructor id. */
  get ctor(): bigint {
    return this.envelope.ctor
  }

  /** Envelope headers, in wire order (duplicates kept). */
  get header(): readonly KeyValue[] {
    return this.envelope.header
  }

  /** The first envelope header named `key`, if any. */
  headerValue(key: string): string | undefined {
    for (const entry of this.envelope.header) if (entry.key === key) return entry.value
    return undefined
  }

  /** Transport headers (HTTP request headers, WebSocket upgrade headers), lower-case names. */
  get transportHeaders(): ReadonlyMap<string, string> {
    return this.origin.headers
  }

  /** The envelope's opaque credentials (empty when none were sent). */
  get auth(): Uint8Array {
    return this.envelope.auth
  }

  /** A key/value store that lives as long as this request (for middleware → handler data). */
  get store(): Map<string, unknown> {
    this.requestStore ??= new Map()
    return this.requestStore
  }

  /** A key/value store that lives as long as the connection (sessions, auth state). */
  get connStore(): Map<string, unknown> {
    return this.origin.store
  }

  /** Aborted when the connection closes or the edge stops waiting for handlers. */
  get signal(): AbortSignal {
    return this.origin.signal
  }

  /**
   * Server id of the edge the client sent the request to. For a request run here, this
   * edge's id; for a `replicated` handler, the command's origin: the same on every replica
   * (so a leader applying a request a follower forwarded sees the follower's id).
   */
  get receivedBy(): string {
    return this.stamp === undefined ? this.scope.serverId : this.stamp.origin
  }

  /**
   * The request's time, in ms since the epoch. A `replicated` handler gets the time the
   * leader stamped on the command: the same on every replica, and never earlier than the
   * previous command's. Any other handler gets `Date.now()`.
   */
  now(): number {
    return this.stamp === undefined ? Date.now() : this.stamp.now
  }

  /**
   * A float in [0, 1), as `Math.random()`. A `replicated` handler draws from the command's
   * seed, so every replica draws the same sequence; any other handler gets `Math.random()`.
   */
  random(): number {
    return this.stamp === undefined ? Math.random() : this.stamp.random()
  }

  /**
   * Sends `message` to an edge of replica set `replicaSet` over the inter-node tunnel, as a
   * request of its own (its handler's mode applies there: a replicated one goes through that
   * set's leader), and resolves with the reply. Rejects with the reply's `RonyError` when
   * the answer is an error, `E02/TUNNEL` when the edge has no tunnel or no edge of the set
   * is known, and `E06/TUNNEL` when no answer came in time (the request may have run).
   */
  execute<Res = unknown>(
    replicaSet: number,
    message: object,
    options: ExecuteOptions = {},
  ): Promise<Res> {
    const execute = this.scope.execute
    if (execute === undefined) {
      return Promise.reject(
        new RonyError('E02', 'TUNNEL', 'ctx.execute needs cluster.tunnel', {
          code: 'RONY_ERR_NO_TUNNEL',
        }),
      )
    }
    return execute(replicaSet, message, {
      ...options,
      signal: options.signal ?? this.signal,
    }) as Promise<Res>
  }

  /**
   * Sends a reply now, carrying this request's id; a handler may send several. Returns
   * false when the connection is closed or over its outbound high-water mark. Throws
   * `TypeError` for a message that cannot be encoded.
   *
   * @param message - a protobufjs message instance, or a plain object with `type`
   */
  send(message: object, type?: MessageType): boolean {
    this.replies++
    return this.sink.reply(
      messageReply(this.scope.messages, this.envelope.requestId, message, type),
    )
  }

  /**
   * Pushes a server-initiated update (request id 0) to this connection. Returns false on
   * connections that cannot carry pushes (HTTP), or that are closed or congested. Throws
   * `TypeError` for a message that cannot be encoded.
   */
  push(message: object, type?: MessageType): boolean {
    if (!this.sink.canPush) return false
    return this.sink.push(messageReply(this.scope.messages, 0n, message, type))
  }
}

/** Koa-style middleware: do work, `await next()` to run the rest of the chain, do more. */
export type Middleware = (ctx: RequestContext, next: () => Promise<void>) => void | Promise<void>

/**
 * A request handler: returns the reply (a message instance, or a plain object when the
 * handler was registered with `returns`), throws a `RonyError` to answer with an error,
 * or sends replies itself through `ctx.send`.
 */
export type Handler<Req = unknown, Res = unknown> = (
  request: Req,
  ctx: RequestContext<Req>,
) => Res | undefined | Promise<Res | undefined>
