/**
 * A replica set of whole edges in simulation: memory gateways, real gossip, real Raft
 * (memory storage kept across restarts) and real tunnels, all on the memory network with a
 * virtual clock; a replicated key-value service on them; and a small pipelining client over
 * a memory connection.
 */
import {
  consoleLogger,
  createEdge,
  type Edge,
  type MemoryClient,
  type MemoryGateway,
  memoryGateway,
  silentLogger,
} from '@rony/edge'
import {
  C_Error,
  constructorOf,
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  type KeyValue,
  type MessageType,
  RonyError,
  rony,
  SESSION_HEADER,
} from '@rony/envelope'
import { gossip } from '@rony/gossip'
import type { Clock, Consensus } from '@rony/interface'
import { type LogStorage, memoryStorage, raft, raftStreamTransport } from '@rony/raft'
import { seededRandom, tunnel } from '@rony/transport'
import protobuf from 'protobufjs'
import {
  type Chaos,
  calm,
  faultyRaftTransport,
  type LifetimeStorage,
  lifetimeStorage,
} from './faults.js'
import { addr, type SimNetwork, simNetwork } from './network.js'

const root = protobuf.parse(`
  syntax = "proto3";
  package kv;
  message Put { string key = 1; string value = 2; }
  message Incr { string key = 1; }
  message Get { string key = 1; }
  message LocalGet { string key = 1; }
  message Value { string value = 1; bool found = 2; int64 number = 3; string server = 4; double now = 5; double random = 6; string origin = 7; }
`).root

function reflected<T>(name: string): MessageType<T> & protobuf.Type {
  return root.lookupType(name) as unknown as MessageType<T> & protobuf.Type
}

export interface ValueMsg {
  value: string
  found: boolean
  number: number | { toNumber(): number }
  server: string
  now: number
  random: number
  origin: string
}
export const Put = reflected<{ key: string; value: string }>('kv.Put')
export const Incr = reflected<{ key: string }>('kv.Incr')
export const Get = reflected<{ key: string }>('kv.Get')
export const LocalGet = reflected<{ key: string }>('kv.LocalGet')
export const Value = reflected<ValueMsg>('kv.Value')
export const C_Value = constructorOf('Value')

/** The replicated state of the key-value service: strings and counters. */
export class KvState {
  data = new Map<string, string>()
  /** How many times each Incr key was applied (counts duplicates, if any). */
  counters = new Map<string, number>()
  /** How many times a snapshot was restored into this state. */
  restores = 0

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([[...this.data], [...this.counters]]))
  }

  restore(bytes: Uint8Array): void {
    const [data, counters] = JSON.parse(new TextDecoder().decode(bytes)) as [
      [string, string][],
      [string, number][],
    ]
    this.data = new Map(data)
    this.counters = new Map(counters)
    this.restores++
  }
}

export interface SimEdge {
  readonly id: string
  readonly edge: Edge
  readonly gateway: MemoryGateway
  readonly state: KvState
  /** This lifetime's handle on the node's kept Raft storage. */
  readonly storage: LifetimeStorage
}

export interface ReplicaSetInit {
  readonly seed: number
  readonly bootstrapExpect?: number
  readonly maxVoters?: number
  readonly onFollower?: 'forward' | 'redirect'
  /** How long a request waits for a leader, in ms. Default: the edge's. */
  readonly leaderWait?: number
  /** Raft's snapshot threshold, in entries. Default: Raft's. */
  readonly snapshotThreshold?: number
}

/** A node's addresses on the memory network: gossip (packets and streams), Raft, tunnel. */
const addresses = (id: string): string[] => [addr(id), `memory:raft-${id}`, `memory:tun-${id}`]

/** Resolves after `ms` of the clock. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms))
}

/** A replica set of whole edges on the simulated network. */
export class ReplicaSetSim {
  readonly sim: SimNetwork
  /** The running edges (a crashed or stopped one is not here). */
  readonly nodes = new Map<string, SimEdge>()
  /** Raft message faults, read at every message. */
  readonly chaos: Chaos = calm()
  /** The ids of the edges that bootstrapped a group, in order. */
  readonly bootstraps: string[] = []
  /**
   * Election safety across the set: two leaders reported for one term (by any edge, in any
   * lifetime) are two groups or a broken election. Empty when all is well.
   */
  readonly violations: string[] = []
  private readonly leaders = new Map<number, string>()
  private readonly storages = new Map<string, LogStorage>()
  /** Every id spawned once: the gossip seeds of later spawns. */
  private readonly known = new Set<string>()
  /** Crashed or leaving edges still stopping in the background, by id. */
  private readonly stopping = new Map<string, Promise<void>>()
  private readonly clients = new Map<string, Set<SimClient>>()
  /** The state of every lifetime so far. */
  private readonly states: KvState[] = []
  private spawned = 0

