/**
 * Seeded fault schedules over a replica set of whole edges, with clients that record what
 * they saw: the key-value history for the linearizability checker, and an increment counter
 * under client re-sends for the exactly-once check. Shared by the specs (a CI count of seeds)
 * and scripts/soak.ts (as many as you like). Everything random comes from the seed, and time
 * is the virtual clock's, so a seed replays exactly.
 */
import { C_Error, type Envelope, type MessageType, RonyError, rony } from '@rony/envelope'
import {
  type CheckResult,
  check,
  type KvInput,
  type KvOutput,
  kv,
  kvModel,
  type Operation,
} from '@rony/testing/linearizability'
import { type SeededRandom, seededRandom } from '@rony/transport'
import {
  C_Value,
  Get,
  Incr,
  Put,
  ReplicaSetSim,
  type SimClient,
  sleep,
  Value,
  type ValueMsg,
} from './replica-set.js'

/**
 * Raft's snapshot threshold in the schedules, in entries: small, so logs are compacted
 * several times per schedule and restarted edges catch up from snapshots (the session
 * table with them) while the faults go on.
 */
const SNAPSHOT_THRESHOLD = 48

/** How long a client waits for an answer, in ms: longer than the edge's leaderWait (3 s). */
const CLIENT_TIMEOUT = 5000

/** What a client learned from one request. */
export type Outcome =
  | { readonly kind: 'ok'; readonly value: ValueMsg }
  /** It certainly did not take effect (never appended): it belongs nowhere in a history. */
  | { readonly kind: 'failed'; readonly why: string }
  /** It may or may not have taken effect. */
  | { readonly kind: 'unknown'; readonly why: string }

/**
 * Sends a request and classifies its answer. Only `E02/LEADER` "no leader … within" proves
 * nothing ran: the edge answers it after every attempt was refused before an append. Any
 * other error (a lost leadership, a timeout, a closed connection, a shutdown) is unknown.
 */
export async function request(
  sim: ReplicaSetSim,
  client: SimClient,
  type: MessageType,
  message: object,
  requestId?: bigint,
): Promise<Outcome> {
  const envelope = await withTimeout(sim, client.send(type, message, requestId), CLIENT_TIMEOUT)
  if (envelope === undefined) return { kind: 'unknown', why: 'timeout' }
  return classify(envelope)
}

export function classify(envelope: Envelope): Outcome {
  if (envelope.ctor === C_Value) {
    return { kind: 'ok', value: Value.decode(envelope.message) as unknown as ValueMsg }
  }
  if (envelope.ctor !== C_Error) return { kind: 'unknown', why: `answer ${envelope.ctor}` }
  const error = RonyError.fromWire(rony.Error.decode(envelope.message))
  const why = error.message
  if (isNoLeader(error)) return { kind: 'failed', why }
  return { kind: 'unknown', why }
}

/** The edge's `RONY_ERR_NO_LEADER` answer, as the wire shows it (the code does not travel). */
export function isNoLeader(error: RonyError): boolean {
  return (
    error.wireCode === 'E02' &&
    error.items === 'LEADER' &&
    error.description.startsWith('no leader of this replica set within')
  )
}

/** `done`'s value, or `undefined` once `ms` of the sim's clock passed first. */
function withTimeout<T>(sim: ReplicaSetSim, done: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([done, sleep(sim.clock, ms).then(() => undefined)])
}

export interface ScheduleInit {
  readonly seed: number
  /** Voters that found the set: 3 or 5. */
  readonly size: number
  /** Clients issuing requests at once. Default: the size. */
  readonly clients?: number
  /** Simulated time the clients and the faults run, in ms. Default 3000. */
  readonly duration?: number
}

export interface ScheduleResult {
  readonly seed: number
  /** The problems found; empty when the schedule passed. */
  readonly failures: string[]
  /** One line: seed, operations, outcomes, faults. */
  readonly summary: string
}

/**
 * The faults of a schedule, drawn from its random: crashes and graceful stops (at most a
 * minority down at once), restarts with kept storage, partitions (one node or a minority cut off, the leader
 * more often than not), heals, and periods of Raft and gossip message loss and duplication.
 * Ends with everything healed, calm and running again.
 */
class Nemesis {
  readonly log: string[] = []
  private readonly down = new Set<string>()
  private readonly restarting = new Set<Promise<unknown>>()

  constructor(
    private readonly sim: ReplicaSetSim,
    private readonly ids: readonly string[],
    private readonly random: SeededRandom,
    private readonly failures: string[],
  ) {}

