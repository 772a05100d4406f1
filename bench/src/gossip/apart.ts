/**
 * A few nodes of the scale simulation in a process of their own: their own V8 heap, their
 * own virtual clock, their own CPU count. In the one-process simulation every node's data is
 * spread through a heap of gigabytes and evicted from the caches by the other N − 1 nodes
 * between two of its events, and a GC walks all of it; a deployed node has its process to
 * itself. Running some nodes apart, against the same cluster, measures what a node costs
 * without that: the protocol's cost, not the simulation's.
 *
 * The bridge: each node apart has stand-in endpoints on the main memory network (its packet
 * and stream addresses), which forward what reaches them to the child process; what the
 * child's nodes send comes back and leaves through those endpoints, so the main network's
 * delay, loss and counters apply to it as to any node. The two clocks move in lockstep, the
 * child only when it has something to do: the main loop syncs after a simulated millisecond
 * in which something reached a node apart, or in which a child's timer fell due. The child
 * handles every event at its exact time; what its nodes send enters the main network at
 * the end of that millisecond (at most 1 ms late, the same bound as the main simulation's
 * promise continuations).
 */

import { type ChildProcess, fork } from 'node:child_process'
import type { GossipStats } from '@rony/gossip'
import type { MemoryNetwork } from '@rony/transport'
import type { ScaleEvents } from './scale-node.ts'

// The transport contracts, as the memory network implements them.
export type PacketTransport = ReturnType<MemoryNetwork['packet']>
export type StreamTransport = ReturnType<MemoryNetwork['stream']>
export type MessageStream = Awaited<ReturnType<StreamTransport['dial']>>

/** What reached a node apart (main → child), each at its simulated time `at`. */
export type Inbound =
  | { k: 'start'; at: number; o: number; id: string; seeds: string[] }
  | { k: 'stop'; at: number; o: number }
  | { k: 'packet'; at: number; to: string; from: string; data: Uint8Array }
  | { k: 'accept'; at: number; stream: number; to: string; from: string }
  | { k: 'dialed'; at: number; stream: number }
  | { k: 'dialFailed'; at: number; stream: number; reason: string }
  | { k: 'data'; at: number; stream: number; data: Uint8Array }
  | { k: 'end'; at: number; stream: number }
  | { k: 'reset'; at: number; stream: number; reason: string }

/** What a node apart did (child → main): sends, stream operations, membership events. */
export type Outbound =
  | { k: 'packet'; from: string; to: string; data: Uint8Array }
  | { k: 'dial'; stream: number; from: string; to: string }
  | { k: 'data'; stream: number; data: Uint8Array }
  | { k: 'close'; stream: number }
  | { k: 'abort'; stream: number }
  | { k: 'join'; o: number; member: string }
  | { k: 'leave'; o: number; member: string; failed: boolean }
  | { k: 'update'; o: number; member: string; meta: Readonly<Record<string, string>> }
  | { k: 'message'; o: number; tag: number }

export type Request =
  | { k: 'init'; now: number; seed: number }
  | { k: 'sync'; until: number; events: Inbound[] }
  /** Runs `turns` loop turns on an empty clock, measured as a sync's turns are. */
  | { k: 'calibrate'; turns: number }

export interface SyncReply {
  k: 'sync'
  /** The child's earliest pending timer (Infinity when none). */
  next: number
  events: Outbound[]
  /** Each started node's counters, by observer index. */
  stats: Array<[number, ApartStats]>
  /** CPU spent firing timers and running the promise continuations after them. */
  busyUs: number
  /** Event-loop turns those took (one per simulated ms with anything due). */
  turns: number
}

export interface CalibrateReply {
  k: 'calibrate'
  busyUs: number
}

/** The counters the scale phases read of a node. */
export type ApartStats = Pick<
  GossipStats,
  'queued' | 'pushPulls' | 'bytesSent' | 'packetsSent' | 'packetsReceived' | 'probesFailed'
>

/** What the scale phases ask of a node, here or apart. */
export interface NodeHandle {
  stats(): ApartStats
  stop(): Promise<void> | void
}

export interface ApartMark {
  busyUs: number
  turns: number
  syncs: number
}

