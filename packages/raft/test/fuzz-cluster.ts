/**
 * The servers of one fuzz schedule: real `RaftNode`s on the memory network and a virtual
 * clock, each with a `fileStorage` on its own simulated disk, which survives crashes of the
 * server (unsynced writes excepted) and is mounted anew for every lifetime of it, so work a
 * crashed lifetime left in flight cannot touch its successor's files.
 *
 * Two fault layers sit under each node, both driven by the shared {@link Chaos} settings:
 * Raft runs on the network's streams, which are reliable and ordered (the network's `loss`,
 * `duplicate` and `reorder` faults apply to packets only), so messages are dropped,
 * duplicated and reordered above the stream transport, as a lossy network would; and
 * `datasync`/`syncDir` take simulated time, so that a crash can land between a write and
 * its sync and lose or tear it.
 */
import { format } from 'node:util'
import type { Clock, ComponentLogger, LogFunction, Random } from '@rony/interface'
import {
  type MemoryNetwork,
  memoryNetwork,
  type SeededRandom,
  type VirtualClock,
  virtualClock,
} from '@rony/transport'
import type { Message } from '../src/core/messages.js'
import { fileStorage, type LogStorage, type RaftNode, raft } from '../src/index.js'
import type { StorageFs } from '../src/storage/fs.js'
import { type SimulatedDisk, simulatedDisk } from '../src/testing/sim-disk.js'
import { type RaftTransport, raftStreamTransport } from '../src/transport/stream-transport.js'
import { KvStateMachine, SafetyMonitor } from './fuzz-machine.js'

/** The network's delay outside chaos periods, in ms. */
export const BASE_DELAY = { min: 1, max: 3 } as const

/** Fault settings the injector changes while the schedule runs; read at every use. */
export interface Chaos {
  /** Probability that a Raft message is dropped. */
  loss: number
  /** Probability that a Raft message is sent twice. */
  duplicate: number
  /** Probability that a Raft message is held back up to 30 ms, so later ones overtake it. */
  reorder: number
  /** Upper bound of a `datasync`/`syncDir`, in ms (each draws uniformly below it). */
  diskLatency: number
}

export const CALM: Readonly<Chaos> = { loss: 0, duplicate: 0, reorder: 0, diskLatency: 2 }

export interface ClusterInit {
  /** Every random decision of the cluster (network, disks, nodes) comes from forks of it. */
  readonly random: SeededRandom
  /** Founding voters. */
  readonly size: number
  /** Servers the injector may add later (as learners first). */
  readonly spares: number
  readonly snapshotThreshold: number
  readonly segmentBytes: number
  readonly requestTimeout: number
  /** Small enough, a leader cut off from its followers refuses proposals (overloaded). */
  readonly maxUncommittedBytes: number
  /**
   * How far a node's clock may run fast or slow: each lifetime's timers run at a rate drawn
   * in `[1 - skew, 1 + skew]` of the simulated time (0: every node on time).
   */
  readonly clockSkew: number
  /** A server whose received messages and storage writes go into the trace too. */
  readonly watch?: string | undefined
}

/** The last lines of what happened, for the report of a failing schedule. */
export class Trace {
  readonly #lines: string[] = []
  readonly #now: () => number
  readonly #limit: number

  constructor(now: () => number, limit = 300) {
    this.#now = now
    this.#limit = limit
  }

  add(line: string): void {
    this.#lines.push(`t=${this.#now().toFixed(1)} ${line}`)
    if (this.#lines.length > this.#limit) this.#lines.shift()
  }

  tail(count: number): string {
    return this.#lines.slice(-count).join('\n')
  }
}

/** One run of a server, from start to crash or stop. */
export interface Lifetime {
  readonly node: RaftNode
  readonly machine: KvStateMachine
  /** The injector crashed it: errors from its leftover work are expected. */
  crashed: boolean
}

export interface Server {
  readonly id: string
  readonly address: string
  readonly founder: boolean
  readonly disk: SimulatedDisk
  /** The running lifetime; undefined while down or not started yet. */
  life: Lifetime | undefined
  /** Lifetimes started so far (0: a spare never brought in). */
  lifetimes: number
  /** A start in progress, so that concurrent restarts share it. */
  starting: Promise<void> | undefined
}

export class FuzzCluster {
  readonly clock: VirtualClock = virtualClock()
  readonly net: MemoryNetwork
  readonly servers = new Map<string, Server>()
  readonly chaos: Chaos = { ...CALM }
  readonly trace: Trace
  /** A server is watched: clients trace every operation too. */
  readonly watching: boolean
  readonly safety = new SafetyMonitor(() => this.clock.now())
  readonly #init: ClusterInit
  readonly #random: SeededRandom
  #stopping = false

