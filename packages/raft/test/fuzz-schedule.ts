/**
 * One seeded fuzz schedule of `@rony/raft`: a 3- or 5-server cluster of real nodes with
 * durable storage on simulated disks, 2–4 clients and a fault injector, all on a virtual
 * clock. It runs a few simulated seconds, then heals everything, lets the cluster settle,
 * and checks:
 *
 * (a) the client history is linearizable under `kvModel` (a step budget running out counts
 *     as a failure: histories are sized so that it does not);
 * (b) once settled, every member applied the same commands: equal applied indexes and
 *     equal key-value maps (and, all along, no two servers applied different commands at
 *     one index, and every server applied each entry once, in order);
 * (c) no two servers ever reported different leaders for one term;
 *
 * and that the healed cluster converges at all (liveness), and that no node stops itself on
 * a fatal error or fails to recover from its disk. Everything is a function of the seed:
 * `RAFT_FUZZ_SEED=<seed>` replays a failure exactly. The spec and the soak runner
 * (scripts/fuzz.ts) both run this.
 */

import {
  check,
  formatHistory,
  HistoryRecorder,
  type KvInput,
  type KvOutput,
  kvModel,
} from '@rony/testing/linearizability'
import { seededRandom, type VirtualClock } from '@rony/transport'
import { FuzzClient } from './fuzz-clients.js'
import { FuzzCluster } from './fuzz-cluster.js'
import { FaultInjector } from './fuzz-faults.js'

export interface ScheduleResult {
  readonly seed: number
  readonly ok: boolean
  /** What went wrong; empty when `ok`. */
  readonly failures: readonly string[]
  /** One line: the schedule's shape, what was injected, the verdict. */
  readonly summary: string
  /** For a failure: the seed, how to replay it, the failures and the end of the trace. */
  readonly report: string
  /** Equal for two runs of one seed: what replaying is checked with. */
  readonly fingerprint: string
}

/** Simulated time the healed cluster gets to converge before that counts as a failure. */
const SETTLE_MS = 20_000
/** Node `requestTimeout`: calls in flight during a fault end as unknown within it. */
const REQUEST_TIMEOUT = 1_000
/** How long a client retries an operation that was refused before giving up on it. */
const PATIENCE = 2_000

export interface ScheduleOptions {
  /**
   * A server (`n1`…) whose received messages and storage writes are traced too, with every
   * client operation, to diagnose a failing seed; the report then shows the whole trace
   * (up to 50,000 lines) instead of the last 80.
   */
  readonly watch?: string | undefined
}

