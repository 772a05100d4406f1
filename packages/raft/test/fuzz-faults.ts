/**
 * The fault injector of a fuzz schedule: at random intervals it crashes a server (and
 * restarts it later from its disk), partitions the network, turns on message loss,
 * duplication, reordering and slow disks for a while, changes the membership, or asks the
 * leader to hand over. Every decision comes from its seeded random and the virtual clock, so
 * a schedule replays exactly from its seed.
 */
import type { TimerHandle } from '@rony/interface'
import type { SeededRandom } from '@rony/transport'
import { BASE_DELAY, CALM, describe, type FuzzCluster, type Server } from './fuzz-cluster.js'

/** Faults injected so far, for the summary. */
export interface FaultCounts {
  crashes: number
  partitions: number
  chaos: number
  changes: number
  transfers: number
}

/** Fewest voters a removal may leave. */
const MIN_VOTERS = 3

export class FaultInjector {
  readonly counts: FaultCounts = { crashes: 0, partitions: 0, chaos: 0, changes: 0, transfers: 0 }
  readonly #cluster: FuzzCluster
  readonly #random: SeededRandom
  /** Restarts of crashed servers, due later. */
  readonly #restarts = new Set<TimerHandle>()
  #partitioned = false
  #chaotic = false
  /** The membership change in flight (one at a time, as the node queues them anyway). */
  #change: Promise<void> | undefined
  /** Leadership transfers in flight: one that completes after healing changes the leader. */
  #transfers = 0
  #stopped = false

  constructor(cluster: FuzzCluster, random: SeededRandom) {
    this.#cluster = cluster
    this.#random = random
  }

  /** Whether a membership change or a leadership transfer is still in flight. */
  get changing(): boolean {
    return this.#change !== undefined || this.#transfers > 0
  }

