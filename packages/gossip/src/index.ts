/**
 * @packageDocumentation
 *
 * `@rony/gossip`: cluster membership with SWIM and Lifeguard, as hashicorp/memberlist does
 * it. Each member probes another every interval in a randomized round-robin (indirectly
 * through `k` others, and over TCP, when a direct probe fails), suspects it when nobody
 * reaches it, and declares it dead when the suspicion is not refuted in time: a timeout
 * that shrinks as other members confirm it. Membership news and user broadcasts ride on
 * protocol packets (`mult × ceil(log10(N + 1))` transmissions each, at least 8), and a periodic
 * push-pull over TCP syncs full state. Packets can be sealed with AES-256-GCM.
 *
 * Everything timed or random goes through the injected `clock` and `random`, so a cluster
 * runs deterministically over `memoryNetwork()` from `@rony/transport` in tests.
 *
 * @example
 * ```ts
 * import { gossip } from '@rony/gossip'
 *
 * const g = gossip({ id: 'n1', bind: '127.0.0.1:7946', seeds: ['127.0.0.1:7947'], meta: { role: 'api' } })
 * g.on('member:join', (m) => console.log('join', m.id, m.meta))
 * g.on('member:leave', (m, reason) => console.log('leave', m.id, reason))
 * g.on('message', (data, from) => console.log(from, new TextDecoder().decode(data)))
 * await g.start()
 * g.broadcast(new TextEncoder().encode('hello'))
 * // …
 * await g.leave()
 * await g.stop()
 * ```
 */

import type { Membership, MembershipFactory } from '@rony/interface'
import { completeGossip, type GossipFactoryInit } from './factory.js'
import { Gossip } from './gossip.js'
import { type GossipInit, resolveConfig } from './options.js'
import type { GossipStats } from './stats.js'

export { Keyring } from './codec/crypto.js'
export type { GossipFactoryInit } from './factory.js'
export type { GossipInit, GossipProfile, GossipTransports } from './options.js'
export { PROFILES } from './options.js'
export type { DropReason, GossipStats } from './stats.js'

/** A {@link Membership} with gossip's extras. */
export interface GossipMembership extends Membership {
  /** Counters: packets and bytes, drops by reason, probes, push-pulls, health score. A copy. */
  stats(): GossipStats
}

/**
 * Creates a SWIM + Lifeguard membership component. Nothing happens until `start()`.
 *
 * @param init - Options; `id` is required for a standalone component.
 * @throws `CodedError` `RONY_ERR_MESSAGE_TOO_LARGE` when `meta` is above `maxMetaBytes`.
 */
export function gossip(init: GossipInit): GossipMembership
/**
 * Without an `id`, returns a {@link MembershipFactory} for a host to complete: the edge
 * calls it with its server id (the member id) and its logger (used unless `init.logger` is
 * set). The options are checked at once, the id when the host calls it.
 *
 * @example
 * ```ts
 * createEdge({ id: 'n1', gateways, cluster: { replicaSet: 1, membership: gossip({ bind: '127.0.0.1:7946' }) } })
 * ```
 */
export function gossip(init: GossipFactoryInit): MembershipFactory
export function gossip(init: GossipInit | GossipFactoryInit): GossipMembership | MembershipFactory {
  if (init.id !== undefined) return new Gossip(init as GossipInit)
  const options: GossipFactoryInit = { ...init }
  // Fail on bad options now, where the caller wrote them, not at the host's start().
  resolveConfig({ ...options, id: 'check' })
  return (components) => completeGossip(options, components)
}
