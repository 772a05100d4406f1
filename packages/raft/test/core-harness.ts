/**
 * A deterministic simulation of a Raft cluster of {@link RaftCore}s: global ticks, a network
 * with programmable loss, delay (in ticks), duplication, reordering and partitions, and
 * crash/restart of nodes, where a restarted node gets only what it made durable (the parts of
 * each Ready it had persisted when it crashed). Every step is followed by the
 * {@link SafetyChecker}'s checks. Everything random comes from one seed.
 */

import type { Message, RaftCoreOptions, Ready } from '../src/core/index.js'
import { RaftCore } from '../src/core/index.js'
import type { Configuration } from '../src/storage/types.js'
import { SafetyChecker } from './core-safety.js'
import { bytes, SimNode, text } from './core-sim-node.js'
import { seeded } from './seeded.js'

export { bytes } from './core-sim-node.js'

const KIND = { command: '', configuration: 'C', noop: 'n' } as const

type CoreTuning = Omit<RaftCoreOptions, 'id' | 'recovered' | 'bootstrap' | 'random'>

export interface ClusterOptions {
  /** Ids of the initial voters (bootstrapped). */
  readonly voters: readonly string[]
  readonly seed?: number
  readonly core?: CoreTuning
  /** Delivery delay range in ticks, inclusive. Default [1, 1]. */
  readonly delay?: readonly [number, number]
  readonly dropRate?: number
  readonly duplicateRate?: number
  /**
   * Ticks a Ready takes to become durable, inclusive range. Default [0, 0]: at once. While
   * one is in flight the node keeps receiving messages, and a crash loses it.
   */
  readonly persistDelay?: readonly [number, number]
  /** Snapshot (and compact) every this many applied entries. Default never. */
  readonly snapshotEvery?: number
  /** Bytes of padding in state machine snapshots (to make them span chunks). */
  readonly snapshotPadding?: number
}

interface InFlight {
  readonly at: number
  readonly seq: number
  readonly m: Message
}

export class Cluster {
  readonly checker = new SafetyChecker()
  readonly nodes = new Map<string, SimNode>()
  readonly rng: () => number
  now = 0
  delay: readonly [number, number]
  dropRate: number
  duplicateRate: number
  /**
   * Decides each delivery (on top of partitions and random loss): false drops the message,
   * true delivers it, a message is delivered instead.
   */
  filter: ((m: Message) => boolean | Message) | undefined
  persistDelay: readonly [number, number]
  /** With `RAFT_TRACE=1`, the last events (deliveries, crashes, writes), for failure messages. */
  readonly trace: string[] | undefined = process.env.RAFT_TRACE === undefined ? undefined : []
  /** Index → the command (or entry kind) applied there, as first applied by any node. */
  readonly committed = new Map<number, string>()
  /** Delivered messages by type. */
  readonly delivered = new Map<Message['type'], number>()
  readonly #opts: ClusterOptions
  #queue: InFlight[] = []
  #seq = 0
  #groups = new Map<string, number>()

  constructor(opts: ClusterOptions) {
    this.#opts = opts
    this.rng = seeded(opts.seed ?? 1)
    this.delay = opts.delay ?? [1, 1]
    this.dropRate = opts.dropRate ?? 0
    this.duplicateRate = opts.duplicateRate ?? 0
    this.persistDelay = opts.persistDelay ?? [0, 0]
    const bootstrap = Cluster.founding(opts.voters)
    for (const id of opts.voters) this.#start(new SimNode(id, bootstrap, this.checker))
  }

  /** The bootstrap configuration `voters` make. */
  static founding(voters: readonly string[]): Configuration {
    return { voters: voters.map((id) => ({ id, address: `sim:${id}` })), learners: [] }
  }

  /** A new, empty server that joins through a configuration change. */
  addNode(id: string): void {
    this.#start(new SimNode(id, undefined, this.checker))
  }