export async function runSchedule(
  seed: number,
  options: ScheduleOptions = {},
): Promise<ScheduleResult> {
  const random = seededRandom(seed)
  const size = random.next() < 0.5 ? 3 : 5
  const keyCount = random.int(2, 5)
  const duration = random.int(3_000, 5_001)
  const cluster = new FuzzCluster({
    random: random.fork(),
    size,
    spares: 1,
    snapshotThreshold: [8, 32, 128, 10_000][random.int(0, 4)]!,
    segmentBytes: random.int(1_024, 8_193),
    requestTimeout: REQUEST_TIMEOUT,
    maxUncommittedBytes: random.next() < 0.3 ? 2_048 : 64 * 1024 * 1024,
    clockSkew: random.next() < 0.5 ? 0 : 0.3,
    watch: options.watch,
  })
  const { clock, safety } = cluster
  const history = new HistoryRecorder<KvInput, KvOutput>(() => clock.now())
  const keys = Array.from({ length: keyCount }, (_, i) => String.fromCharCode(97 + i))
  const client = (id: number) =>
    new FuzzClient({ id, cluster, history, random: random.fork(), keys, patience: PATIENCE })
  const clients = Array.from({ length: random.int(2, 5) }, (_, id) => client(id))
  const injector = new FaultInjector(cluster, random.fork())
  const shape = `${size} servers, ${clients.length} clients, ${keyCount} keys, ${duration} ms`
  const failures: string[] = []
  try {
    failures.push(...(await play(cluster, clients, injector, client, keys, duration)))
    await settled(clock, cluster.stop(), SETTLE_MS)
  } catch (error) {
    failures.push(`the harness threw: ${(error as Error).stack ?? String(error)}`)
  }
  failures.unshift(...safety.violations)
  const ops = history.history()
  // A step budget running out ('unknown') fails too: histories are sized not to.
  const verdict = check(ops, kvModel)
  if (verdict.result !== 'ok') failures.push(`history: ${verdict.message}`)

  const unknown = clients.reduce((n, c) => n + c.unknown, 0)
  const steps = Math.max(0, ...verdict.partitions.map((p) => p.steps))
  const { indexes, terms } = safety.summary()
  const injected = Object.entries(injector.counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ')
  const summary =
    `seed ${seed}: ${shape}; ${ops.length} ops (${unknown} unknown); ${injected}; ` +
    `${indexes} commands applied, term ${terms}, check ${steps} steps: ` +
    (failures.length === 0 ? 'ok' : `${failures.length} FAILURES`)
  const shown = options.watch === undefined ? 80 : 50_000
  const report = [
    `RAFT FUZZ FAILURE, seed ${seed} (replay: RAFT_FUZZ_SEED=${seed} npx vitest run packages/raft/test/fuzz)`,
    summary,
    ...failures.map((f) => `- ${f}`),
    `last ${shown} trace lines:`,
    cluster.trace.tail(shown),
  ].join('\n')
  const fingerprint = `${ops.length}/${indexes}/${terms}/${hash(formatHistory(ops))}`
  return { seed, ok: failures.length === 0, failures, summary, report, fingerprint }
}

/**
 * Runs the founders, clients and injector for `duration`; then, with no more faults or
 * operations, the healed cluster must converge, agree, and serve a final read of every key
 * (which catches a lost write that nobody read before). Returns what went wrong.
 */
async function play(
  cluster: FuzzCluster,
  clients: readonly FuzzClient[],
  injector: FaultInjector,
  client: (id: number) => FuzzClient,
  keys: readonly string[],
  duration: number,
): Promise<string[]> {
  const { clock, safety } = cluster
  const founders = [...cluster.servers.values()].filter((s) => s.founder)
  await settled(clock, Promise.all(founders.map((s) => cluster.start(s.id))), SETTLE_MS)
  const loops = [...clients.map((c) => c.run()), injector.run()].map(tracked)
  const end = clock.now() + duration
  await until(clock, () => clock.now() >= end || safety.violations.length > 0, duration)
  for (const c of clients) c.stop()
  if (safety.violations.length > 0) return []
  await settled(clock, injector.stop(), SETTLE_MS)
  const quiet = () => loops.every((l) => l.done) && !injector.changing
  if (!(await until(clock, () => quiet() && convergedOn(cluster) !== undefined, SETTLE_MS))) {
    return [`no convergence ${SETTLE_MS} ms after healing: ${state(cluster)}`]
  }
  const leader = convergedOn(cluster)!
  const reader = client(clients.length)
  for (const key of keys) await settled(clock, reader.read(key, leader), SETTLE_MS)
  return divergence(cluster)
}

/** The leader every member follows, once all members run and applied its commit index. */
function convergedOn(cluster: FuzzCluster): string | undefined {
  const leader = cluster.leader()?.life?.node
  if (leader === undefined || leader.appliedIndex !== leader.commitIndex) return undefined
  for (const member of leader.configuration()) {
    const node = cluster.servers.get(member.id)?.life?.node
    if (node?.leaderId !== leader.id || node.appliedIndex !== leader.commitIndex) return undefined
  }
  return leader.id
}

/** Members whose applied index or key-value map differs from the leader's. */
function divergence(cluster: FuzzCluster): string[] {
  const leader = cluster.leader()!.life!
  const expected = JSON.stringify([...leader.machine.data].sort())
  const found: string[] = []
  for (const member of leader.node.configuration()) {
    const life = cluster.server(member.id).life!
    const actual = JSON.stringify([...life.machine.data].sort())
    if (life.node.appliedIndex !== leader.node.appliedIndex || actual !== expected) {
      found.push(
        `${member.id} diverged from leader ${leader.node.id}: applied ${life.node.appliedIndex} ` +
          `${actual} vs ${leader.node.appliedIndex} ${expected}`,
      )
    }
  }
  return found
}

/** Every server's view, for a report. */
function state(cluster: FuzzCluster): string {
  return [...cluster.servers.values()]
    .map((s) => {
      const n = s.life?.node
      if (n === undefined) return `${s.id}: ${s.lifetimes === 0 ? 'never started' : 'down'}`
      const members = n.configuration().map((m) => `${m.id}${m.suffrage === 'learner' ? '~' : ''}`)
      return `${s.id}: ${n.role} term ${n.term} leader ${n.leaderId ?? '-'} commit ${n.commitIndex} applied ${n.appliedIndex} members [${members}]`
    })
    .join('; ')
}

/** Advances simulated time in 10 ms steps until `done`; false if `maxMs` pass first. */
async function until(clock: VirtualClock, done: () => boolean, maxMs: number): Promise<boolean> {
  const end = clock.now() + maxMs
  while (!done()) {
    if (clock.now() >= end) return false
    await clock.advanceAsync(10)
  }
  return true
}

/** Waits for `promise` while advancing simulated time (it may need timers to settle). */
async function settled(clock: VirtualClock, promise: Promise<unknown>, maxMs: number) {
  const t = tracked(promise)
  if (!(await until(clock, () => t.done, maxMs))) throw new Error('the harness hung')
}

function tracked(promise: Promise<unknown>): { done: boolean } {
  const t = { done: false }
  promise.then(
    () => {
      t.done = true
    },
    () => {
      t.done = true
    },
  )
  return t
}

/** FNV-1a, enough to tell two histories apart in a fingerprint. */
function hash(s: string): string {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return (h >>> 0).toString(16)
}