  async run(end: number): Promise<void> {
    const { sim, random } = this
    while (sim.clock.now() < end) {
      await sleep(sim.clock, random.int(200, 1000))
      const r = random.next()
      if (r < 0.2) this.stop('crash')
      else if (r < 0.27) this.stop('leave')
      else if (r < 0.45) this.restart()
      else if (r < 0.6) this.partition()
      else if (r < 0.75) this.note('heal', () => sim.heal())
      else if (r < 0.9) this.chaos(random.next() * 0.2, random.next() * 0.2)
      else this.chaos(0, 0)
    }
    await this.settle()
  }

  /** Heals, calms and restarts every crashed node. */
  async settle(): Promise<void> {
    this.sim.heal()
    this.chaos(0, 0)
    for (const id of [...this.down]) this.restart(id)
    await Promise.all(this.restarting)
  }

  /** Crashes an edge, or stops it gracefully (it leaves the group), if a minority is down. */
  private stop(how: 'crash' | 'leave'): void {
    const running = this.ids.filter((id) => !this.down.has(id) && this.sim.nodes.has(id))
    const id = this.pick(running)
    if (this.down.size + 1 > Math.floor((this.ids.length - 1) / 2) || id === undefined) return
    this.down.add(id)
    this.note(`${how} ${id}`, () => (how === 'crash' ? this.sim.crash(id) : this.sim.leave(id)))
  }

  private restart(id = this.pick([...this.down])): void {
    if (id === undefined) return
    this.down.delete(id)
    this.log.push(`t=${this.sim.clock.now()} restart ${id}`)
    const started = this.sim.launch(id).catch((error: unknown) => {
      this.failures.push(`restarting ${id} failed: ${String(error)}`)
    })
    this.restarting.add(started)
    void started.finally(() => this.restarting.delete(started))
  }

  private partition(): void {
    const { random, ids } = this
    const leader = this.sim.leader()?.id
    const cut = new Set<string>()
    if (leader !== undefined && random.next() < 0.6) cut.add(leader)
    const size = random.int(1, Math.floor(ids.length / 2) + 1)
    while (cut.size < size) cut.add(this.pick(ids) as string)
    const rest = ids.filter((id) => !cut.has(id))
    this.note(`partition ${[...cut]} | ${rest}`, () => this.sim.partition([...cut], rest))
  }

  private chaos(loss: number, duplicate: number): void {
    this.note(`chaos loss ${loss.toFixed(2)} dup ${duplicate.toFixed(2)}`, () => {
      this.sim.chaos.loss = loss
      this.sim.chaos.duplicate = duplicate
      this.sim.net.configure({ delay: { min: 1, max: 5 }, loss, duplicate })
    })
  }

  /** How many faults of each kind ran, e.g. `2 crash, 1 leave, 3 partition`. */
  tally(): string {
    const kinds = new Map<string, number>()
    for (const line of this.log) {
      const kind = line.split(' ')[1] as string
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
    }
    return [...kinds].map(([kind, n]) => `${n} ${kind}`).join(', ')
  }

  private note(what: string, act: () => void): void {
    this.log.push(`t=${this.sim.clock.now()} ${what}`)
    act()
  }

  private pick<T>(from: readonly T[]): T | undefined {
    return from.length === 0 ? undefined : from[this.random.int(0, from.length)]
  }
}

/** A client's connection: kept while its edge runs, else to another running edge. */
class Connector {
  private current: { readonly id: string; readonly client: SimClient } | undefined

  constructor(
    private readonly sim: ReplicaSetSim,
    private readonly random: SeededRandom,
    private readonly session?: string,
  ) {}

  /** A connection to a running edge (another one than before with `move`), if any runs. */
  connect(move = false): { readonly id: string; readonly client: SimClient } | undefined {
    const current = this.current
    if (current !== undefined && !current.client.closed && this.sim.nodes.has(current.id)) {
      if (!move && this.random.next() < 0.8) return current
    }
    const running = [...this.sim.nodes.keys()].filter((id) => !move || id !== current?.id)
    if (running.length === 0) return undefined
    const id = running[this.random.int(0, running.length)] as string
    if (id === current?.id && !current.client.closed) return current
    current?.client.close()
    this.current = { id, client: this.sim.client(id, this.session) }
    return this.current
  }
}

const KEYS = ['a', 'b', 'c']

