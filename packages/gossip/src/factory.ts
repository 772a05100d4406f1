import type { MembershipComponents } from '@rony/interface'
import { Gossip } from './gossip.js'
import type { GossipInit } from './options.js'

/**
 * Options of a gossip component the host completes: everything but `id`, which the host
 * supplies (the edge's server id).
 */
export type GossipFactoryInit = Omit<GossipInit, 'id'> & { id?: undefined }

/**
 * Completes `init` with what the host owns: its id, and its logger unless `init` names one.
 * Each call builds a new component (gossip does not restart, so a host that restarts calls
 * it again).
 */
export function completeGossip(init: GossipFactoryInit, components: MembershipComponents): Gossip {
  return new Gossip({ ...init, id: components.id, logger: init.logger ?? components.logger })
}
