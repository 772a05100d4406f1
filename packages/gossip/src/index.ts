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

import type { Membership } from '@rony/interface'
import { Gossip } from './gossip.js'
import type { GossipInit } from './options.js'
import type { GossipStats } from './stats.js'

export { Keyring } from './codec/crypto.js'
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
 * @param init - Options; only `id` is required.
 * @throws `CodedError` `RONY_ERR_MESSAGE_TOO_LARGE` when `meta` is above `maxMetaBytes`.
 */
export function gossip(init: GossipInit): GossipMembership {
  return new Gossip(init)
}