  constructor(private readonly init: ReplicaSetInit) {
    this.sim = simNetwork(init.seed)
  }

  get clock() {
    return this.sim.clock
  }

  /** Snapshots restored so far, over every edge and lifetime. */
  get restores(): number {
    return this.states.reduce((sum, state) => sum + state.restores, 0)
  }

  get net() {
    return this.sim.net
  }

  /** Builds and starts edge `id` while the clock runs (its storage survives, as a data dir would). */
  spawn(id: string, seeds?: readonly string[]): Promise<SimEdge> {
    return this.whileRunning(this.launch(id, seeds))
  }

  /**
   * Builds and starts edge `id` without running the clock (for starts that overlap); a
   * crashed edge of that id is first let finish stopping. Seeds: every id spawned before.
   */
  async launch(id: string, seeds?: readonly string[]): Promise<SimEdge> {
    await this.stopping.get(id)
    this.stopping.delete(id)
    this.known.add(id)
    const { clock, net } = this.sim
    const seed = this.init.seed * 101 + this.spawned++
    const kept = this.storages.get(id) ?? memoryStorage()
    this.storages.set(id, kept)
    const storage = lifetimeStorage(kept)
    const random = seededRandom(seed + 13)
    const state = new KvState()
    this.states.push(state)
    const gateway = memoryGateway({ name: `gw-${id}` })
    const gossipSeeds = (seeds ?? [...this.known]).filter((s) => s !== id).map(addr)
    const edge = createEdge({
      id,
      gateways: [gateway],
      logger: process.env.SIM_LOG ? consoleLogger() : silentLogger,
      cluster: {
        replicaSet: 1,
        membership: (c) =>
          gossip({
            seeds: gossipSeeds,
            transport: { packet: net.packet(addr(id)), stream: net.stream(addr(id)) },
            clock,
            random: seededRandom(seed),
          })(c),
        consensus: (c) =>
          this.watch(
            id,
            raft({
              storage: storage.storage,
              transport: faultyRaftTransport(
                raftStreamTransport({ id, streams: net.stream(`memory:raft-${id}`), clock }),
                random,
                this.chaos,
              ),
              clock,
              random: seededRandom(seed + 7),
              ...(this.init.snapshotThreshold === undefined
                ? {}
                : { snapshotThreshold: this.init.snapshotThreshold }),
            })(c),
          ),
        tunnel: tunnel({ transport: net.stream(`memory:tun-${id}`), clock, random }),
        bootstrapExpect: this.init.bootstrapExpect ?? 3,
        state,
        clock,
        ...(this.init.maxVoters === undefined ? {} : { maxVoters: this.init.maxVoters }),
        ...(this.init.leaderWait === undefined ? {} : { leaderWait: this.init.leaderWait }),
        ...(this.init.onFollower === undefined ? {} : { onFollower: this.init.onFollower }),
      },
    })
    kvService(edge, state)
    const node: SimEdge = { id, edge, gateway, state, storage }
    this.nodes.set(id, node)
    await edge.start()
    return node
  }

  /** Records the edge's bootstraps and the leaders it sees (see {@link violations}). */
  private watch<C extends Consensus>(id: string, consensus: C): C {
    consensus.on('raft:leader', (leader, term) => {
      if (leader === undefined) return
      const known = this.leaders.get(term)
      if (known === undefined) this.leaders.set(term, leader)
      else if (known !== leader) {
        this.violations.push(`${id} sees ${leader} lead term ${term}, which ${known} led`)
      }
    })
    const bootstrap = consensus.bootstrap.bind(consensus)
    consensus.bootstrap = (voters) => {
      this.bootstraps.push(id)
      return bootstrap(voters)
    }
    return consensus
  }

