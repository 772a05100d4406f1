/**
 * @packageDocumentation
 *
 * The Rony client: protobuf RPC to a Rony edge (TypeScript or Go) over WebSocket, in
 * browsers and Node ≥ 22. Requests are correlated by request id, server pushes arrive as
 * events or an async iterable, the connection reconnects with backoff and is kept alive
 * with `rony.Ping`. No Node built-ins: it runs on the global `WebSocket`.
 *
 * @example
 * ```ts
 * import { createClient } from '@rony/client'
 * import { rony } from '@rony/envelope'
 *
 * const client = createClient('ws://127.0.0.1:8080/')
 * const pong = await client.request(rony.Ping.create({ ID: 42 }), rony.Pong)
 * console.log(pong.ID.toString()) // '42'
 *
 * client.on('update', (update) => console.log('pushed', update.name, update.message))
 * await client.close()
 * ```
 */

import type { Client } from './api.js'
import { RonyClient } from './client.js'
import type { ClientInit } from './options.js'

export type { Client, ConnectOptions, RequestOptions } from './api.js'
export { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js'
export { CLIENT_ERROR_CODES, type ClientErrorCode } from './errors.js'
export type { ClientEvents, CloseInfo, EventName, ReconnectInfo, Update } from './events.js'
export type { ClientState } from './link.js'
export type { ClientClock, ClientInit, ClientRandom, HeaderInit } from './options.js'
export { type ServiceClient, serviceClient } from './service.js'
export type { WebSocketConstructor, WebSocketLike } from './transport/ws.js'
export type { UpdatesOptions } from './updates.js'

/**
 * Creates a client for the edge at `url`: `ws://` or `wss://` (WebSocket), `http://` or
 * `https://` (one POST per request), or a QUIC multiaddr (Node). Nothing is dialed until
 * `connect()` or the first `request()`.
 *
 * Throws `TypeError` for any other scheme (or a string that is not a URL), and `RangeError`
 * for an option out of range.
 *
 * @example
 * ```ts
 * const client = createClient('wss://edge.example.com/', {
 *   timeout: 5_000,
 *   header: { 'x-app': 'web' },
 *   reconnect: { initialDelay: 250, maxDelay: 30_000 },
 * })
 * ```
 */
export function createClient(url: string, init?: ClientInit): Client {
  return new RonyClient(url, init)
}
