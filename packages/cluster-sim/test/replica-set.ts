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
import { type LogStorage, memoryStorage, raft, raftStreamTransport } from '@rony/raft'
import { seededRandom, tunnel } from '@rony/transport'
import protobuf from 'protobufjs'
import { addr, type SimNetwork, simNetwork } from './network.js'

const root = protobuf.parse(`
  syntax = "proto3";
  package kv;
  message Put { string key = 1; string value = 2; }
  message Incr { string key = 1; }
  message Get { string key = 1; }
  message LocalGet { string key = 1; }
  message Value { string value = 1; bool found = 2; int64 number = 3; string server = 4; double now = 5; double random = 6; }
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
  }
}

export interface SimEdge {
  readonly id: string
  readonly edge: Edge
  readonly gateway: MemoryGateway
  readonly state: KvState
}

export interface ReplicaSetInit {
  readonly seed: number
  readonly bootstrapExpect?: number
  readonly onFollower?: 'forward' | 'redirect'
  /** Raft's snapshot threshold, in entries. Default: Raft's. */
  readonly snapshotThreshold?: number
}

/** A replica set of whole edges on the simulated network. */
export class ReplicaSetSim {
  readonly sim: SimNetwork
  readonly nodes = new Map<string, SimEdge>()
  private readonly storages = new Map<string, LogStorage>()
  private spawned = 0

  constructor(private readonly init: ReplicaSetInit) {
    this.sim = simNetwork(init.seed)
  }

  get clock() {
    return this.sim.clock
  }

  get net() {
    return this.sim.net
  }

  /** Builds and starts edge `id` (its storage survives a stop, as a data dir would). */
  async spawn(id: string, seeds: readonly string[] = ['n1']): Promise<SimEdge> {
    const { clock, net } = this.sim
    const seed = this.init.seed * 101 + this.spawned++
    const storage = this.storages.get(id) ?? memoryStorage()
    this.storages.set(id, storage)
    const state = new KvState()
    const gateway = memoryGateway({ name: `gw-${id}` })
    const edge = createEdge({
      id,
      gateways: [gateway],
      logger: process.env.SIM_LOG ? consoleLogger() : silentLogger,
      cluster: {
        replicaSet: 1,
        membership: (c) =>
          gossip({
            seeds: seeds.filter((s) => s !== id).map(addr),
            transport: { packet: net.packet(addr(id)), stream: net.stream(addr(id)) },
            clock,
            random: seededRandom(seed),
          })(c),
        consensus: (c) =>
          raft({
            storage,
            transport: raftStreamTransport({
              id,
              streams: net.stream(`memory:raft-${id}`),
              clock,
            }),
            clock,
            random: seededRandom(seed + 7),
            ...(this.init.snapshotThreshold === undefined
              ? {}
              : { snapshotThreshold: this.init.snapshotThreshold }),
          })(c),
        tunnel: (c) => tunnel({ ...c, transport: net.stream(`memory:tun-${id}`), clock }),
        bootstrapExpect: this.init.bootstrapExpect ?? 3,
        state,
        clock,
        ...(this.init.onFollower === undefined ? {} : { onFollower: this.init.onFollower }),
      },
    })
    kvService(edge, state)
    const node: SimEdge = { id, edge, gateway, state }
    this.nodes.set(id, node)
    await this.whileRunning(edge.start())
    return node
  }

  /** Runs the virtual clock until `done` settles (bounded), then returns its outcome. */
  async whileRunning<T>(done: Promise<T>, maxMs = 120_000): Promise<T> {
    let settled = false
    const watched = done.finally(() => {
      settled = true
    })
    watched.catch(() => {})
    for (let t = 0; t < maxMs && !settled; t += 50) await this.clock.advanceAsync(50)
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

  leader(): SimEdge | undefined {
    for (const node of this.nodes.values()) {
      if (node.edge.cluster?.consensus?.role === 'leader') return node
    }
    return undefined
  }

  async waitForLeader(): Promise<SimEdge> {
    await this.until(() => this.leader() !== undefined, 60_000, 'a leader')
    return this.leader() as SimEdge
  }

  /** Stops an edge gracefully (it leaves) while the clock runs. */
  async stop(id: string): Promise<void> {
    const node = this.nodes.get(id)
    if (!node) return
    this.nodes.delete(id)
    await this.whileRunning(node.edge.stop())
  }

  async close(): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((id) => this.stop(id)))
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
    return new Promise((resolve) => {
      this.waiting.set(requestId, resolve)
      this.conn.send(encodeEnvelope({ ctor, requestId, message: payload, header }))
    })
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