/** Per node apart per simulated second. */
export interface ApartCost {
  /** CPU in its timers and continuations (GC included), net of the loop turns. */
  cpuUsPerSec: number
  /** The loop turns alone (an empty clock, as many turns). */
  harnessUsPerSec: number
  /** Syncs with the main clock in the window (all nodes apart). */
  syncs: number
}

/** A stream on the main network, and the chain its forwarded sends and close run on. */
interface Bridged {
  readonly stream: MessageStream
  chain: Promise<void>
}

const CHILD = new URL('./apart-process.ts', import.meta.url).pathname

export class NodesApart {
  readonly #child: ChildProcess
  readonly #now: () => number
  readonly #events: ScaleEvents
  readonly #packets = new Map<string, PacketTransport>()
  readonly #streamEndpoints = new Map<string, StreamTransport>()
  readonly #streams = new Map<number, Bridged>()
  /** Dials under way, and those the child gave up on meanwhile (aborted once connected). */
  readonly #dialing = new Set<number>()
  readonly #abandoned = new Set<number>()
  readonly #stats = new Map<number, ApartStats>()
  #inbox: Inbound[] = []
  #next = Number.POSITIVE_INFINITY
  #accepted = 0
  #reply: ((r: SyncReply | CalibrateReply | undefined) => void) | undefined
  #failure: Error | undefined
  /** The child's measured CPU so far (see {@link SyncReply}), and the syncs. */
  #busyUs = 0
  #turns = 0
  #syncs = 0
  readonly #started = new Set<number>()

  /** `now` is the main clock; the child's starts at its value, its nodes' randoms from `seed`. */
  constructor(seed: number, now: () => number, events: ScaleEvents) {
    this.#now = now
    this.#events = events
    this.#child = fork(CHILD, [], {
      // GC on the measured thread, not on helper threads the CPU count sees only in ticks.
      execArgv: ['--single-threaded'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#child.on('message', (r: SyncReply | CalibrateReply) => this.#settle(r))
    const fail = (err: Error): void => {
      this.#failure = err
      this.#settle(undefined)
    }
    this.#child.on('error', fail)
    this.#child.on('exit', (code, signal) =>
      fail(new Error(`nodes apart: the process exited (${signal ?? code})`)),
    )
    this.#child.send({ k: 'init', now: now(), seed } satisfies Request)
  }

  /**
   * Starts node `o` in the child process, with stand-in endpoints from `endpoints` on the main
   * network at its addresses.
   */
  async start(
    o: number,
    id: string,
    seeds: string[],
    endpoints: { packet: PacketTransport; stream: StreamTransport },
  ): Promise<NodeHandle> {
    const { packet, stream } = endpoints
    packet.onPacket((data, from) =>
      this.#push({ k: 'packet', at: this.#now(), to: packet.address, from, data }),
    )
    stream.onStream((s) => {
      const id = -++this.#accepted
      this.#track(id, s)
      this.#push({ k: 'accept', at: this.#now(), stream: id, to: stream.address, from: s.remote })
    })
    await packet.start()
    await stream.start()
    this.#packets.set(packet.address, packet)
    this.#streamEndpoints.set(stream.address, stream)
    this.#started.add(o)
    this.#push({ k: 'start', at: this.#now(), o, id, seeds })
    return {
      stats: () => this.#stats.get(o) ?? NOTHING_YET,
      stop: async () => this.#push({ k: 'stop', at: this.#now(), o }),
    }
  }

