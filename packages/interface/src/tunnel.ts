/**
 * The inter-node tunnel: byte-level request/response between two nodes of a cluster. The
 * edge routes a request to another replica set over it (`ctx.execute(replicaSet, msg)`, the
 * basis of sharding), and a follower forwards a replicated request to its leader and relays
 * the answer. The edge sees only this contract; `@rony/transport`'s `tunnel()` implements it
 * over TCP.
 *
 * @module
 */

import type { AbortOptions, Startable } from './lifecycle.js'
import type { ComponentLogger } from './logger.js'

/** A node a tunnel can reach: its id and the tunnel address it listens at. */
export interface TunnelPeer {
  /** The peer's node id (the edge's server id). */
  readonly id: string
  /** The peer's {@link Tunnel.address}, as it advertises it (in gossip metadata). */
  readonly address: string
}

/**
 * Handles one inbound request: returns (or resolves to) the response bytes. A throw, or a
 * rejection, reaches the requester as `RONY_ERR_REMOTE` with the thrown error's message.
 *
 * @param request - The request bytes, owned by the handler.
 * @param from - The requesting node's id.
 * @param signal - Aborts when the tunnel stops, or when the requester gives up (its
 *   timeout or signal fired and it said so; best effort, a lost connection may go unseen).
 */
export type TunnelHandler = (
  request: Uint8Array,
  from: string,
  signal: AbortSignal,
) => Uint8Array | Promise<Uint8Array>

/** Options of {@link Tunnel.request}. */
export interface TunnelRequestOptions extends AbortOptions {
  /**
   * How long to wait for the response, in ms. Default: the tunnel's own (10 000 ms in
   * `@rony/transport`'s `tunnel()`).
   */
  timeout?: number | undefined
}

/**
 * Request/response between any two nodes, framed, with bounded work both ways.
 *
 * Errors of {@link Tunnel.request} (all `CodedError`s, apart from an abort's `signal.reason`):
 *
 * | Code | Meaning | What to do |
 * | --- | --- | --- |
 * | `RONY_ERR_TIMEOUT` | No response within the timeout: the peer is slow, down, unreachable, or the connection was lost with the frames on it. | Retry if the request is idempotent; the handler may or may not have run. |
 * | `RONY_ERR_STOPPED` | This tunnel stopped while the request was pending. | Nothing: shutting down. |
 * | `RONY_ERR_NOT_STARTED` | `request` before `start()`. | Start the tunnel first. |
 * | `RONY_ERR_MESSAGE_TOO_LARGE` | The request (checked at once) or the response (reported by the peer) exceeds `maxMessageSize`. | Send less, or raise the limit on both sides. |
 * | `RONY_ERR_BUSY` | Too many requests in flight here (rejected at once), or the peer runs as many handlers as it allows. | Back off and retry. |
 * | `RONY_ERR_REMOTE` | The peer's handler threw; the message is the thrown error's message. | Treat as the handler's failure. |
 * | `RONY_ERR_DIAL_FAILED` | The peer could not be reached, when the tunnel can tell (a tunnel that redials until the timeout reports `RONY_ERR_TIMEOUT` instead). | Retry later; the peer may be down. |
 */
export interface Tunnel extends Startable {
  /** This node's id. */
  readonly id: string
  /** The address peers dial, advertised to them (in gossip metadata); valid once started. */
  readonly address: string
  /** Largest request or response payload, in bytes (the framing is on top of it). */
  readonly maxMessageSize: number
  /**
   * Sets the handler of inbound requests; a later call replaces it. Set it before
   * `start()`: a request that arrives with no handler set is answered with `RONY_ERR_REMOTE`.
   */
  onRequest(handler: TunnelHandler): void
  /**
   * Sends `request` to `to` and resolves with its handler's response.
   *
   * @throws see the table on {@link Tunnel}; TypeError when `to.id` is empty or this node's.
   */
  request(to: TunnelPeer, request: Uint8Array, opts?: TunnelRequestOptions): Promise<Uint8Array>
}

/** What a host (the edge) supplies to a {@link TunnelFactory}. */
export interface TunnelComponents {
  /** The local node id: the edge's server id. */
  readonly id: string
  /** The host's logger factory; the tunnel scopes its own logger from it. */
  readonly logger: ComponentLogger
}

/**
 * A tunnel not yet completed: the host calls it with its id and logger. `tunnel({ bind })`
 * without an `id` returns one; with an `id` it returns a standalone {@link Tunnel}.
 */
export type TunnelFactory = (components: TunnelComponents) => Tunnel
