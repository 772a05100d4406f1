/**
 * Simulated clients of the fuzzed cluster. Each loops on random key-value operations and
 * records them in the shared history, with the virtual clock's time, for the
 * linearizability check:
 *
 * - Writes (and some reads, through the log) are proposed on the server the client believes
 *   leads, or on any server with `forward: true` (which sends them to the leader). A refusal that happens before anything is appended (not the leader, a transfer
 *   in progress, overloaded, or the server is down) certainly had no effect: the client
 *   retries the same operation, keeping its call time, on the leader named in the refusal
 *   or another server. Anything else (timeout, leadership lost, stopped, a crash while the
 *   call was in flight) may or may not have taken effect, and is recorded as unknown.
 * - Reads do ReadIndex on a random server, then read that server's local state machine.
 */
import { isCodedError } from '@rony/interface'
import {
  type HistoryRecorder,
  type KvInput,
  type KvOutput,
  kv,
} from '@rony/testing/linearizability'
import type { SeededRandom } from '@rony/transport'
import { NotLeaderError } from '../src/index.js'
import { describe, type FuzzCluster, type Server } from './fuzz-cluster.js'
import { encodeCommand } from './fuzz-machine.js'

export type FuzzHistory = HistoryRecorder<KvInput, KvOutput>

/** Codes a node rejects with before appending anything: the command had no effect. */
const NO_EFFECT = new Set([
  'RONY_ERR_NOT_LEADER',
  'RONY_ERR_TRANSFERRING',
  'RONY_ERR_OVERLOADED',
  'RONY_ERR_NOT_STARTED',
])

const noEffect = (error: unknown): boolean => isCodedError(error) && NO_EFFECT.has(error.code)

/** The share of writes proposed with `forward: true` on a random server. */
const FORWARDED = 0.3

export interface ClientInit {
  readonly id: number
  readonly cluster: FuzzCluster
  readonly history: FuzzHistory
  readonly random: SeededRandom
  readonly keys: readonly string[]
  /** How long an operation is retried after refusals before the client gives up on it. */
  readonly patience: number
}

export class FuzzClient {
  readonly #init: ClientInit
  #leader: string | undefined
  #seq = 0
  /** The last value this client saw per key: a `cas` expectation that may match. */
  readonly #seen = new Map<string, string | null>()
  #stopped = false
  /** Operations given up on without knowing their outcome. */
  unknown = 0

  constructor(init: ClientInit) {
    this.#init = init
  }

  /** Issues operations, one at a time, until {@link stop}. */
  async run(): Promise<void> {
    const { random } = this.#init
    while (!this.#stopped) {
      await this.#sleep(random.int(0, 15))
      if (this.#stopped) return
      const input = this.#nextInput()
      if (input.op === 'get' && random.next() < 0.8) await this.read(input.key)
      else await this.#write(input)
    }
  }

  /** The loop ends after the operation in flight. */
  stop(): void {
    this.#stopped = true
  }

  /** A ReadIndex read of `key`, on `target` or else a random running server. */
  async read(key: string, target?: string): Promise<void> {
    const { cluster, history, patience } = this.#init
    const input = kv.get(key)
    const op = history.invoke(this.#init.id, input)
    const giveUp = cluster.clock.now() + patience
    for (;;) {
      const life = (target === undefined ? this.#anyServer() : cluster.server(target))?.life
      if (life !== undefined) {
        try {
          const index = await life.node.readIndex()
          const value = life.machine.data.get(key) ?? null
          this.#seen.set(key, value)
          history.complete(op, value)
          const at = `read index ${index}, applied ${life.node.appliedIndex}`
          if (cluster.watching) this.#traceOp(op, input, life.node.id, `${at}: ${describe(value)}`)
          return
        } catch (error) {
          if (!noEffect(error)) return this.#unknown(op, input, life.node.id, error)
        }
      }
      if (cluster.clock.now() >= giveUp) return this.#unknown(op, input, target, 'gave up')
      target = undefined
      await this.#sleep(this.#init.random.int(5, 20))
    }
  }

  async #write(input: KvInput): Promise<void> {
    const { cluster, history, patience, random } = this.#init
    const op = history.invoke(this.#init.id, input)
    const giveUp = cluster.clock.now() + patience
    const forward = random.next() < FORWARDED
    const pick = (): Server | undefined => (forward ? this.#anyServer() : this.#leaderGuess())
    let target = pick()
    for (;;) {
      const life = target?.life
      if (life !== undefined) {
        try {
          const { result, index } = await life.node.propose(encodeCommand(input), { forward })
          if (!forward) this.#leader = life.node.id
          this.#learn(input, result as KvOutput)
          history.complete(op, result as KvOutput)
          if (cluster.watching) this.#traceOp(op, input, life.node.id, `index ${index}: ${result}`)
          return
        } catch (error) {
          if (!noEffect(error)) return this.#unknown(op, input, life.node.id, error)
          this.#leader = error instanceof NotLeaderError ? error.leaderId : undefined
        }
      } else this.#leader = undefined
      if (cluster.clock.now() >= giveUp) return this.#unknown(op, input, target?.id, 'gave up')
      // A refusal costs a round trip: never retry without time passing.
      await this.#sleep(random.int(2, 12))
      target = pick()
    }
  }

  #unknown(op: number, input: KvInput, server: string | undefined, why: unknown): void {
    this.unknown++
    this.#init.history.unknown(op)
    this.#seen.delete(input.key)
    this.#traceOp(op, input, server, `unknown, ${describe(why)}`)
  }

  #traceOp(op: number, input: KvInput, server: string | undefined, outcome: string): void {
    const what = `c${this.#init.id} #${op} ${input.op}(${input.key})`
    this.#init.cluster.trace.add(`${what} on ${server ?? '-'}: ${outcome}`)
  }

  /** What a completed write tells about the key's value. */
  #learn(input: KvInput, result: KvOutput): void {
    if (input.op === 'put') this.#seen.set(input.key, input.value)
    else if (input.op === 'delete') this.#seen.set(input.key, null)
    else if (input.op === 'cas' && result === true) this.#seen.set(input.key, input.next)
    else if (input.op === 'get') this.#seen.set(input.key, result as string | null)
    else this.#seen.delete(input.key)
  }

  #nextInput(): KvInput {
    const { keys, random } = this.#init
    const key = keys[random.int(0, keys.length)]!
    const value = `${this.#init.id}.${++this.#seq}`
    const r = random.next()
    if (r < 0.35) return kv.get(key)
    if (r < 0.55) return kv.put(key, value)
    if (r < 0.7) return kv.append(key, ` ${value}`)
    if (r < 0.77) return kv.delete(key)
    const seen = this.#seen.get(key)
    const expected = seen !== undefined && random.next() < 0.8 ? seen : null
    return kv.cas(key, expected, value)
  }

  /** The server last known to lead, else a random running one. */
  #leaderGuess(): Server | undefined {
    const { cluster } = this.#init
    if (this.#leader !== undefined && cluster.servers.has(this.#leader)) {
      return cluster.server(this.#leader)
    }
    return this.#anyServer()
  }

  #anyServer(): Server | undefined {
    const running = this.#init.cluster.running()
    return running[this.#init.random.int(0, Math.max(1, running.length))]
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#init.cluster.clock.setTimeout(resolve, ms))
  }
}