  /**
   * Call after every simulated millisecond of the main clock: hands the child what reached
   * its nodes and lets it catch up, if it has anything to do by now.
   */
  async sync(): Promise<void> {
    const until = this.#now()
    if (this.#inbox.length === 0 && this.#next > until) return
    const events = this.#inbox
    this.#inbox = []
    const reply = (await this.#ask({ k: 'sync', until, events })) as SyncReply
    this.#syncs++
    this.#next = reply.next
    this.#busyUs = reply.busyUs
    this.#turns = reply.turns
    for (const [o, s] of reply.stats) this.#stats.set(o, s)
    for (const e of reply.events) this.#apply(e)
  }

  /** Where the cost stands now: pass it to {@link costSince}. */
  mark(): ApartMark {
    return { busyUs: this.#busyUs, turns: this.#turns, syncs: this.#syncs }
  }

  /**
   * What each node apart cost per simulated second since `mark` (`simS` simulated seconds
   * ago): the CPU of its timers and continuations, less what as many loop turns cost on an
   * empty clock in the child (measured now).
   */
  async costSince(mark: ApartMark, simS: number): Promise<ApartCost> {
    const turns = this.#turns - mark.turns
    const harness = ((await this.#ask({ k: 'calibrate', turns })) as CalibrateReply).busyUs
    const perNodeS = this.#started.size * simS
    return {
      cpuUsPerSec: (this.#busyUs - mark.busyUs - harness) / perNodeS,
      harnessUsPerSec: harness / perNodeS,
      syncs: this.#syncs - mark.syncs,
    }
  }

  close(): void {
    this.#child.removeAllListeners('exit')
    this.#child.kill()
  }

  #ask(request: Request): Promise<SyncReply | CalibrateReply> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    return new Promise((resolve, reject) => {
      this.#reply = (r) => (r === undefined ? reject(this.#failure) : resolve(r))
      this.#child.send(request)
    })
  }

  #settle(r: SyncReply | CalibrateReply | undefined): void {
    const reply = this.#reply
    this.#reply = undefined
    reply?.(r)
  }

  #push(e: Inbound): void {
    this.#inbox.push(e)
  }

  /** Forwards what arrives on a main-network stream to the child, then its end or reset. */
  #track(id: number, stream: MessageStream): void {
    this.#streams.set(id, { stream, chain: Promise.resolve() })
    void (async () => {
      try {
        for await (const data of stream)
          this.#push({ k: 'data', at: this.#now(), stream: id, data })
        this.#push({ k: 'end', at: this.#now(), stream: id })
      } catch (err) {
        this.#push({ k: 'reset', at: this.#now(), stream: id, reason: (err as Error).message })
        this.#streams.delete(id)
      }
    })()
  }

  /** Runs `step` after the stream's earlier forwarded operations; a failure shows as a reset. */
  #then(id: number, step: (s: MessageStream) => Promise<void> | void): void {
    const b = this.#streams.get(id)
    if (b === undefined) return
    b.chain = b.chain.then(() => step(b.stream)).catch(() => b.stream.abort())
  }

  #apply(e: Outbound): void {
    switch (e.k) {
      case 'packet':
        this.#packets.get(e.from)?.send(e.to, e.data)
        return
      case 'dial': {
        const endpoint = this.#streamEndpoints.get(e.from)
        if (endpoint === undefined) return
        this.#dialing.add(e.stream)
        endpoint.dial(e.to).then(
          (s) => {
            this.#dialing.delete(e.stream)
            if (this.#abandoned.delete(e.stream)) return s.abort()
            this.#track(e.stream, s)
            this.#push({ k: 'dialed', at: this.#now(), stream: e.stream })
          },
          (err: Error) => {
            this.#dialing.delete(e.stream)
            if (this.#abandoned.delete(e.stream)) return
            this.#push({ k: 'dialFailed', at: this.#now(), stream: e.stream, reason: err.message })
          },
        )
        return
      }
      case 'data':
        this.#then(e.stream, (s) => s.send(e.data))
        return
      case 'close':
        this.#then(e.stream, async (s) => {
          await s.close()
          this.#streams.delete(e.stream)
        })
        return
      case 'abort': {
        const b = this.#streams.get(e.stream)
        if (b !== undefined) {
          b.stream.abort()
          this.#streams.delete(e.stream)
        } else if (this.#dialing.has(e.stream)) this.#abandoned.add(e.stream)
        return
      }
      case 'join':
        this.#events.join(e.o, e.member)
        return
      case 'leave':
        this.#events.leave(e.o, e.member, e.failed)
        return
      case 'update':
        this.#events.update(e.o, e.member, e.meta)
        return
      case 'message':
        this.#events.message(e.o, e.tag)
        return
    }
  }
}

/** A node's counters before the child first reported them. */
const NOTHING_YET: ApartStats = {
  queued: 0,
  pushPulls: 0,
  bytesSent: 0,
  packetsSent: 0,
  packetsReceived: 0,
  probesFailed: 0,
}
