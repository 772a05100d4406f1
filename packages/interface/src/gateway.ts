/**
 * The contract between the edge and a gateway (WebSocket, HTTP, QUIC, in-memory, or your
 * own). A gateway owns sockets and framing; it turns each inbound message into one
 * `onMessage` call with the message's bytes, and sends the bytes the edge gives it. It knows
 * nothing about envelopes, handlers or clusters, so the edge never needs to know about
 * sockets.
 *
 * @module
 */

import type { Startable } from './lifecycle.js'

/**
 * How a message's bytes are encoded: `'binary'` is a protobuf-encoded envelope (or
 * container); `'json'` is the same envelope in protobuf's canonical JSON mapping, UTF-8
 * encoded. Gateways that cannot tell (or do not support JSON) always use `'binary'`.
 */
export type PayloadFormat = 'binary' | 'json'

/**
 * One client connection, as the edge sees it. For persistent transports (WebSocket, QUIC)
 * it lives as long as the socket; for HTTP it is one request and its response.
 */
export interface GatewayConn {
  /**
   * Connection id: a positive integer, unique among this gateway's connections for the
   * gateway's lifetime (not reused after close). Together with the gateway's `name` it
   * identifies a connection within an edge.
   */
  readonly id: number

  /**
   * `true` when the connection carries many messages in both directions and can receive
   * server pushes (WebSocket, QUIC); `false` when it carries one request and at most one
   * reply (HTTP), after which the gateway closes it.
   */
  readonly persistent: boolean

  /**
   * The peer's address as the transport reports it: `host:port` for IP transports (IPv6
   * in brackets, `[::1]:52000`), a multiaddr for libp2p transports, an implementation-
   * defined label otherwise (`memory:3`). Behind a proxy this is the proxy, unless the
   * gateway is configured to trust a forwarding header. For logs and rate limits only.
   */
  readonly remoteAddress: string

  /**
   * Transport protocol of this connection, lower case: `'ws'`, `'wss'`, `'http'`,
   * `'https'`, `'quic'`, `'memory'`, or a custom gateway's own name.
   */
  readonly protocol: string

  /**
   * `true` once the connection is closed, by either side. Set synchronously by `close()`.
   * After that, `send` drops everything and returns `false`.
   */
  readonly closed: boolean

  /**
   * Queues one whole message for the peer: one WebSocket message, one HTTP response body,
   * one length-prefixed frame on a QUIC stream. The gateway does the framing; `bytes` is
   * exactly what the peer's decoder receives.
   *
   * The gateway takes ownership of `bytes`: the caller must not modify it afterwards.
   *
   * On a non-persistent connection (HTTP), the first `send` is the response; the gateway
   * then closes the connection, and later sends return `false`.
   *
   * @param bytes - The encoded message.
   * @param format - How `bytes` is encoded; the gateway frames it accordingly (a text frame
   * or `application/json` for `'json'`). Default `'binary'`. The edge replies in the format
   * of the request it answers.
   * @returns `true` when the message was queued and the outbound buffer is still under the
   * gateway's high-water mark. `false` when the connection is closed (the message was
   * dropped; check {@link GatewayConn.closed}) or the buffer is now over its high-water mark
   * (the message was queued, but the peer reads slower than we write): the caller should
   * slow down, for example by dropping optional pushes until a later send returns `true`.
   * A gateway bounds the buffer: past its hard limit it closes the connection instead of
   * growing without end.
   */
  send(bytes: Uint8Array, format?: PayloadFormat): boolean

  /**
   * Closes the connection. Messages already queued are flushed if the transport allows it
   * within the gateway's close timeout. Idempotent: calls after the first do nothing.
   * `onClose` follows exactly once, with `initiator: 'local'`.
   *
   * @param code - Transport close code where the transport has one: a WebSocket close code
   * (default 1000, normal closure; use 1001 when going away, 1008 for policy violations,
   * 1009 for a message too big, 4000–4999 for application codes), or a QUIC application
   * error code (default 0). Ignored by transports without codes (HTTP).
   * @param reason - Short human-readable reason, at most 123 bytes UTF-8 (the WebSocket
   * limit; longer reasons are truncated). Default: empty.
   */
  close(code?: number, reason?: string): void
}

/**
 * Transport metadata that arrives with an inbound message.
 */