  /** Runs the virtual clock until `done` settles, then returns its outcome; throws after `maxMs` of simulated time. */
  async whileRunning<T>(done: Promise<T>, maxMs = 120_000): Promise<T> {
    let settled = false
    const watched = done.finally(() => {
      settled = true
    })
    watched.catch(() => {})
    for (let t = 0; t < maxMs && !settled; t += 50) await this.clock.advanceAsync(50)
    if (!settled) throw new Error(`not settled in ${maxMs} simulated ms`)
    return watched
  }

  /** Runs the clock until `condition` holds; throws after `maxMs` of simulated time. */
  async until(condition: () => boolean, maxMs = 60_000, what = 'condition'): Promise<void> {
    for (let t = 0; t < maxMs; t += 50) {
      if (condition()) return
      await this.clock.advanceAsync(50)
    }
    if (!condition()) throw new Error(`${what} not reached in ${maxMs} simulated ms`)
  }

  run(ms: number): Promise<void> {
    return this.clock.advanceAsync(ms)
  }

  node(id: string): SimEdge {
    const node = this.nodes.get(id)
    if (!node) throw new Error(`no edge ${id}`)
    return node
  }

  /** The running leader of the highest term, if any. */
  leader(): SimEdge | undefined {
    let best: SimEdge | undefined
    for (const node of this.nodes.values()) {
      const consensus = node.edge.cluster?.consensus
      if (consensus?.role !== 'leader') continue
      if (best === undefined || consensus.term > (best.edge.cluster?.consensus?.term ?? 0)) {
        best = node
      }
    }
    return best
  }

  async waitForLeader(): Promise<SimEdge> {
    await this.until(() => this.leader() !== undefined, 60_000, 'a leader')
    return this.leader() as SimEdge
  }

  /** Every running edge's configuration, as `id suffrage` sorted. */
  configurations(): string[][] {
    return [...this.nodes.values()].map((n) =>
      (n.edge.cluster?.consensus?.configuration() ?? []).map((s) => `${s.id} ${s.suffrage}`).sort(),
    )
  }

  /** Runs the clock until every running edge has `expected` (`id suffrage`) as its configuration. */
  untilConfiguration(expected: readonly string[], maxMs = 60_000): Promise<void> {
    const want = JSON.stringify([...expected].sort())
    return this.until(
      () => this.configurations().every((c) => JSON.stringify(c) === want),
      maxMs,
      `configuration ${want} everywhere (have ${JSON.stringify(this.configurations())})`,
    )
  }

  /** A client connected to edge `id`; a crash of that edge closes its connection. */
  client(id: string, session?: string): SimClient {
    const client = new SimClient(this.node(id).gateway, session)
    const clients = this.clients.get(id) ?? new Set()
    this.clients.set(id, clients.add(client))
    return client
  }

  /**
   * The process of edge `id` dies: its addresses drop everything from now on (streams abort),
   * its storage keeps what was written, its clients' connections close; it stops in the
   * background without leaving (nobody would hear it anyway).
   */
  crash(id: string): void {
    const node = this.nodes.get(id)
    if (!node) return
    this.nodes.delete(id)
    for (const address of addresses(id)) this.net.crash(address)
    node.storage.crash()
    for (const client of this.clients.get(id) ?? []) client.close()
    this.clients.delete(id)
    this.stopping.set(
      id,
      node.edge.stop({ leave: false }).catch(() => {}),
    )
  }

  /** Stops edge `id` gracefully (it leaves) in the background, without running the clock. */
  leave(id: string): void {
    const node = this.nodes.get(id)
    if (!node) return
    this.nodes.delete(id)
    this.stopping.set(
      id,
      node.edge.stop().catch(() => {}),
    )
  }

  /** Cuts edge `id` off from every other (all its addresses), until {@link heal}. */
  isolate(id: string): void {
    for (const address of addresses(id)) this.net.isolate(address)
  }

  /** Cuts every link between the edges of `a` and those of `b`, until {@link heal}. */
  partition(a: readonly string[], b: readonly string[]): void {
    this.net.partition(a.flatMap(addresses), b.flatMap(addresses))
  }

  heal(): void {
    this.net.heal()
  }

  /** Stops an edge gracefully (it leaves) while the clock runs. */
  async stop(id: string): Promise<void> {
    const node = this.nodes.get(id)
    if (!node) return
    this.nodes.delete(id)
    await this.whileRunning(node.edge.stop())
  }

