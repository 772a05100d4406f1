import type { Clock, Logger, Random, StreamTransport } from '@rony/interface'
import { resolveIntegerLimits } from '../limits.js'

/** Options of {@link tunnel}. Sizes are in bytes, durations in milliseconds. */
export interface TunnelInit {
  /** This node's id, non-empty. Required for a standalone tunnel; the edge supplies it otherwise. */
  id: string
  /**
   * `host:port` the default TCP transport listens at (port `0`: any free port; read the
   * chosen one from `tunnel.address` once started). Required unless `transport` is given.
   */
  bind?: string | undefined
  /**
   * The stream network to run on instead of TCP at `bind` (a memory network's
   * `stream(address)` in tests), owned by the tunnel from now on; its `maxMessageSize` must
   * hold `maxMessageSize` plus the 5-byte frame header.
   */
  transport?: StreamTransport | undefined
  /**
   * Largest request or response payload. Keep it at or above the edge's envelope limit, so
   * that any envelope a client may send can be forwarded. Default `4_194_304` (4 MiB).
   */
  maxMessageSize?: number | undefined
  /** Outbound requests awaiting a response; one more rejects at once with `RONY_ERR_BUSY`. Default `1024`. */
  maxInFlight?: number | undefined
  /** Inbound requests whose handler is running; one more is answered `RONY_ERR_BUSY`. Default `256`. */
  maxConcurrent?: number | undefined
  /** Default timeout of `request`, in ms. Default `10_000`. */
  requestTimeout?: number | undefined
  /** Timers for timeouts and the peer links' backoff. Default: the system clock. */
  clock?: Clock | undefined
  /**
   * Draws the first request id at each start, so that a restarted node does not reuse the
   * ids of requests a peer may still be running for its previous run. Default: `Math.random`.
   */
  random?: Random | undefined
  /** Logger, e.g. `components.logger.forComponent('rony:tunnel:n1')`. Default: silent. */
  logger?: Logger | undefined
}

export const TUNNEL_DEFAULTS = Object.freeze({
  maxMessageSize: 4 * 1024 * 1024,
  maxInFlight: 1024,
  maxConcurrent: 256,
  requestTimeout: 10_000,
})

export type TunnelLimits = { readonly [K in keyof typeof TUNNEL_DEFAULTS]: number }

/** The numeric options over their defaults; throws for unknown keys and out-of-range values. */
export function resolveTunnelLimits(init: Omit<TunnelInit, 'id'>): TunnelLimits {
  const limits = resolveIntegerLimits('tunnel', init, TUNNEL_DEFAULTS, [
    'id',
    'bind',
    'transport',
    'clock',
    'random',
    'logger',
  ])
  if (init.transport === undefined && typeof init.bind !== 'string') {
    throw new TypeError('tunnel: bind (host:port) or transport is required')
  }
  return limits
}
