import type { Envelope, KeyValue, MessageRegistry, MessageType } from '@rony/envelope'
import type { GatewayConn } from '@rony/interface'
import type { RequestOrigin } from './connection.js'
import { messageReply, type ReplySink } from './reply.js'

/** What every request of an edge shares: its server id, and the types replies are encoded by. */
export interface EdgeScope {
  readonly serverId: string
  readonly messages: MessageRegistry
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
