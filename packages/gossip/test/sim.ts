import type { Clock, LeaveReason, Member, Random, StreamTransport } from '@rony/interface'
import {
  type LinkFaults,
  type MemoryNetwork,
  memoryNetwork,
  seededRandom,
  type VirtualClock,
  virtualClock,
} from '@rony/transport'
import { unframe } from '../src/codec/crypto.js'
import { decodeCompound } from '../src/codec/wire.js'
import { type GossipInit, type GossipMembership, gossip } from '../src/index.js'

/** One stream a node dialed, for assertions on push-pull traffic. */
export interface Dial {
  at: number
  from: string
  /** The address dialed (before any alias is resolved). */
  to: string
  /** What its first message was, once sent: a join push-pull, a periodic one, or a probe. */
  kind?: 'join' | 'sync' | 'ping' | undefined
}

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
  /** Every stream dial by every node, in order (failed ones included). */
  dials: Dial[]
  /** Other names of addresses (as DNS names of seeds): a dial to a key reaches its value. */
  aliases: Map<string, string>
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
  const dials: Dial[] = []
  const aliases = new Map<string, string>()
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
    dials,
    aliases,
    async spawn(id, init = {}) {
      first ??= id
      const random: Random = seededRandom(hash(id) ^ opts.seed ^ generation++)
      const g = gossip({
        id,
        seeds: id === first ? [] : [addr(first)],
        transport: {
          packet: net.packet(addr(id)),
          stream: tapDials(
            net.stream(addr(id)),
            (to) => {
              const d: Dial = { at: clock.now(), from: id, to }
              dials.push(d)
              return d
            },
            aliases,
          ),
        },
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

/**
 * A stream transport that records each dial (and what its first message was) and resolves
 * aliases; everything else goes to `inner`.
 */
function tapDials(
  inner: StreamTransport,
  record: (to: string) => Dial,
  aliases: ReadonlyMap<string, string>,
): StreamTransport {
  return {
    get address() {
      return inner.address
    },
    get maxMessageSize() {
      return inner.maxMessageSize
    },
    start: () => inner.start(),
    stop: () => inner.stop(),
    onStream: (handler) => inner.onStream(handler),
    async dial(to, opts) {
      const d = record(to)
      const stream = await inner.dial(aliases.get(to) ?? to, opts)
      const send = stream.send.bind(stream)
      stream.send = (msg) => {
        d.kind ??= kindOf(msg)
        return send(msg)
      }
      return stream
    },
  }
}

function kindOf(frame: Uint8Array): Dial['kind'] {
  const opened = unframe(frame, undefined)
  if (typeof opened === 'string') return undefined
  const [m] = decodeCompound(opened)
  if (m?.Body === 'Ping') return 'ping'
  if (m?.Body === 'PushPull') return m.PushPull?.Join ? 'join' : 'sync'
  return undefined
}

/** Sorted `id@state` list of a node's view (alive and suspect members). */
export function view(g: GossipMembership): string[] {
  return g
    .members()
    .map((m) => m.id)
    .sort()
}
