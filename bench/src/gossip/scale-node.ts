/**
 * One node of the scale simulation, the same in the main process and apart (`apart.ts`): its
 * profile, its seeded random (from its id, so a node behaves the same wherever it runs) and
 * the membership events the tracker counts, by observer index.
 */

import { type GossipMembership, gossip } from '@rony/gossip'
import { type MemoryNetwork, seededRandom, type VirtualClock } from '@rony/transport'

/** What the tracker hears of an observer (`o`, its index). */
export interface ScaleEvents {
  join(o: number, member: string): void
  leave(o: number, member: string, failed: boolean): void
  update(o: number, member: string, meta: Readonly<Record<string, string>>): void
  message(o: number, tag: number): void
}

export interface ScaleNodeInit {
  o: number
  id: string
  seeds: string[]
  transport: {
    packet: ReturnType<MemoryNetwork['packet']>
    stream: ReturnType<MemoryNetwork['stream']>
  }
  clock: Pick<VirtualClock, 'now' | 'setTimeout' | 'clearTimeout'>
  /** The run's seed. */
  seed: number
  events: ScaleEvents
}

/** A node's random source: from its id and the run's seed, so it is the same wherever it runs. */
export function nodeRandom(id: string, seed: number): ReturnType<typeof seededRandom> {
  let h = 2166136261
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619)
  return seededRandom((h >>> 0) ^ seed)
}

export function scaleNode(init: ScaleNodeInit): GossipMembership {
  const { o, id, events } = init
  const g = gossip({
    id,
    profile: 'lan',
    seeds: init.seeds,
    transport: init.transport,
    clock: init.clock,
    random: nodeRandom(id, init.seed),
  })
  g.on('member:join', (m) => events.join(o, m.id))
  g.on('member:leave', (m, reason) => events.leave(o, m.id, reason === 'failed'))
  g.on('member:update', (m) => events.update(o, m.id, m.meta))
  g.on('message', (data) => events.message(o, data[0] ?? -1))
  return g
}
