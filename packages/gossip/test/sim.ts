import type { Clock, LeaveReason, Member, Random } from '@rony/interface'
import {
  type LinkFaults,
  type MemoryNetwork,
  memoryNetwork,
  seededRandom,
  type VirtualClock,
  virtualClock,
} from '@rony/transport'
import { type GossipInit, type GossipMembership, gossip } from '../src/index.js'

/** One event seen by a node, for assertions. */
export interface Seen {
  at: number
  node: string
  event: 'join' | 'update' | 'suspect' | 'leave'
  member: string
  reason?: LeaveReason
  incarnation: number
}

/** A simulated cluster: one virtual clock, one memory network, many gossip nodes. */
export interface Sim {
  clock: VirtualClock
  net: MemoryNetwork
  nodes: Map<string, GossipMembership>
  events: Seen[]
  /** Creates and starts a node `id` at `memory:<id>` (seeded through the first node). */
  spawn(id: string, init?: Partial<GossipInit>): Promise<GossipMembership>
  /** Crashes a node's endpoints and stops it (looks like a process death to the others). */
  crash(id: string): Promise<void>
  /** Runs the simulation for `ms` of virtual time. */
  run(ms: number): Promise<void>
  /** Stops every node. */
  close(): Promise<void>
}

export const addr = (id: string): string => `memory:${id}`

/** A clock whose timers run `factor` times slower (an overloaded process). */
export function slowClock(clock: Clock, factor: number): Clock {
  return {
    now: () => clock.now(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms * factor),
    clearTimeout: (h) => clock.clearTimeout(h),
  }
}

const hash = (s: string): number => {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return h >>> 0
}

export function sim(opts: { seed: number; faults?: LinkFaults; base?: Partial<GossipInit> }): Sim {
  const clock = virtualClock({ now: 1_700_000_000_000 })
  const net = memoryNetwork({
    clock,
    random: seededRandom(opts.seed),
    faults: opts.faults ?? { delay: { min: 1, max: 5 } },
  })
  const nodes = new Map<string, GossipMembership>()
  const events: Seen[] = []
  let first: string | undefined
  let generation = 0
  const record =
    (node: string, event: Seen['event']) =>
    (m: Member, reason?: LeaveReason): void => {
      const e: Seen = { at: clock.now(), node, event, member: m.id, incarnation: m.incarnation }
      if (reason !== undefined) e.reason = reason
      events.push(e)
    }
  return {
    clock,
    net,
    nodes,
    events,
    async spawn(id, init = {}) {
      first ??= id
      const random: Random = seededRandom(hash(id) ^ opts.seed ^ generation++)
      const g = gossip({
        id,
        seeds: id === first ? [] : [addr(first)],
        transport: { packet: net.packet(addr(id)), stream: net.stream(addr(id)) },
        clock,
        random,
        ...opts.base,
        ...init,
      })
      g.on('member:join', record(id, 'join'))
      g.on('member:update', record(id, 'update'))
      g.on('member:suspect', record(id, 'suspect'))
      g.on('member:leave', record(id, 'leave'))
      nodes.set(id, g)
      await g.start()
      return g
    },
    async crash(id) {
      net.crash(addr(id))
      await nodes.get(id)?.stop()
      nodes.delete(id)
    },
    run: (ms) => clock.advanceAsync(ms),
    async close() {
      for (const g of nodes.values()) await g.stop()
      nodes.clear()
    },
  }
}

/** Sorted `id@state` list of a node's view (alive and suspect members). */
export function view(g: GossipMembership): string[] {
  return g
    .members()
    .map((m) => m.id)
    .sort()
}