  constructor(init: ClusterInit) {
    this.#init = init
    this.#random = init.random
    this.watching = init.watch !== undefined
    this.trace = new Trace(() => this.clock.now(), this.watching ? 50_000 : 300)
    this.net = memoryNetwork({
      clock: this.clock,
      random: this.#random.fork(),
      faults: { delay: BASE_DELAY },
    })
    for (let i = 1; i <= init.size + init.spares; i++) {
      const disk = simulatedDisk({ random: nextOf(this.#random.fork()) })
      const id = `n${i}`
      this.servers.set(id, {
        id,
        address: `memory:${id}`,
        founder: i <= init.size,
        disk,
        life: undefined,
        lifetimes: 0,
        starting: undefined,
      })
    }
  }

  server(id: string): Server {
    const server = this.servers.get(id)
    if (server === undefined) throw new Error(`no server ${id}`)
    return server
  }

  /** Servers with a running lifetime. */
  running(): Server[] {
    return [...this.servers.values()].filter((s) => s.life !== undefined)
  }

  /** The running leader of the highest term, if any. */
  leader(): Server | undefined {
    let best: Server | undefined
    for (const s of this.running()) {
      if (s.life?.node.role !== 'leader') continue
      if (best === undefined || s.life.node.term > best.life!.node.term) best = s
    }
    return best
  }

  /** Starts a lifetime of `id` from its disk; does nothing if it runs or is starting. */
  start(id: string): Promise<void> {
    const server = this.server(id)
    if (server.life !== undefined || this.#stopping) return Promise.resolve()
    server.starting ??= this.#start(server).finally(() => {
      server.starting = undefined
    })
    return server.starting
  }

  /** Power loss: the node's endpoints die, its disk loses what was not synced, it stops. */
  crash(id: string): void {
    const server = this.server(id)
    const life = server.life
    if (life === undefined) return
    life.crashed = true
    server.life = undefined
    this.net.crash(server.address)
    server.disk.crash()
    life.node.stop().catch(() => {})
    this.trace.add(`${id} crashed (term ${life.node.term}, applied ${life.node.appliedIndex})`)
  }

  /** Stops every node cleanly (the end of the schedule). */
  async stop(): Promise<void> {
    this.#stopping = true
    await Promise.all([...this.servers.values()].map((s) => s.starting))
    await Promise.all(this.running().map((s) => s.life!.node.stop()))
  }

  async #start(server: Server): Promise<void> {
    const { id, address } = server
    const init = this.#init
    const lifetime = ++server.lifetimes
    const machine = new KvStateMachine(id, this.safety)
    const fs = slowFs(server.disk.mount(), this.clock, this.#random.fork(), this.chaos)
    const rate = 1 + init.clockSkew * (2 * this.#random.next() - 1)
    const clock = rate === 1 ? this.clock : skewedClock(this.clock, rate)
    const streams = raftStreamTransport({ id, streams: this.net.stream(address), clock })
    const watched = init.watch === id ? this.trace : undefined
    const storage = fileStorage(`/raft/${id}`, { fs, segmentBytes: init.segmentBytes })
    const founders = [...this.servers.values()].filter((s) => s.founder && s.id !== id)
    let life: Lifetime | undefined
    const node = raft({
      id,
      bind: address,
      peers: server.founder ? founders.map((s) => ({ id: s.id, address: s.address })) : [],
      bootstrap: server.founder,
      storage: watched === undefined ? storage : watchedStorage(id, storage, watched),
      stateMachine: machine,
      transport: faultyTransport(streams, this.clock, this.#random.fork(), this.chaos, watched),
      clock,
      random: this.#random.fork(),
      snapshotThreshold: init.snapshotThreshold,
      requestTimeout: init.requestTimeout,
      maxUncommittedBytes: init.maxUncommittedBytes,
      logger: this.#logger(id, () => life?.crashed === true),
    })
    node.on('raft:leader', (leader, term) => {
      this.trace.add(`${id} sees leader ${leader ?? '-'} in term ${term}`)
      if (leader !== undefined) this.safety.leader(id, leader, term)
    })
    try {
      await node.start()
    } catch (error) {
      this.safety.fail(`${id} failed to start lifetime ${lifetime}: ${describe(error)}`)
      return
    }
    life = { node, machine, crashed: false }
    server.life = life
    this.trace.add(
      `${id} started (lifetime ${lifetime}, term ${node.term}, clock rate ${rate.toFixed(2)})`,
    )
  }

  /** Logs nothing, but a node that stops itself on a fatal error is a finding. */
  #logger(id: string, crashed: () => boolean): ComponentLogger {
    const silent: LogFunction = Object.assign(() => {}, { enabled: false })
    const error: LogFunction = Object.assign(
      (formatter: string, ...args: unknown[]) => {
        if (crashed() || this.#stopping) return
        this.safety.fail(`${id} logged an error: ${format(formatter, ...args.map(describe))}`)
      },
      { enabled: true },
    )
    const logger = Object.assign(() => {}, { enabled: false, error, warn: silent, trace: silent })
    return { forComponent: () => logger }
  }
}

export function describe(value: unknown): string {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code
    const cause = value.cause === undefined ? '' : ` (cause: ${describe(value.cause)})`
    return `${typeof code === 'string' ? `${code}: ` : ''}${value.message}${cause}`
  }
  return typeof value === 'string' ? value : JSON.stringify(value)
}

const nextOf =
  (random: Random): (() => number) =>
  () =>
    random.next()

const chance = (random: Random, p: number): boolean => p > 0 && random.next() < p

/**
 * Drops, duplicates and delays Raft messages per the chaos settings of the moment; traces
 * what arrives if `watched`.
 */
function faultyTransport(
  inner: RaftTransport,
  clock: Clock,
  random: Random,
  chaos: Chaos,
  watched: Trace | undefined,
): RaftTransport {
  return {
    get address() {
      return inner.address
    },
    start: (onMessage) =>
      inner.start((m) => {
        watched?.add(`${m.to} <- ${describeMessage(m)}`)
        onMessage(m)
      }),
    send(to, message) {
      if (chance(random, chaos.loss)) return
      const copies = chance(random, chaos.duplicate) ? 2 : 1
      for (let i = 0; i < copies; i++) {
        if (chance(random, chaos.reorder)) {
          clock.setTimeout(() => inner.send(to, message), 1 + 29 * random.next())
        } else inner.send(to, message)
      }
    },
    stop: () => inner.stop(),
    stats: () => inner.stats(),
  }
}

/** A node's own clock, running at `rate` times the simulated time. */
function skewedClock(base: Clock, rate: number): Clock {
  const origin = base.now()
  return {
    now: () => origin + (base.now() - origin) * rate,
    setTimeout: (fn, ms) => base.setTimeout(fn, ms / rate),
    clearTimeout: (handle) => base.clearTimeout(handle),
  }
}

/** Makes `datasync` and `syncDir` take simulated time, so crashes catch writes unsynced. */
function slowFs(fs: StorageFs, clock: Clock, random: Random, chaos: Chaos): StorageFs {
  const later = <T>(work: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      clock.setTimeout(() => work().then(resolve, reject), random.next() * chaos.diskLatency)
    })
  return {
    ...fs,
    open: async (path, mode) => {
      const file = await fs.open(path, mode)
      return { ...file, datasync: () => later(() => file.datasync()) }
    },
    syncDir: (path) => later(() => fs.syncDir(path)),
  }
}

/** A message in one line: entries as `index/term`, configurations as ids, bytes as sizes. */
function describeMessage(m: Message): string {
  return JSON.stringify(m, (key, value: unknown) => {
    if (value instanceof Uint8Array) return `${value.byteLength} bytes`
    if (key === 'entries') return (value as { index: number; term: number }[]).map(position)
    if (key === 'voters' || key === 'learners') return (value as { id: string }[]).map((s) => s.id)
    return value
  })
}

const position = (e: { index: number; term: number }): string => `${e.index}/${e.term}`

/** Traces a watched server's durable writes. */
function watchedStorage(id: string, inner: LogStorage, trace: Trace): LogStorage {
  return {
    async open() {
      const r = await inner.open()
      const meta = r.snapshot?.meta
      const log = r.entries.length === 0 ? 'none' : r.entries.map(position).join(',')
      trace.add(
        `${id} recovered ${JSON.stringify(r.hardState)}, snapshot ${meta ? position(meta) : '-'}, entries ${log}`,
      )
      return r
    },
    setHardState(state) {
      trace.add(`${id} stores ${JSON.stringify(state)}`)
      return inner.setHardState(state)
    },
    append(entries) {
      trace.add(`${id} appends ${entries.map(position).join(',')}`)
      return inner.append(entries)
    },
    saveSnapshot(snapshot) {
      trace.add(`${id} saves snapshot ${position(snapshot.meta)}`)
      return inner.saveSnapshot(snapshot)
    },
    close: () => inner.close(),
  }
}