export interface RequestMeta {
  /**
   * Transport headers: the HTTP request headers, or for WebSocket the headers of the upgrade
   * request (the same map for every message of the connection), or QUIC stream metadata.
   * Names are lower case; repeated headers are joined with `', '`. Empty when the transport
   * has none. A `Map`, not a plain object, so that a header named `__proto__` or
   * `constructor` is just a header.
   */
  readonly headers: ReadonlyMap<string, string>

  /** How `data` is encoded; see {@link PayloadFormat}. */
  readonly format: PayloadFormat

  /**
   * Set when the message is a call of one of the edge's {@link RestRoute}s: then `data` is
   * the HTTP request's body (possibly empty) in the route's `encoding` (also `format`), not
   * an envelope, and `rest` carries the URL parameters the route binds. The edge builds the
   * request message and answers with one envelope in the route's encoding.
   */
  readonly rest?: RestRequest | undefined
}

/**
 * Why a connection closed, as reported to {@link GatewayHandlers.onClose}.
 */
export interface CloseReason {
  /**
   * Who ended the connection: `'local'` (this side called `close()`, the gateway is
   * stopping, or a limit or idle timeout fired), `'remote'` (the peer closed it cleanly),
   * `'error'` (the transport failed: reset, protocol error, malformed framing).
   */
  readonly initiator: 'local' | 'remote' | 'error'

  /** Transport close code when there is one (WebSocket close code, QUIC error code). */
  readonly code?: number | undefined

  /** Human-readable reason when there is one (WebSocket close reason, limit exceeded…). */
  readonly reason?: string | undefined

  /** The underlying error when `initiator` is `'error'`. */
  readonly error?: Error | undefined
}

/**
 * Callbacks the edge gives a gateway through {@link Gateway.attach}.
 *
 * For each connection the gateway calls, in order: `onConnect` exactly once; `onMessage`
 * zero or more times (at most once on a non-persistent connection), in the order messages
 * arrived; `onClose` exactly once, last. No call for a connection happens after its
 * `onClose`. Calls for one connection never overlap; calls for different connections may
 * interleave.
 *
 * The callbacks are synchronous and should return quickly; the edge does its asynchronous
 * work (decoding, handlers, replies) after returning. If one throws, the gateway logs the
 * error and carries on: a throwing callback never closes the connection or stops the
 * gateway.
 */
export interface GatewayHandlers {
  /**
   * A connection was accepted (for HTTP: a request arrived), before any of its messages.
   *
   * @param conn - The new connection.
   */
  onConnect(conn: GatewayConn): void

  /**
   * One whole inbound message arrived, already de-framed and within the gateway's
   * `maxMessageSize`.
   *
   * @param conn - The connection it arrived on.
   * @param data - The message bytes. Owned by the callee from now on: the gateway neither
   * modifies nor reuses them.
   * @param meta - Transport headers and payload format.
   */
  onMessage(conn: GatewayConn, data: Uint8Array, meta: RequestMeta): void

  /**
   * The connection is closed and its resources released; `conn.closed` is `true`.
   *
   * @param conn - The closed connection.
   * @param reason - Who closed it and why.
   */
  onClose(conn: GatewayConn, reason: CloseReason): void

  /**
   * The REST routes the edge's handlers declared (`edge.handle(Type, fn, { rest })`, or a
   * service method's `rony_rest` option through `edge.service`), fixed
   * for as long as the gateway is attached. Gateways that speak HTTP serve them; others
   * ignore them. Absent or empty: no REST routes.
   */
  readonly restRoutes?: readonly RestRoute[] | undefined
}

/** HTTP methods a REST route can bind. */
export type RestMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** A URL parameter of a REST route and the request message field it fills. */
export interface RestParam {
  /** The path parameter's name (`id` for `:id`), or the query parameter's name. */
  readonly param: string
  /** The field of the request message it fills, as the message's JSON names it. */
  readonly field: string
}

/**
 * One REST binding of a handler, as the Go framework's `rony_rest` option defines it, with
 * its parameters resolved by the edge. The gateway that serves it stays ignorant of message
 * types: it matches the request, checks the body's media type against `encoding`, reads the
 * values of `pathParams` and `queryParams` (strings, as sent), and hands the edge the body
 * and those values ({@link RequestMeta.rest}). The edge builds the request message (body
 * first, then path values, then query values; each value converted to its field's type, or
 * E01) and runs it under the handler's constructor.
 *
 * The edge answers with one envelope in `encoding`: the gateway writes its message as the
 * body (`application/json` or `application/x-protobuf`), an `Error` as the HTTP status of
 * its code with the error as JSON, a `Redirect` as 307/308.
 *
 * Why the edge, not the gateway, merges the parameters: a binary body can only be merged
 * with them by someone who knows the message's fields, and the contract keeps that
 * knowledge on the edge's side.
 */