  /** Injects faults until {@link stop}. */
  async run(): Promise<void> {
    const clock = this.#cluster.clock
    while (!this.#stopped) {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, this.#random.int(50, 500)))
      if (this.#stopped) return
      const r = this.#random.next()
      if (r < 0.3) this.#crash()
      else if (r < 0.55) this.#partition()
      else if (r < 0.75) this.#chaos()
      else if (r < 0.9) this.#changeMembership()
      else this.#transfer()
    }
  }

  /**
   * No new faults; the network is healed and calm again, and every server that ever ran is
   * restarted. A membership change or transfer in flight goes on ({@link changing}).
   */
  async stop(): Promise<void> {
    this.#stopped = true
    const cluster = this.#cluster
    for (const timer of this.#restarts) cluster.clock.clearTimeout(timer)
    this.#restarts.clear()
    cluster.net.heal()
    cluster.net.configure({ delay: BASE_DELAY })
    Object.assign(cluster.chaos, CALM)
    cluster.trace.add('faults stopped: healed, calm, restarting every server')
    const down = [...cluster.servers.values()].filter((s) => s.lifetimes > 0 && !s.life)
    await Promise.all(down.map((s) => cluster.start(s.id)))
  }

  #crash(): void {
    const cluster = this.#cluster
    const running = cluster.running()
    const started = [...cluster.servers.values()].filter((s) => s.lifetimes > 0).length
    // Mostly a minority down at a time, so that clients get work done between faults.
    const majority = Math.floor(started / 2) + 1
    if (running.length <= majority && this.#random.next() < 0.85) return
    const victim = this.#pick(running)
    if (victim === undefined) return
    this.counts.crashes++
    cluster.crash(victim.id)
    const timer = cluster.clock.setTimeout(
      () => {
        this.#restarts.delete(timer)
        void cluster.start(victim.id)
      },
      this.#random.int(50, 1000),
    )
    this.#restarts.add(timer)
  }

  /** Cuts a random minority (sometimes just the leader) from the rest, for a while. */
  #partition(): void {
    if (this.#partitioned) return
    const cluster = this.#cluster
    const all = [...cluster.servers.values()]
    const leader = cluster.leader()
    let minority: Server[]
    if (leader !== undefined && this.#random.next() < 0.3) minority = [leader]
    else {
      const shuffled = this.#shuffle(all)
      minority = shuffled.slice(0, this.#random.int(1, Math.floor(all.length / 2) + 1))
    }
    const rest = all.filter((s) => !minority.includes(s))
    this.counts.partitions++
    this.#partitioned = true
    cluster.net.partition(
      minority.map((s) => s.address),
      rest.map((s) => s.address),
    )
    cluster.trace.add(`partition [${minority.map((s) => s.id)}] | [${rest.map((s) => s.id)}]`)
    cluster.clock.setTimeout(
      () => {
        if (this.#stopped) return
        cluster.net.heal()
        this.#partitioned = false
        cluster.trace.add('partition healed')
      },
      this.#random.int(100, 1500),
    )
  }

  /** Lossy, duplicating, reordering, slow network and slow disks, for a while. */
  #chaos(): void {
    if (this.#chaotic) return
    const cluster = this.#cluster
    const r = this.#random
    const chaos = {
      loss: 0.3 * r.next(),
      duplicate: 0.2 * r.next(),
      reorder: 0.3 * r.next(),
      diskLatency: r.int(1, 15),
    }
    const delay = { min: 1, max: r.int(3, 40) }
    this.counts.chaos++
    this.#chaotic = true
    Object.assign(cluster.chaos, chaos)
    cluster.net.configure({ delay })
    cluster.trace.add(`chaos ${JSON.stringify({ ...chaos, delay })}`)
    cluster.clock.setTimeout(
      () => {
        if (this.#stopped) return
        Object.assign(cluster.chaos, CALM)
        cluster.net.configure({ delay: BASE_DELAY })
        this.#chaotic = false
        cluster.trace.add('chaos over')
      },
      r.int(200, 1500),
    )
  }

  /**
   * One single-server change on the leader: promote a learner, add back a removed server,
   * remove a voter (keeping at least {@link MIN_VOTERS}), or bring in a spare as a learner.
   */
  #changeMembership(): void {
    const cluster = this.#cluster
    const node = cluster.leader()?.life?.node
    if (this.#change !== undefined || node === undefined) return
    const config = node.configuration()
    const voters = config.filter((s) => s.suffrage === 'voter')
    const learner = config.find((s) => s.suffrage === 'learner')
    const outside = [...cluster.servers.values()].filter((s) => !config.some((c) => c.id === s.id))
    const removed = outside.find((s) => s.lifetimes > 0)
    const spare = outside.find((s) => s.lifetimes === 0)
    const canRemove = voters.length > MIN_VOTERS
    let what: string
    let change: () => Promise<void>
    if (learner !== undefined) {
      what = `promote ${learner.id}`
      change = () => node.addVoter(learner.id, learner.address)
    } else if (removed !== undefined && !(canRemove && this.#random.next() < 0.3)) {
      what = `add back ${removed.id}`
      change = () => node.addVoter(removed.id, removed.address)
    } else if (canRemove && (spare === undefined || this.#random.next() < 0.5)) {
      const victim = voters[this.#random.int(0, voters.length)]!
      what = `remove ${victim.id}`
      change = () => node.removeServer(victim.id)
    } else if (spare !== undefined) {
      what = `add learner ${spare.id}`
      change = async () => {
        await cluster.start(spare.id)
        await node.addLearner(spare.id, spare.address)
      }
    } else return
    this.counts.changes++
    cluster.trace.add(`${node.id}: ${what}`)
    this.#change = change()
      .then(
        () => cluster.trace.add(`${what}: done`),
        (error: unknown) => cluster.trace.add(`${what}: ${describe(error)}`),
      )
      .finally(() => {
        this.#change = undefined
      })
  }

  #transfer(): void {
    const cluster = this.#cluster
    const node = cluster.leader()?.life?.node
    if (node === undefined) return
    const others = node.configuration().filter((s) => s.suffrage === 'voter' && s.id !== node.id)
    const to = this.#random.next() < 0.5 ? this.#pick(others)?.id : undefined
    this.counts.transfers++
    cluster.trace.add(`${node.id}: transfer leadership to ${to ?? 'the most up-to-date voter'}`)
    this.#transfers++
    node
      .transferLeadership(to)
      .then(
        () => cluster.trace.add(`transfer from ${node.id}: done`),
        (error: unknown) => cluster.trace.add(`transfer from ${node.id}: ${describe(error)}`),
      )
      .finally(() => {
        this.#transfers--
      })
  }

  #pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.#random.int(0, items.length)]
  }

  #shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items]
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.#random.int(0, i + 1)
      ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
    }
    return copy
  }
}
