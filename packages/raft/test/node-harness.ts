/**
 * Raft nodes in one process on a simulated network and clock: real `RaftNode`s, real
 * transport and storage code (memory storage or a file storage on a simulated disk), so a
 * test sees exactly what a user of the package sees, minus sockets and wall time.
 */
import type { StateMachine } from '@rony/interface'
import {
  type MemoryNetwork,
  memoryNetwork,
  seededRandom,
  type VirtualClock,
  virtualClock,
} from '@rony/transport'
import { type RaftNode, raft } from '../src/index.js'
import { memoryStorage } from '../src/storage/memory-storage.js'
import type { LogStorage, ServerInfo } from '../src/storage/types.js'
import { raftStreamTransport } from '../src/transport/stream-transport.js'

const text = new TextEncoder()
const untext = new TextDecoder()

/** A key-value state machine: commands are `key=value`; apply returns the previous value. */
export class KvMachine implements StateMachine {
  readonly data = new Map<string, string>()
  readonly applied: string[] = []
  restores = 0

  apply(command: Uint8Array): string | undefined {
    const [key, value] = untext.decode(command).split('=') as [string, string]
    const previous = this.data.get(key)
    this.data.set(key, value)
    this.applied.push(`${key}=${value}`)
    return previous
  }

  snapshot(): Uint8Array {
    return text.encode(JSON.stringify([...this.data]))
  }

  restore(bytes: Uint8Array): void {
    this.restores++
    this.data.clear()
    for (const [k, v] of JSON.parse(untext.decode(bytes)) as [string, string][]) this.data.set(k, v)
    this.applied.length = 0
  }
}

export const command = (key: string, value: string): Uint8Array => text.encode(`${key}=${value}`)

export interface Member {
  id: string
  node: RaftNode
  machine: KvMachine
  storage: LogStorage
}

export interface ClusterOptions {
  size: number
  seed?: number
  snapshotThreshold?: number
}

/** Advances simulated time in 5 ms steps until `check` holds; throws after `maxMs`. */
export async function advanceUntil(
  clock: VirtualClock,
  check: () => boolean,
  maxMs = 10_000,
): Promise<void> {
  const end = clock.now() + maxMs
  while (!check()) {
    if (clock.now() >= end) throw new Error(`not reached within ${maxMs} simulated ms`)
    await clock.advanceAsync(5)
  }
}

/** Resolves `promise` while advancing simulated time (it may need timers to settle). */
export async function settleOn<T>(
  clock: VirtualClock,
  promise: Promise<T>,
  maxMs = 10_000,
): Promise<T> {
  let done = false
  const watched = promise.finally(() => {
    done = true
  })
  watched.catch(() => {})
  await advanceUntil(clock, () => done, maxMs)
  return watched
}

export class SimCluster {
  readonly clock: VirtualClock = virtualClock()
  readonly net: MemoryNetwork
  readonly members = new Map<string, Member>()
  readonly #seed: number
  readonly #snapshotThreshold: number | undefined
  readonly founders: ServerInfo[]

  constructor(options: ClusterOptions) {
    this.#seed = options.seed ?? 1
    this.#snapshotThreshold = options.snapshotThreshold
    this.net = memoryNetwork({
      clock: this.clock,
      random: seededRandom(this.#seed),
      faults: { delay: { min: 1, max: 3 } },
    })
    this.founders = Array.from({ length: options.size }, (_, i) => ({
      id: `n${i + 1}`,
      address: `memory:n${i + 1}`,
    }))
  }

  /** Creates and starts node `id` (a founder bootstraps; others wait to be added). */
  async start(
    id: string,
    storage: LogStorage = memoryStorage(),
    machine = new KvMachine(),
  ): Promise<Member> {
    const founder = this.founders.some((s) => s.id === id)
    const node = raft({
      id,
      bind: `memory:${id}`,
      peers: founder ? this.founders.filter((s) => s.id !== id) : [],
      bootstrap: founder,
      storage,
      stateMachine: machine,
      transport: raftStreamTransport({
        id,
        streams: this.net.stream(`memory:${id}`),
        clock: this.clock,
      }),
      clock: this.clock,
      random: seededRandom(this.#seed * 7919 + id.length * 31 + id.charCodeAt(id.length - 1)),
      ...(this.#snapshotThreshold === undefined
        ? {}
        : { snapshotThreshold: this.#snapshotThreshold }),
    })
    const member = { id, node, machine, storage }
    this.members.set(id, member)
    await node.start()
    return member
  }

  async startAll(): Promise<void> {
    for (const s of this.founders) await this.start(s.id)
  }

  /** Crashes a node: its endpoints die at once, then it stops (its storage survives). */
  async crash(id: string): Promise<Member> {
    const m = this.members.get(id)
    if (m === undefined) throw new Error(`no ${id}`)
    this.net.crash(`memory:${id}`)
    await m.node.stop()
    this.members.delete(id)
    return m
  }

  leaders(): Member[] {
    return [...this.members.values()].filter((m) => m.node.role === 'leader')
  }

  until(check: () => boolean, maxMs = 10_000): Promise<void> {
    return advanceUntil(this.clock, check, maxMs)
  }

  /** Waits for one leader that every running node follows. */
  async leader(maxMs = 10_000): Promise<Member> {
    await this.until(() => {
      const [leader, ...more] = this.leaders()
      if (leader === undefined || more.length > 0) return false
      return [...this.members.values()].every((m) => m.node.leaderId === leader.id)
    }, maxMs)
    return this.leaders()[0]!
  }

  settle<T>(promise: Promise<T>, maxMs = 10_000): Promise<T> {
    return settleOn(this.clock, promise, maxMs)
  }

  async stop(): Promise<void> {
    for (const m of this.members.values()) await m.node.stop()
    this.members.clear()
  }
}