/**
 * Linearizable key-value under faults: clients put unique values and read (linearizable
 * reads) through random edges while the nemesis runs; the history is checked with
 * `@rony/testing/linearizability`, and at the end every replica holds the same data.
 */
export async function runKvSchedule(init: ScheduleInit): Promise<ScheduleResult> {
  const { seed, size } = init
  const failures: string[] = []
  const sim = new ReplicaSetSim({
    seed,
    bootstrapExpect: size,
    snapshotThreshold: SNAPSHOT_THRESHOLD,
  })
  const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`)
  const random = seededRandom(seed * 7919 + size)
  const history: Operation<KvInput, KvOutput>[] = []
  const outcomes = { ok: 0, failed: 0, unknown: 0 }
  const nemesis = new Nemesis(sim, ids, random.fork(), failures)
  try {
    await formed(sim, ids)
    const end = sim.clock.now() + (init.duration ?? 3000)
    const client = async (c: number, random: SeededRandom): Promise<void> => {
      const connector = new Connector(sim, random)
      for (let seq = 1; sim.clock.now() < end; seq++) {
        await sleep(sim.clock, random.int(0, 40))
        const conn = connector.connect()
        if (conn === undefined) continue
        const key = KEYS[random.int(0, KEYS.length)] as string
        const put = random.next() < 0.5
        const input = put ? kv.put(key, `${c}.${seq}`) : kv.get(key)
        const call = sim.clock.now()
        const outcome = put
          ? await request(sim, conn.client, Put, { key, value: `${c}.${seq}` })
          : await request(sim, conn.client, Get, { key })
        outcomes[outcome.kind]++
        if (outcome.kind === 'failed') continue
        if (outcome.kind === 'unknown') {
          history.push({ client: c, input, output: undefined, call, return: Infinity })
          continue
        }
        const output = put ? true : outcome.value.found ? outcome.value.value : null
        history.push({ client: c, input, output, call, return: sim.clock.now() })
      }
    }
    const clients = Array.from({ length: init.clients ?? size }, (_, c) => client(c, random.fork()))
    await sim.whileRunning(Promise.all([...clients, nemesis.run(end)]), 120_000)
    const result: CheckResult<KvInput, KvOutput> = check(history, kvModel)
    if (result.result !== 'ok') failures.push(result.message)
    await converged(sim, ids, failures, (n) => JSON.stringify([...n.state.data].sort()))
    failures.push(...sim.violations)
  } catch (error) {
    failures.push(`the harness threw: ${(error as Error).stack ?? String(error)}`)
  } finally {
    await sim.close()
  }
  return {
    seed,
    failures: failures.map((f) => `${f}\nfaults:\n  ${nemesis.log.join('\n  ')}`),
    summary: `seed ${seed} (${size} nodes): ${history.length} operations (${outcomes.ok} ok, ${outcomes.failed} failed, ${outcomes.unknown} unknown), ${sim.restores} snapshots restored, faults: ${nemesis.tally()}`,
  }
}

/**
 * Exactly once under client re-sends: clients with a session increment one counter; a
 * request that fails or times out is re-sent with the same request id to another edge, and
 * some are sent twice at once through two edges (both must get the same answer). At
 * the end the counter (on every replica alike) is at least the acknowledged increments and
 * at most those plus the ones whose outcome stayed unknown, and no two acknowledged
 * increments saw the same count.
 */
export async function runCounterSchedule(init: ScheduleInit): Promise<ScheduleResult> {
  const { seed, size } = init
  const failures: string[] = []
  const sim = new ReplicaSetSim({
    seed,
    bootstrapExpect: size,
    snapshotThreshold: SNAPSHOT_THRESHOLD,
  })
  const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`)
  const random = seededRandom(seed * 104_729 + size)
  const counts: number[] = []
  let unknown = 0
  let resent = 0
  let duplicated = 0
  const nemesis = new Nemesis(sim, ids, random.fork(), failures)
  try {
    await formed(sim, ids)
    const end = sim.clock.now() + (init.duration ?? 3000)
    const client = async (c: number, random: SeededRandom): Promise<void> => {
      const connector = new Connector(sim, random, `session-${c}`)
      // A second connection of the same session, for duplicates sent at the same time.
      const twin = new Connector(sim, random, `session-${c}`)
      for (let requestId = 1n; sim.clock.now() < end; requestId++) {
        await sleep(sim.clock, random.int(0, 40))
        const duplicate = random.next() < 0.2 ? twin.connect(true) : undefined
        const twice = duplicate && request(sim, duplicate.client, Incr, { key: 'c' }, requestId)
        let outcome: Outcome | undefined
        for (let attempt = 0; attempt < 4 && outcome?.kind !== 'ok'; attempt++) {
          const conn = connector.connect(attempt > 0)
          if (conn === undefined) {
            await sleep(sim.clock, 100)
            continue
          }
          if (attempt > 0) resent++
          outcome = await request(sim, conn.client, Incr, { key: 'c' }, requestId)
        }
        const other = await twice
        if (other !== undefined) duplicated++
        if (other?.kind === 'ok' && outcome?.kind === 'ok') {
          const [a, b] = [numberOf(other.value), numberOf(outcome.value)]
          if (a !== b) failures.push(`client ${c} request ${requestId} answered ${a} and ${b}`)
        }
        if (outcome?.kind !== 'ok' && other?.kind === 'ok') outcome = other
        if (outcome?.kind === 'ok') counts.push(numberOf(outcome.value))
        else unknown++
      }
    }
    const clients = Array.from({ length: init.clients ?? size }, (_, c) => client(c, random.fork()))
    await sim.whileRunning(Promise.all([...clients, nemesis.run(end)]), 120_000)
    await converged(sim, ids, failures, (n) => String(n.state.counters.get('c') ?? 0))
    const final = sim.node('n1').state.counters.get('c') ?? 0
    if (final < counts.length || final > counts.length + unknown) {
      failures.push(
        `counter ${final}: ${counts.length} acknowledged, ${unknown} unknown (want ${counts.length}..${counts.length + unknown})`,
      )
    }
    const seen = new Set(counts)
    if (seen.size !== counts.length) failures.push(`two acknowledged increments saw one count`)
    failures.push(...sim.violations)
  } catch (error) {
    failures.push(`the harness threw: ${(error as Error).stack ?? String(error)}`)
  } finally {
    await sim.close()
  }
  return {
    seed,
    failures: failures.map((f) => `${f}\nfaults:\n  ${nemesis.log.join('\n  ')}`),
    summary: `seed ${seed} (${size} nodes): ${counts.length} acknowledged, ${unknown} unknown, ${resent} re-sent, ${duplicated} duplicated, ${sim.restores} snapshots restored, faults: ${nemesis.tally()}`,
  }
}

