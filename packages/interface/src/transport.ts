/**
 * The network, as gossip and Raft see it. Both are written against these two interfaces
 * only, never against `node:dgram` or `node:net`, so that an in-memory network with
 * drop, delay and partition controls can stand in for the real one in deterministic tests.
 *
 * - {@link PacketTransport}: unreliable datagrams (UDP), for gossip probes and dissemination.
 * - {@link StreamTransport}: reliable, ordered, message-framed streams (TCP), for gossip
 *   push-pull and fallback probes, and for Raft RPCs.
 *
 * Addresses are opaque strings to the protocols: `host:port` for IP transports (IPv6 in
 * brackets, `[::1]:7946`), anything unique (`memory:n1`) for in-memory ones. A protocol only
 * stores addresses it has been given and passes them back to the transport.
 *
 * @module
 */

import type { AbortOptions, Startable } from './lifecycle.js'

/**
 * Unreliable, unordered datagrams: each `send` is one packet that arrives whole, once, or
 * not at all, possibly out of order (and, on real networks, rarely more than once).
 *
 * Packets are bounded by {@link PacketTransport.maxPacketSize}; the protocol keeps each
 * packet within it (gossip packs piggybacked messages up to that size).
 */
export interface PacketTransport extends Startable {
  /**
   * The local address peers send to, such as `127.0.0.1:7946` (with the real port when
   * bound to port 0). Valid after `start()` resolves; before that its value is unspecified
   * (often the configured bind address, possibly with port 0). Reading it never throws.
   */
  readonly address: string

  /**
   * Largest packet payload, in bytes, that `send` delivers, for example 1400 for UDP on a
   * typical LAN (below the Ethernet MTU minus IP and UDP headers, so packets are not
   * fragmented), or 65,507 for loopback. Constant for the transport's lifetime.
   */
  readonly maxPacketSize: number

  /**
   * Sends one packet, fire and forget. Never throws for network reasons: an unreachable
   * address, a full socket buffer, a packet over `maxPacketSize`, or a call before `start()`
   * or after `stop()` drops the packet (implementations log it on their `trace` channel).
   *
   * @param to - Destination address.
   * @param data - Packet payload; the transport takes ownership of it.
   */
  send(to: string, data: Uint8Array): void

  /**
   * Sets the function called for each inbound packet. Set it before `start()`; packets that
   * arrive with no handler are dropped. A later call replaces the handler.
   *
   * @param handler - Called synchronously per packet, with the payload (owned by the
   * handler) and the sender's address (the same string the sender's `address` reports, so
   * it can be used to reply).
   */
  onPacket(handler: (data: Uint8Array, from: string) => void): void
}

/**
 * A reliable, ordered, message-framed, bidirectional connection between two endpoints.
 *
 * Messages are whole: one `send` on one side is exactly one message yielded on the other,
 * never split or merged (framing, such as a length prefix on TCP, is the transport's job).
 * Each message is bounded by the transport's `maxMessageSize`.
 *
 * Reading is by async iteration: `for await (const msg of stream)`. Iteration ends when the
 * remote side closes the stream, and throws when the stream is aborted (locally or by the
 * remote, or on a transport error). A stream supports one iteration at a time. Messages
 * that arrive while nobody iterates are buffered up to a bound; beyond it the transport
 * stops reading from the network (back pressure), so a slow reader slows the sender rather
 * than growing memory.
 *
 * @example
 * ```ts
 * import type { StreamTransport } from '@rony/interface'
 *
 * // A request/response exchange over a fresh stream.
 * async function call(net: StreamTransport, to: string, req: Uint8Array): Promise<Uint8Array> {
 *   const stream = await net.dial(to, { signal: AbortSignal.timeout(5_000) })
 *   try {
 *     await stream.send(req)
 *     for await (const res of stream) return res
 *     throw new Error('stream closed before a response')
 *   } finally {
 *     await stream.close()
 *   }
 * }
 * ```
 */
export interface MessageStream {
  /** The remote endpoint's address (for a dialed stream, the address that was dialed). */
  readonly remote: string

  /**
   * Sends one whole message. Resolves once the message is accepted into the stream's
   * outbound buffer, waiting first while that buffer is over its high-water mark (back
   * pressure); it does not wait for the remote to read it.
   *
   * Rejects with a `CodedError` whose code is `RONY_ERR_MESSAGE_TOO_LARGE` when
   * `msg.byteLength` exceeds the transport's `maxMessageSize` (the stream stays usable), or
   * `RONY_ERR_STREAM_CLOSED` when the stream is closed or aborted.
   *
   * @param msg - The message; the stream takes ownership of it.
   */
  send(msg: Uint8Array): Promise<void>

  /**
   * Iterates inbound messages, in order, each one whole.
   *
   * @returns An iterator that ends when the remote closes the stream, and throws the abort
   * error when the stream is aborted.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>

  /**
   * Graceful close: flushes queued outbound messages, signals end of stream to the remote
   * (its iteration ends), and resolves once the underlying resources are released (or the
   * transport's close timeout elapsed, after which it aborts). The local iteration ends too,
   * after messages already received. Idempotent.
   */
  close(): Promise<void>

  /**
   * Immediate close: drops queued messages, resets the connection, rejects pending `send`
   * calls and makes both sides' iteration throw. Idempotent; a no-op after `close()`
   * resolves.
   *
   * @param err - The error local iteration and pending sends fail with; default: a
   * `CodedError` with code `RONY_ERR_STREAM_CLOSED`.
   */
  abort(err?: Error): void
}

/**
 * Opens and accepts {@link MessageStream}s. One stream per exchange (a Raft RPC pipeline,
 * a gossip push-pull) is the usual pattern; implementations may multiplex streams over
 * one connection per peer or open one socket per stream.
 */
export interface StreamTransport extends Startable {
  /**
   * The local address peers dial, such as `127.0.0.1:9001` (with the real port when bound
   * to port 0). Valid after `start()` resolves; before that its value is unspecified (often
   * the configured bind address, possibly with port 0). Reading it never throws.
   */
  readonly address: string

  /**
   * Largest message, in bytes, a stream sends or accepts. A peer that announces a larger
   * frame has its stream aborted. Constant for the transport's lifetime.
   */
  readonly maxMessageSize: number

  /**
   * Opens a stream to `to`. Rejects with a `CodedError` whose code is
   * `RONY_ERR_DIAL_FAILED` (with the network error as `cause`) when the peer cannot be
   * reached, `RONY_ERR_NOT_STARTED` before `start()`, and `signal.reason` when aborted.
   *
   * @param to - The remote's address (its `address`).
   * @param opts - Abort signal; the default timeout is the implementation's (for example
   * 10 s for TCP).
   * @returns A stream ready for `send` and iteration.
   */
  dial(to: string, opts?: AbortOptions): Promise<MessageStream>

  /**
   * Sets the function called for each stream a remote opens to this transport. Set it
   * before `start()`; streams that arrive with no handler are aborted. A later call
   * replaces the handler.
   *
   * @param handler - Called synchronously per inbound stream; it owns the stream and must
   * eventually close or abort it (`stop()` aborts any still open).
   */
  onStream(handler: (stream: MessageStream) => void): void
}