export interface RestRoute {
  readonly method: RestMethod
  /**
   * Path relative to the gateway's prefix, starting with `/`; `:name` segments are
   * parameters (`/users/:id`).
   */
  readonly path: string
  /** The handler it calls, for logs and errors: `Service.Method` or the request type's name. */
  readonly cmd: string
  /** Every `:name` of `path`, in order, with the field it fills. */
  readonly pathParams: readonly RestParam[]
  /** The query parameters the route binds; others are ignored. */
  readonly queryParams: readonly RestParam[]
  /**
   * The body's and the answer's encoding: `'json'` (protobuf JSON, `application/json`) or
   * `'binary'` (protobuf, `application/x-protobuf`, `application/octet-stream` or no
   * Content-Type).
   */
  readonly encoding: PayloadFormat
}

/** What a gateway hands the edge with a call of a REST route: see {@link RequestMeta.rest}. */
export interface RestRequest {
  /** The route called: one of {@link GatewayHandlers.restRoutes}. */
  readonly route: RestRoute
  /**
   * The values of the route's parameters that the request carries, by field name: every
   * path parameter, and the query parameters that are present, each once.
   */
  readonly values: ReadonlyMap<string, string>
}

/**
 * What a gateway can do. Compliance suites and the edge read these instead of checking the
 * gateway's name; a feature that is declared is tested, one that is not is skipped
 * explicitly.
 */
export interface GatewayFeatures {
  /**
   * The edge can send messages the client did not ask for (`ctx.push`) on this gateway's
   * connections: `true` for WebSocket and QUIC, `false` for HTTP.
   */
  readonly serverPush: boolean

  /** Inbound messages may arrive with `format: 'json'`, and replies may be sent as JSON. */
  readonly json: boolean

  /**
   * Largest inbound message, in bytes, the gateway accepts. A larger one never reaches
   * `onMessage`: the gateway rejects it (HTTP 413) or closes the connection (WebSocket 1009).
   */
  readonly maxMessageSize: number
}

/**
 * A server that accepts client connections and hands their messages to the edge.
 *
 * Lifecycle: construct (through the gateway's factory, such as `wsGateway({ port })`), then
 * `attach(handlers)`, then `start()`, which listens; `addresses()` is then valid. `stop()`
 * stops accepting, closes every open connection (WebSocket code 1001, going away), waits
 * until each `onClose` has been called, and then resolves.
 *
 * @example
 * ```ts
 * import type { Gateway, GatewayHandlers } from '@rony/interface'
 *
 * // Skeleton of a custom gateway; a real one opens a server in start().
 * function myGateway(port: number): Gateway {
 *   let handlers: GatewayHandlers | undefined
 *   return {
 *     name: 'my',
 *     features: { serverPush: true, json: false, maxMessageSize: 1024 * 1024 },
 *     attach(h) { handlers = h },
 *     addresses: () => [`my://127.0.0.1:${port}`],
 *     async start() { if (!handlers) throw new Error('attach first') },
 *     async stop() {},
 *   }
 * }
 * ```
 */
export interface Gateway extends Startable {
  /**
   * Short lower-case name of the gateway kind, used in logs, metrics and connection keys:
   * `'ws'`, `'http'`, `'quic'`, `'memory'`. Unique among the gateways of one edge.
   */
  readonly name: string

  /** What this gateway supports; constant for the gateway's lifetime. */
  readonly features: GatewayFeatures

  /**
   * Gives the gateway the edge's callbacks. Must be called once, before `start()`; a
   * gateway started without handlers rejects `start()` with a `CodedError` whose code is
   * `RONY_ERR_NOT_ATTACHED`.
   *
   * @param handlers - The edge's connection callbacks.
   */
  attach(handlers: GatewayHandlers): void

  /**
   * Where the gateway listens, as URLs or multiaddrs clients can dial: for example
   * `ws://127.0.0.1:8080/`, `http://[::1]:8081/`,
   * `/ip4/127.0.0.1/udp/4433/quic-v1/p2p/12D3Koo…`. Valid after `start()` resolves (with
   * the real port when bound to port 0); empty before `start()` and after `stop()`.
   *
   * @returns A fresh array; the caller may keep or modify it.
   */
  addresses(): string[]
}
