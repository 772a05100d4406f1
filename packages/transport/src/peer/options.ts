import type { Clock, Logger, StreamTransport } from '@rony/interface'
import { resolveIntegerLimits } from '../limits.js'
import type { PeerHandshake } from './handshake.js'

/** Options of {@link peerLinks}. Sizes are in bytes, durations in milliseconds. */
export interface PeerLinksInit {
  /**
   * This node's id, non-empty: the hello of every connection it dials names it, and when two
   * nodes dial each other at once the connection of the smaller id (JavaScript string
   * order) is kept. Required.
   */
  id: string
  /**
   * The stream network the links run on, owned by them from now on: they set its stream
   * handler, start it and stop it. `tcpTransport({ bind })`, or a memory network's
   * `stream(address)` in tests. One user per transport: a second protocol (the edge's
   * tunnel beside Raft) runs its own links on its own port. The largest frame is the
   * transport's `maxMessageSize`: set it there (`tcpTransport({ maxMessageSize })`). Required.
   */
  transport: StreamTransport
  /** The hello codec. Default `peerHandshake()` (protocol `'rony-peer/1'`). */
  handshake?: PeerHandshake | undefined
  /**
   * Frames queued per peer while it has no connection or its stream pushes back; beyond
   * it the oldest frame is dropped. Default `1024` frames.
   */
  maxQueue?: number | undefined
  /**
   * Bytes queued per peer; beyond it the oldest frames are dropped (a frame is always
   * queued when the queue is empty, whatever its size). Default `67_108_864` (64 MiB).
   */
  maxQueueBytes?: number | undefined
  /** Delay before the first redial after a failed dial or a lost connection, in ms; doubles up to `maxBackoff`. Default `50`. */
  minBackoff?: number | undefined
  /** Longest delay between redials, in ms. Default `2_000`. */
  maxBackoff?: number | undefined
  /**
   * How long the node with the larger id waits for the peer's own connection before it
   * dials, in ms: when both have frames at once (an election), this usually leaves one dial,
   * so no frame is lost on a connection closed by the tie-break. Default `100`.
   */
  dialGrace?: number | undefined
  /** Time an inbound connection has to send its hello before it is refused, in ms. Default `10_000`. */
  handshakeTimeout?: number | undefined
  /** Timers for backoff, grace and hello timeout. Default: the system clock. */
  clock?: Clock | undefined
  /** Logger, e.g. `components.logger.forComponent('rony:tunnel:n1')`. Default: silent. */
  logger?: Logger | undefined
}

export const PEER_LINKS_DEFAULTS = Object.freeze({
  maxQueue: 1024,
  maxQueueBytes: 64 * 1024 * 1024,
  minBackoff: 50,
  maxBackoff: 2_000,
  dialGrace: 100,
  handshakeTimeout: 10_000,
})

export type PeerLinksLimits = { readonly [K in keyof typeof PEER_LINKS_DEFAULTS]: number }

/** The numeric options over their defaults; throws for unknown keys and out-of-range values. */
export function resolveLimits(init: PeerLinksInit): PeerLinksLimits {
  const limits = resolveIntegerLimits(
    'peerLinks',
    init,
    PEER_LINKS_DEFAULTS,
    ['id', 'transport', 'handshake', 'clock', 'logger'],
    (key) => (key === 'dialGrace' ? 0 : 1),
  )
  if (limits.maxBackoff < limits.minBackoff) {
    throw new RangeError('maxBackoff must be at least minBackoff')
  }
  return limits
}