  /**
   * `id`, in no group yet, founds one with `voters` (as `RaftNode.bootstrap()` does): its core
   * is rebuilt from its durable term and vote with that bootstrap configuration, which it
   * keeps across restarts. Ignored on a down node or one whose log holds anything.
   */
  bootstrap(id: string, voters: readonly string[]): void {
    const n = this.node(id)
    if (!n.up || n.writing !== undefined || n.entries.length > 0 || n.snapshot !== undefined) return
    n.bootstrap = Cluster.founding(voters)
    this.#log(() => `bootstrap ${id}: ${voters.join('')}`)
    this.#start(n)
  }

  node(id: string): SimNode {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`no node ${id}`)
    return n
  }

  core(id: string): RaftCore {
    return this.node(id).core
  }

  #start(n: SimNode): void {
    this.nodes.set(n.id, n)
    this.#log(
      () =>
        `start ${n.id}: term ${n.hardState.term} vote ${n.hardState.votedFor} entries ${n.snapshotIndex + 1}..${n.snapshotIndex + n.entries.length}`,
    )
    n.core = new RaftCore({
      electionTicks: 10,
      heartbeatTicks: 2,
      ...this.#opts.core,
      id: n.id,
      recovered: n.recover(),
      ...(n.bootstrap === undefined ? {} : { bootstrap: n.bootstrap }),
      random: this.rng,
    })
    n.up = true
    this.#process(n)
  }

  crash(id: string): void {
    const n = this.node(id)
    n.up = false
    n.writing = undefined
    this.#log(() => `crash ${id}`)
  }

  #log(line: () => string): void {
    if (this.trace === undefined) return
    this.trace.push(`${this.now} ${line()}`)
    if (this.trace.length > 400) this.trace.splice(0, 100)
  }

  restart(id: string): void {
    const n = this.node(id)
    if (!n.up) this.#start(n)
  }

  /** Only nodes in the same group talk; nodes not listed are each cut off alone. */
  partition(...groups: readonly (readonly string[])[]): void {
    this.#groups = new Map()
    let g = 0
    for (const group of groups) {
      g++
      for (const id of group) this.#groups.set(id, g)
    }
    for (const id of this.nodes.keys()) if (!this.#groups.has(id)) this.#groups.set(id, ++g)
  }

  isolate(id: string): void {
    this.partition([...this.nodes.keys()].filter((n) => n !== id))
  }

  heal(): void {
    this.#groups = new Map()
  }

  #connected(a: string, b: string): boolean {
    return (this.#groups.get(a) ?? 0) === (this.#groups.get(b) ?? 0)
  }

  /** Hands a message to a node now, as if it arrived (for tests that script a message). */
  inject(m: Message): void {
    const n = this.node(m.to)
    if (!n.up) return
    n.core.step(m)
    this.#process(n)
  }

  #send(m: Message): void {
    if (this.rng() < this.dropRate) return
    const copies = this.rng() < this.duplicateRate ? 2 : 1
    for (let i = 0; i < copies; i++) {
      const [min, max] = this.delay
      const at = this.now + min + Math.floor(this.rng() * (max - min + 1))
      this.#queue.push({ at, seq: this.#seq++, m })
    }
  }

  /** One global tick: deliver what is due, then tick every live node. */
  tick(count = 1): void {
    for (let i = 0; i < count; i++) {
      this.now++
      const due = this.#queue
        .filter((f) => f.at <= this.now)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)
      this.#queue = this.#queue.filter((f) => f.at > this.now)
      for (const { m } of due) this.#deliver(m)
      for (const n of this.nodes.values()) {
        if (n.writing !== undefined && n.writing.at <= this.now) this.#persisted(n, n.writing.rd)
        if (!n.up) continue
        n.core.tick()
        this.#process(n)
      }
    }
  }

  #deliver(m: Message): void {
    const to = this.nodes.get(m.to)
    if (to === undefined || !to.up || !this.#connected(m.from, m.to)) return
    const verdict = this.filter?.(m) ?? true
    if (verdict === false) return
    const delivered = verdict === true ? m : verdict
    this.delivered.set(m.type, (this.delivered.get(m.type) ?? 0) + 1)
    this.#log(() => `deliver ${summary(delivered)}`)
    // A real network copies: the receiver must not share objects with the sender.
    to.core.step(structuredClone(delivered))
    this.#process(to)
  }

  /** Messages sent and not yet delivered (or dropped) that match `pred`. */
  inFlight(pred: (m: Message) => boolean): Message[] {
    return this.#queue.filter((f) => pred(f.m)).map((f) => f.m)
  }

  /** The commands in `id`'s durable log, in order. */
  durableCommands(id: string): string[] {
    return this.node(id)
      .entries.filter((e) => e.kind === 'command')
      .map((e) => text(e.data))
  }

  /**
   * Makes `id` leader through forced elections (an injected TimeoutNow, as a leadership
   * transfer would send), retrying while it loses to votes already cast in its term.
   */
  forceElection(id: string, attempts = 5): void {
    for (let i = 0; i < attempts; i++) {
      const core = this.core(id)
      this.inject({ type: 'timeout-now', from: id, to: id, term: core.term })
      for (let t = 0; t < 8 && this.core(id).role !== 'leader'; t++) this.tick()
      if (this.core(id).role === 'leader') return
    }
    throw new Error(`${id} did not win a forced election\n${this.describe()}`)
  }

  /** Ticks until `pred` holds; throws after `max` ticks. */
  runUntil(pred: () => boolean, max = 500, what = 'condition'): void {
    for (let i = 0; i < max; i++) {
      if (pred()) return
      this.tick()
    }
    if (!pred()) throw new Error(`${what} not reached within ${max} ticks\n${this.describe()}`)
  }

  /** One line per node: what a failure message needs to explain itself. */
  describe(): string {
    const lines = [...this.nodes.values()].map((n) => {
      const k = n.core
      const voters = k.configuration.voters.map((s) => s.id).join('')
      const learners = k.configuration.learners.map((s) => s.id).join('')
      return `${n.id}${n.up ? '' : ' (down)'}: ${k.role} term ${k.term} leader ${k.leaderId ?? '-'} commit ${k.commitIndex} last ${k.lastIndex} applied ${n.smIndex} snapshot ${n.snapshotIndex} voters ${voters} learners ${learners}`
    })
    const trace = this.trace === undefined ? [] : ['trace:', ...this.trace.slice(-150)]
    return [`tick ${this.now}, ${this.#queue.length} messages in flight`, ...lines, ...trace].join(
      '\n',
    )
  }

  /** The live leader with the highest term, if any. */
  leader(): string | undefined {
    let best: SimNode | undefined
    for (const n of this.nodes.values()) {
      if (
        n.up &&
        n.core.role === 'leader' &&
        (best === undefined || n.core.term > best.core.term)
      ) {
        best = n
      }
    }
    return best?.id
  }

  /** Ticks until a leader is known to every live node that can reach it. */
  waitLeader(max = 300): string {
    this.runUntil(
      () => {
        const l = this.leader()
        return l !== undefined && this.core(l).commitIndex >= this.core(l).lastIndex
      },
      max,
      'a leader with its first entry committed',
    )
    return this.leader()!
  }

  /** Proposes `data` at the current leader. */
  propose(data: string, at = this.leader()) {
    if (at === undefined) throw new Error('no leader')
    const result = this.core(at).propose(bytes(data))
    this.#process(this.node(at))
    return result
  }

  /** Ticks until every live node applied at least `index`. */
  waitApplied(index: number, max = 500, ids = [...this.nodes.keys()]): void {
    this.runUntil(
      () => ids.every((id) => !this.node(id).up || this.node(id).smIndex >= index),
      max,
      `every node applying ${index}`,
    )
  }

  /**
   * Takes readies until the node has nothing left (or one is being persisted), then checks
   * safety.
   */
  #process(n: SimNode): void {
    while (n.up && n.writing === undefined && n.core.hasReady()) {
      const rd = n.core.ready()
      for (const m of rd.eagerMessages) this.#send(m)
      const [min, max] = this.persistDelay
      const delay = min + Math.floor(this.rng() * (max - min + 1))
      if (delay === 0) this.#persisted(n, rd)
      else n.writing = { rd, at: this.now + delay }
    }
    if (n.up && n.core.role === 'leader') {
      const views = [...this.nodes.values()]
      this.checker.leader(n, n.core.term, n.core.commitIndex, n.core.configuration, views)
    }
  }

  /** The Ready is durable: send the rest, apply, advance. */
  #persisted(n: SimNode, rd: Ready): void {
    n.writing = undefined
    this.#log(
      () =>
        `${n.id} ready: ${rd.softState === undefined ? '' : `${rd.softState.role}@${rd.softState.term} `}entries ${rd.entries.map((e) => `${e.index}/${e.term}${KIND[e.kind]}`).join(',')} hs ${rd.hardState?.term ?? '-'}/${rd.hardState?.votedFor ?? '-'} snap ${rd.snapshot?.meta.index ?? '-'} commit ${n.core.commitIndex} apply ${rd.committedEntries.at(-1)?.index ?? '-'}`,
    )
    if (rd.snapshot !== undefined) n.saveSnapshot(rd.snapshot, true)
    if (rd.entries.length > 0) n.append(rd.entries)
    if (rd.hardState !== undefined) n.setHardState(rd.hardState)
    for (const m of rd.messages) this.#send(m)
    n.apply(rd.committedEntries)
    for (const e of rd.committedEntries) {
      if (!this.committed.has(e.index)) {
        this.committed.set(e.index, e.kind === 'command' ? text(e.data) : e.kind)
      }
    }
    n.readStates.push(...rd.readStates)
    n.core.advance(rd)
    const every = this.#opts.snapshotEvery
    if (every !== undefined && n.smIndex - n.snapshotIndex >= every) {
      n.compact(this.#opts.snapshotPadding ?? 0)
    }
  }

  /** Heals everything, restarts crashed nodes, and waits until all apply a fresh command. */
  converge(max = 1000): void {
    this.heal()
    this.dropRate = 0
    this.duplicateRate = 0
    this.filter = undefined
    this.persistDelay = [0, 0]
    for (const id of this.nodes.keys()) this.restart(id)
    let index: number | undefined
    let proposer = ''
    this.runUntil(
      () => {
        const l = this.leader()
        // Propose again under each new leader: an earlier attempt may have been overwritten.
        if (l !== undefined && proposer !== `${l}@${this.core(l).term}`) {
          const r = this.core(l).propose(bytes('converge'))
          this.#process(this.node(l))
          if (r.ok) {
            index = r.index
            proposer = `${l}@${r.term}`
          }
        }
        const target = index
        if (
          l === undefined ||
          target === undefined ||
          this.checker.appliedHash(target) === undefined
        ) {
          return false
        }
        // Servers the leader has removed may never hear of it: they are not waited for.
        const c = this.core(l).configuration
        const members = [...c.voters, ...c.learners].map((m) => this.node(m.id))
        return members.every((n) => n.smIndex >= target)
      },
      max,
      'convergence',
    )
  }
}

function summary(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type}@${m.term}`
  switch (m.type) {
    case 'append-entries':
      return `${head} prev ${m.prevIndex}/${m.prevTerm} n ${m.entries.length} commit ${m.commit}`
    case 'append-response':
      return m.success
        ? `${head} ok ${m.matchIndex}`
        : `${head} reject ${m.rejectedIndex} hint ${m.hintIndex}/${m.hintTerm}`
    case 'pre-vote':
    case 'request-vote':
      return `${head} last ${m.lastIndex}/${m.lastTerm}`
    case 'pre-vote-response':
    case 'request-vote-response':
      return `${head} ${m.granted}`
    case 'heartbeat':
      return `${head} commit ${m.commit}`
    case 'install-snapshot':
      return `${head} ${m.meta.index}/${m.meta.term} off ${m.offset} done ${m.done}`
    case 'install-snapshot-response':
      return m.done ? `${head} installed ${m.matchIndex}` : `${head} next ${m.nextOffset}`
    default:
      return head
  }
}