const numberOf = (v: ValueMsg): number =>
  typeof v.number === 'number' ? v.number : v.number.toNumber()

/** Starts `ids` at once and runs until they form one group of them all as voters. */
async function formed(sim: ReplicaSetSim, ids: readonly string[]): Promise<void> {
  await sim.whileRunning(Promise.all(ids.map((id) => sim.launch(id))))
  await sim.waitForLeader()
  await sim.untilConfiguration(ids.map((id) => `${id} voter`))
}

/**
 * Every replica applies the same commands: once a last write commits (so every earlier
 * entry is committed), their states (as `key` renders them) become equal.
 */
async function converged(
  sim: ReplicaSetSim,
  ids: readonly string[],
  failures: string[],
  key: (node: ReturnType<ReplicaSetSim['node']>) => string,
): Promise<void> {
  await sim.until(() => ids.every((id) => sim.nodes.has(id)), 30_000, 'every edge running')
  // Restarted edges may still be catching up, and the leader may lose its quorum while its
  // links to them redial (backoff up to 2 s): a few tries, each on the leader of the moment.
  const tries: Outcome[] = []
  while (tries.at(-1)?.kind !== 'ok') {
    if (tries.length === 5) {
      failures.push(`the last write failed after healing: ${JSON.stringify(tries)}`)
      return
    }
    const leader = await sim.waitForLeader()
    const client = sim.client(leader.id)
    tries.push(await sim.whileRunning(request(sim, client, Put, { key: 'last', value: 'write' })))
  }
  // Edges that left were added back by the leader when they restarted: all voters again.
  const all = ids.map((id) => `${id} voter`)
  try {
    await sim.untilConfiguration(all, 30_000)
  } catch (error) {
    failures.push(String(error))
  }
  const states = (): string[] => ids.map((id) => key(sim.node(id)))
  try {
    await sim.until(() => new Set(states()).size === 1, 30_000, 'replicas agreeing')
  } catch {
    failures.push(`replicas disagree: ${ids.map((id, i) => `${id} ${states()[i]}`).join('; ')}`)
  }
}
