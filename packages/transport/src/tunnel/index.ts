import type { Tunnel, TunnelFactory } from '@rony/interface'
import { resolveTunnelLimits, type TunnelInit } from './options.js'
import { TunnelNode } from './tunnel.js'

/**
 * Options of a tunnel the host completes: everything but `id`, which the host supplies
 * (the edge's server id).
 */
export type TunnelFactoryInit = Omit<TunnelInit, 'id'> & { id?: undefined }

/**
 * Creates an inter-node tunnel: request/response between nodes over TCP at `bind` (or over
 * `transport`), on {@link peerLinks} with the hello `'rony-tunnel/1'`. Nothing listens until
 * `start()`.
 *
 * @param init - Options; `id` is required for a standalone tunnel.
 * @throws TypeError for a missing id, `bind` and `transport`, or an unknown option;
 *   RangeError for an option out of range.
 */
export function tunnel(init: TunnelInit): Tunnel
/**
 * Without an `id`, returns a {@link TunnelFactory} the host (the edge) completes with its
 * server id and its logger (scoped `rony:tunnel:<id>`, unless `init.logger` is set). The
 * options are checked at once. Each call of the factory builds a new tunnel, on a new TCP
 * transport at `bind`; a `transport` given here belongs to the first tunnel built.
 */
export function tunnel(init: TunnelFactoryInit): TunnelFactory
export function tunnel(init: TunnelInit | TunnelFactoryInit): Tunnel | TunnelFactory {
  if (init.id !== undefined) return new TunnelNode(init as TunnelInit)
  const options: TunnelFactoryInit = { ...init }
  resolveTunnelLimits(options) // fail on bad options where the caller wrote them
  return ({ id, logger }) =>
    new TunnelNode({
      ...options,
      id,
      logger: options.logger ?? logger.forComponent(`rony:tunnel:${id}`),
    })
}