  async close(): Promise<void> {
    for (const clients of this.clients.values()) for (const client of clients) client.close()
    this.clients.clear()
    this.heal()
    await this.whileRunning(
      Promise.all([
        ...[...this.nodes.values()].map((node) => node.edge.stop()),
        ...this.stopping.values(),
      ]),
    )
    this.nodes.clear()
    this.stopping.clear()
  }
}

/** The replicated key-value service. */
export function kvService(edge: Edge, state: KvState): void {
  edge.handle(
    Put,
    (req, ctx) => {
      const previous = state.data.get(req.key)
      state.data.set(req.key, req.value)
      return Value.create({
        value: previous ?? '',
        found: previous !== undefined,
        server: ctx.serverId,
        now: ctx.now(),
        random: ctx.random(),
        origin: ctx.receivedBy,
      })
    },
    { mode: 'replicated' },
  )
  edge.handle(
    Incr,
    (req, ctx) => {
      const n = (state.counters.get(req.key) ?? 0) + 1
      state.counters.set(req.key, n)
      return Value.create({ number: n, found: true, server: ctx.serverId })
    },
    { mode: 'replicated' },
  )
  edge.handle(
    Get,
    (req, ctx) => {
      const value = state.data.get(req.key)
      return Value.create({ value: value ?? '', found: value !== undefined, server: ctx.serverId })
    },
    { mode: 'read' },
  )
  edge.handle(
    LocalGet,
    (req, ctx) => {
      const value = state.data.get(req.key)
      return Value.create({ value: value ?? '', found: value !== undefined, server: ctx.serverId })
    },
    { mode: 'read', consistency: 'local' },
  )
}

/** A pipelining client over one memory connection; answers by request id. */
export class SimClient {
  private readonly conn: MemoryClient
  private readonly waiting = new Map<bigint, (envelope: Envelope) => void>()
  private nextId = 1n
  readonly pushes: Envelope[] = []

  constructor(
    gateway: MemoryGateway,
    /** Sent as the session header when set: its requests apply at most once. */
    readonly session?: string,
  ) {
    this.conn = gateway.connect()
    void this.read()
  }

  private async read(): Promise<void> {
    for (;;) {
      let bytes: Uint8Array
      try {
        bytes = await this.conn.next()
      } catch {
        for (const resolve of this.waiting.values()) resolve(closedEnvelope())
        this.waiting.clear()
        return
      }
      const envelope = decodeEnvelope(bytes)
      const resolve = this.waiting.get(envelope.requestId)
      if (resolve === undefined) this.pushes.push(envelope)
      else {
        this.waiting.delete(envelope.requestId)
        resolve(envelope)
      }
    }
  }

  /** Sends a request (with a given id to re-send one) and resolves with its raw answer. */
  send(type: MessageType, message: object, requestId = this.nextId++): Promise<Envelope> {
    const header: KeyValue[] =
      this.session === undefined ? [] : [{ key: SESSION_HEADER, value: this.session }]
    const payload = (type as unknown as protobuf.Type).encode(message).finish()
    const ctor = constructorOf((type as unknown as protobuf.Type).name)
    if (this.conn.closed) return Promise.resolve(closedEnvelope())
    return new Promise((resolve) => {
      this.waiting.set(requestId, resolve)
      this.conn.send(encodeEnvelope({ ctor, requestId, message: payload, header }))
    })
  }

  get closed(): boolean {
    return this.conn.closed
  }

  /** Sends and decodes a `Value` answer; an `Error` answer rejects as a `RonyError`. */
  async call(type: MessageType, message: object, requestId?: bigint): Promise<ValueMsg> {
    return decodeValue(await this.send(type, message, requestId))
  }

  close(): void {
    this.conn.close()
  }
}

export function decodeValue(envelope: Envelope): ValueMsg {
  if (envelope.ctor === C_Error) throw RonyError.fromWire(rony.Error.decode(envelope.message))
  if (envelope.ctor !== C_Value) throw new Error(`unexpected answer ${envelope.ctor}`)
  return Value.decode(envelope.message) as unknown as ValueMsg
}

function closedEnvelope(): Envelope {
  const message = rony.Error.encode({
    Code: 'E02',
    Items: 'CONNECTION',
    Description: 'closed',
  }).finish()
  return decodeEnvelope(encodeEnvelope({ ctor: C_Error, requestId: 0n, message }))
}

export const numberOf = (v: ValueMsg): number =>
  typeof v.number === 'number' ? v.number : v.number.toNumber()
