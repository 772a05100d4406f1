/**
 * @rony/gossip at scale, simulated: N nodes on a memory network (1–5 ms per packet) under a
 * virtual clock, in one process. Seeds n0–n2 start first, the others join through them in a
 * rollout (batches, or a steady rate); then, each phase bounded in simulated and real time:
 * convergence after the last start, memory per observer–member pair, an idle window (bytes
 * and CPU per node per simulated second), one more join, a user broadcast and a meta update
 * reaching everyone, crashes detected by every survivor, and optionally a window of packet
 * loss counting false failures.
 *
 * Every membership event lands in counters (per observer: how many members it sees alive;
 * per phase: how many observers have seen the thing), never in an N × N table, so checking
 * a phase costs O(1) per event and the harness stays cheap next to the nodes it drives.
 */

import { fork } from 'node:child_process'
import { totalmem } from 'node:os'
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks'
import type { GossipMembership } from '@rony/gossip'
import {
  type MemoryNetwork,
  memoryNetwork,
  seededRandom,
  type VirtualClock,
  virtualClock,
} from '@rony/transport'
import { type ApartCost, type NodeHandle, NodesApart } from './apart.ts'
import { type ScaleEvents, scaleNode } from './scale-node.ts'

type StreamTransport = ReturnType<MemoryNetwork['stream']>
type MessageStream = Awaited<ReturnType<StreamTransport['dial']>>

export interface ScaleInit {
  n: number
  /** Rollout: `batches` equal groups started `rolloutMs / batches` apart… */
  batches?: number
  rolloutMs?: number
  /** …or a steady rate of joins per simulated second (overrides `batches`). */
  joinsPerSecond?: number
  /** Stop after convergence (the join storm needs nothing else). Default false. */
  convergeOnly?: boolean
  /**
   * Shortest simulated idle window for bytes and CPU. Default 10 s. The window goes on until
   * every node took part in a push-pull (each node starts one per period, 30 s × a log₂ scale,
   * 180–300 s at N ≥ 1,000), so that the exchanges count at their steady rate.
   */
  idleMs?: number
  /** Nodes crashed at once (never a seed). Default 5. */
  crashes?: number
  /** A window of this packet loss after the crashes, counting false failures. Default none. */
  loss?: number
  lossMs?: number
  /**
   * Nodes that run in a process of their own (`apart.ts`), members of the cluster like any
   * other: their own heap and CPU count, as a deployed node has. As many run apart in a
   * reference cluster of {@link APART_REFERENCE_N} beside this one, measured in the same idle
   * window. Never a seed or a node a phase uses. Default 0.
   */
  apart?: number
  /** Real-time budget of the whole run, ms; phases not reached in it are reported as such. */
  budgetMs?: number
  seed?: number
  /** Progress lines (phase by phase). */
  log?: (line: string) => void
}

/** A phase's outcome: the simulated ms it took, or why not. */
export interface Timed {
  ms?: number | undefined
  /** "not reached within 60 s simulated / 120 s real", or "skipped: …". */
  missed?: string | undefined
  /** Real ms the phase took. */
  wallMs: number
}

export interface Detection {
  victim: string
  /** Simulated ms from the crash until the first / last survivor had it failed. */
  firstMs?: number | undefined
  lastMs?: number | undefined
  /** Survivors that had it failed by the end of the phase. */
  detectedBy: number
}

/** What nodes in a process of their own cost in the idle window, here and in the reference. */
export interface ApartIdle {
  /** Nodes apart in each cluster. */
  nodes: number
  /** Those of this cluster (N). */
  cost: ApartCost
  /** Those of the reference cluster ({@link APART_REFERENCE_N}) beside it, same window. */
  reference: ApartCost
}

export interface ScaleResult {
  n: number
  rollout: string
  /** Real ms of the rollout (every node started), and process CPU per simulated second in it. */
  rolloutWallMs?: number | undefined
  rolloutCpuPerSimS?: number | undefined
  /** From the last start until every node sees every node alive. */
  converged: Timed
  /** The observer–member pair seen last (the one that completed convergence), or the furthest observer. */
  worstPair?: string | undefined
  /** From convergence until every broadcast queue is empty; else the mean left per node. */
  drained?: Timed | undefined
  queuedAfterDrain?: number | undefined
  /** Heap after full GC, converged cluster minus before any node, per observer–member pair. */
  bytesPerPair?: number | undefined
  heapMiB?: number | undefined
  /** Idle window: per node per simulated second. */
  idleBytesPerSec?: number | undefined
  idleStreamBytesPerSec?: number | undefined
  idlePacketsPerSec?: number | undefined
  /** This process's CPU, net of the harness's event-loop turns (measured apart, below). */
  idleCpuUsPerSec?: number | undefined
  /** The event-loop turns alone (an empty clock over the same window), per node. */
  idleHarnessUsPerSec?: number | undefined
  /** The nodes apart ({@link ScaleInit.apart}) in the idle window, per node per simulated s. */
  apart?: ApartIdle | undefined
  idle?: Timed | undefined
  /** One more node's start until every node sees it. */
  oneMoreJoin?: Timed | undefined
  /** A user broadcast from one node until every other node delivered it. */
  broadcast?: Timed | undefined
  /** A meta update of one node until every other node has the new meta. */
  metaUpdate?: Timed | undefined
  detections: Detection[]
  detection?: Timed | undefined
  /** `failed` declarations of a member not crashed (whole run, loss window included). */
  falseFailures: number
  falseExamples: string[]
  /** The loss window: its false failures, and suspicions raised in it. */
  lossFalseFailures?: number | undefined
  lossSuspicions?: number | undefined
  loss?: Timed | undefined
  /** Garbage collection over the whole run: pauses in all and the major (mark-compact) ones, ms and counts. */
  gcMs?: number | undefined
  gcMajorMs?: number | undefined
  gcCount?: number | undefined
  gcMajors?: number | undefined
  /** The process's peak resident set, MiB. */
  maxRssMiB?: number | undefined
  /** What stopped the run early (a rollout that ran out of real time). */
  error?: string | undefined
  /** Real ms of the simulation (from before the first node until the last one stopped). */
  wallMs: number
  /** Real ms of the whole worker process, fork to exit (set by {@link simulateScaleInProcess}). */
  processWallMs?: number | undefined
}

const SEEDS = 3
const CONVERGE_MAX_MS = 60_000
const JOIN_MAX_MS = 30_000
const SPREAD_MAX_MS = 30_000
const DETECT_MAX_MS = 120_000
/** After convergence, until every node's broadcast queue is empty (the rollout's news sent). */
const DRAIN_MAX_MS = 120_000
/** Longest idle window (simulated): a push-pull period is at most 300 s up to N = 16,384. */
const IDLE_MAX_MS = 600_000
/** Simulated time between two looks at the broadcast queues. */
const DRAIN_STEP_MS = 100
/** Simulated slice between checks of a phase's condition and of the real-time bound. */
const STEP_MS = 10
/**
 * Simulated time fired synchronously between two turns of the event loop. The clock's own
 * `advanceAsync` turns the loop after every timer (4.4 µs of CPU each against 0.3 µs for the
 * timer, measured here: half of a node's idle CPU at N = 100 was the harness); a turn per
 * simulated millisecond lets promise continuations (streams, `start()`) run at most 1 ms
 * late, against 1–5 ms per packet.
 */
const QUANTUM_MS = 1

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Advances `clock` by `ms`, a quantum at a time, turning the event loop (and calling `sync`)
 * after each one; stops early once `deadline` (real, `performance.now()`) has passed.
 */
export async function advance(
  clock: VirtualClock,
  ms: number,
  deadline = Infinity,
  sync?: () => Promise<void>,
): Promise<void> {
  await turn()
  const end = clock.now() + ms
  while (clock.now() < end && performance.now() < deadline) {
    clock.advance(Math.min(QUANTUM_MS, end - clock.now()))
    await turn()
    await sync?.()
  }
}

/**
 * What every node has seen, kept as counters: per observer the members it sees alive, and
 * whether it has seen the current phase's subject (a new member, a broadcast, a meta value).
 * Observers are indexes (`n17` is 17): an event costs a few array reads, no lookup by name.
 */
class Tracker {
  readonly ids: readonly string[]
  /** Members each observer sees alive (joins minus leaves). */
  readonly alive: Int32Array
  /** 1 for observers started and not crashed, and how many. */
  readonly live: Uint8Array
  liveCount = 0
  /** Live observers whose `alive` equals `target` (live − 1). */
  complete = 0
  lastPair: string | undefined
  /** The current phase's subject: which observers saw it, and how many. */
  readonly seen: Uint8Array
  seenCount = 0
  watchJoin: string | undefined
  watchMessage: number | undefined
  watchMeta: { id: string; value: string } | undefined
  /** Crash time by crashed member id. */
  readonly crashedAt = new Map<string, number>()
  readonly detections = new Map<string, { first?: number; last?: number; by: number }>()
  falseFailures = 0
  readonly falseExamples: string[] = []

  readonly now: () => number

  constructor(ids: readonly string[], now: () => number) {
    this.ids = ids
    this.now = now
    this.alive = new Int32Array(ids.length)
    this.live = new Uint8Array(ids.length)
    this.seen = new Uint8Array(ids.length)
  }

  get target(): number {
    return this.liveCount - 1
  }

  get converged(): boolean {
    return this.complete === this.liveCount
  }

  /** Observer `o` started (recount before checking convergence). */
  start(o: number): void {
    if (this.live[o] === 1) return
    this.live[o] = 1
    this.liveCount++
  }

  /** Observer `o` crashed. */
  crash(o: number): void {
    if (this.live[o] === 0) return
    this.live[o] = 0
    this.liveCount--
    this.recount()
  }

  #set(o: number, value: number): void {
    const t = this.target
    const live = this.live[o] === 1
    if (live && this.alive[o] === t) this.complete--
    this.alive[o] = value
    if (live && value === t) this.complete++
  }

  /** Recounts `complete` after the live set changed (O(N), once per start batch or crash). */
  recount(): void {
    const t = this.target
    let c = 0
    for (let o = 0; o < this.alive.length; o++) if (this.live[o] === 1 && this.alive[o] === t) c++
    this.complete = c
  }

  join(o: number, member: string): void {
    const before = this.complete
    this.#set(o, this.alive[o]! + 1)
    if (this.complete === this.liveCount && before !== this.complete) {
      this.lastPair = `${this.ids[o]} saw ${member}`
    }
    if (member === this.watchJoin) this.#saw(o)
  }

  leave(o: number, member: string, failed: boolean): void {
    this.#set(o, this.alive[o]! - 1)
    if (!failed) return
    const at = this.crashedAt.get(member)
    if (at === undefined) {
      this.falseFailures++
      if (this.falseExamples.length < 5) this.falseExamples.push(`${this.ids[o]} failed ${member}`)
      return
    }
    const d = this.detections.get(member)!
    const ms = this.now() - at
    d.first ??= ms
    d.last = ms
    d.by++
  }

  message(o: number, tag: number): void {
    if (tag === this.watchMessage) this.#saw(o)
  }

  update(o: number, member: string, meta: Readonly<Record<string, string>>): void {
    const w = this.watchMeta
    if (w !== undefined && member === w.id && meta.v === w.value) this.#saw(o)
  }

  #saw(o: number): void {
    if (this.seen[o] === 1 || this.live[o] === 0) return
    this.seen[o] = 1
    this.seenCount++
  }

  /** Starts watching a new subject; `self` (its origin) counts as having seen it. */
  watch(self: number | undefined): void {
    this.seen.fill(0)
    this.seenCount = 0
    if (self !== undefined) this.#saw(self)
  }

  /** Whether every live observer has seen the current subject. */
  get allSaw(): boolean {
    return this.seenCount === this.liveCount
  }

  /** Observer–member pairs not yet seen alive: what convergence still waits for. */
  missingPairs(): number {
    const t = this.target
    let missing = 0
    for (let o = 0; o < this.alive.length; o++)
      if (this.live[o] === 1) missing += t - this.alive[o]!
    return missing
  }

  /** The observer that sees the fewest members, for a report when convergence is missed. */
  furthest(): string {
    let worst = -1
    let count = Number.POSITIVE_INFINITY
    for (let o = 0; o < this.alive.length; o++) {
      if (this.live[o] === 1 && this.alive[o]! < count) {
        count = this.alive[o]!
        worst = o
      }
    }
    return `${this.ids[worst]} sees ${count} of ${this.target}`
  }
}

/** A stream transport that counts the bytes sent on every stream it dials or accepts. */
function countingStreams(inner: StreamTransport, bytes: { sent: number }): StreamTransport {
  const tap = (s: MessageStream): MessageStream => {
    const send = s.send.bind(s)
    s.send = (msg) => {
      bytes.sent += msg.byteLength
      return send(msg)
    }
    return s
  }
  return {
    get address() {
      return inner.address
    },
    get maxMessageSize() {
      return inner.maxMessageSize
    },
    start: () => inner.start(),
    stop: () => inner.stop(),
    onStream: (handler) => inner.onStream((s) => handler(tap(s))),
    dial: async (to, opts) => tap(await inner.dial(to, opts)),
  }
}

const gc = (globalThis as { gc?: () => void }).gc

function heapAfterGc(): number | undefined {
  if (gc === undefined) return undefined
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const cpuUs = (): number => {
  const u = process.cpuUsage()
  return u.user + u.system
}

/** Sums garbage-collection pauses from now until the returned function is called. */
function gcPauses(): () => { ms: number; majorMs: number; count: number; majors: number } {
  const sum = { ms: 0, majorMs: 0, count: 0, majors: 0 }
  const add = (entries: PerformanceEntry[]): void => {
    for (const e of entries) {
      sum.ms += e.duration
      sum.count++
      const kind = (e as { detail?: { kind?: number } }).detail?.kind
      if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue
      sum.majorMs += e.duration
      sum.majors++
    }
  }
  const observer = new PerformanceObserver((list) => add(list.getEntries()))
  observer.observe({ entryTypes: ['gc'] })
  return () => {
    add(observer.takeRecords())
    observer.disconnect()
    return sum
  }
}

export async function simulateScale(init: ScaleInit): Promise<ScaleResult> {
  const wall0 = performance.now()
  const gcDone = gcPauses()
  const n = init.n
  const seed = init.seed ?? 1
  const budgetMs = init.budgetMs ?? 600_000
  const deadline = wall0 + budgetMs
  const log = init.log ?? (() => {})
  const heap0 = heapAfterGc()
  const clock = virtualClock({ now: 1_700_000_000_000 })
  const net = memoryNetwork({
    clock,
    random: seededRandom(seed),
    faults: { delay: { min: 1, max: 5 } },
  })
  const ids = Array.from({ length: n + 1 }, (_, i) => `n${i}`)
  const tracker = new Tracker(ids, () => clock.now())
  /** Every running node, here or apart: what the phases read and stop. */
  const nodes = new Map<string, NodeHandle>()
  /** The nodes on this thread: those a phase drives (broadcast, meta, crash). */
  const here = new Map<string, GossipMembership>()
  const streamBytes = { sent: 0 }
  const seedAddrs = ids.slice(0, SEEDS).map((id) => `memory:${id}`)
  const crashes = init.crashes ?? 5
  const apartCount = init.apart ?? 0
  const now = (): number => clock.now()
  const main: Cluster = {
    ids,
    seeds: seedAddrs,
    apartIds: placeApart(n, apartCount, SEEDS + 2 + crashes),
    apart: apartCount > 0 ? new NodesApart(seed, now, tracker) : undefined,
    events: tracker,
    streamBytes,
  }
  // Beside it, on the same network and clock, a cluster of APART_REFERENCE_N with as many
  // nodes apart, measured in the same idle window: the reference at the same moment on the
  // same machine, so that the ratio does not move with the machine's load.
  const refIds = Array.from({ length: APART_REFERENCE_N }, (_, i) => `r${i}`)
  const reference: Cluster | undefined =
    apartCount === 0
      ? undefined
      : {
          ids: refIds,
          seeds: refIds.slice(0, SEEDS).map((id) => `memory:${id}`),
          apartIds: placeApart(APART_REFERENCE_N, apartCount, SEEDS),
          apart: new NodesApart(seed, now, UNTRACKED),
          events: UNTRACKED,
          streamBytes: { sent: 0 },
        }
  const referenceNodes: NodeHandle[] = []
  const apartSides = [main.apart, reference?.apart].filter((a) => a !== undefined)
  const sync =
    apartSides.length === 0
      ? undefined
      : async () => {
          for (const side of apartSides) await side.sync()
        }
  const nHere = n - main.apartIds.size
  /** Starts node `o` of `c`: here, or apart. */
  const startNode = async (c: Cluster, o: number): Promise<NodeHandle> => {
    const id = c.ids[o]!
    const seeds = c.seeds.filter((a) => a !== `memory:${id}`)
    const endpoints = {
      packet: net.packet(`memory:${id}`),
      stream: countingStreams(net.stream(`memory:${id}`), c.streamBytes),
    }
    if (c.apart !== undefined && c.apartIds.has(o)) return c.apart.start(o, id, seeds, endpoints)
    const g = scaleNode({ o, id, seeds, transport: endpoints, clock, seed, events: c.events })
    if (c === main) here.set(id, g)
    await g.start()
    return g
  }
  const spawn = async (o: number): Promise<void> => {
    tracker.start(o)
    nodes.set(ids[o]!, await startNode(main, o))
  }
  /** Advances in slices until `check` holds, within `simMax` simulated and the real budget. */
  const runUntil = async (
    check: () => boolean,
    simMax: number,
    realMax = budgetMs,
    step = STEP_MS,
  ): Promise<Timed> => {
    const w = performance.now()
    const until = Math.min(deadline, w + realMax)
    const start = clock.now()
    while (!check()) {
      if (clock.now() - start >= simMax) {
        return {
          missed: `not reached within ${simMax / 1000} s simulated`,
          wallMs: performance.now() - w,
        }
      }
      if (performance.now() >= until) {
        const sim = ((clock.now() - start) / 1000).toFixed(1)
        const real = ((performance.now() - w) / 1000).toFixed(0)
        return {
          missed: `not reached within ${real} s real (${sim} s simulated)`,
          wallMs: performance.now() - w,
        }
      }
      await advance(clock, step, until, sync)
    }
    return { ms: clock.now() - start, wallMs: performance.now() - w }
  }
  /** Runs a simulated window of `ms`; `missed` when the real budget ran out first. */
  const runFor = async (ms: number, realMax = budgetMs): Promise<Timed> => {
    const t = await runUntil(() => false, ms, realMax)
    return t.missed?.includes('real') ? t : { ms, wallMs: t.wallMs }
  }
  const outOfTime = (): boolean => performance.now() >= deadline
  const skipped: Timed = { missed: 'skipped: out of real time', wallMs: 0 }

  const rolloutText =
    init.joinsPerSecond !== undefined
      ? `${init.joinsPerSecond} joins/s`
      : `${init.batches ?? 20} batches over ${(init.rolloutMs ?? 20_000) / 1000} s`
  const result: ScaleResult = {
    n,
    rollout: rolloutText,
    converged: skipped,
    detections: [],
    falseFailures: 0,
    falseExamples: [],
    wallMs: 0,
  }
  try {
    // Rollout: the seeds at t = 0, then the rest on schedule (one start time per node).
    const rest = Array.from({ length: n - SEEDS }, (_, i) => SEEDS + i)
    const rate = init.joinsPerSecond
    const batches = init.batches ?? 20
    const every = (init.rolloutMs ?? 20_000) / batches
    const startAt = rest.map((_, i) =>
      rate !== undefined
        ? Math.round(((i + 1) * 1000) / rate)
        : Math.floor((i * batches) / rest.length + 1) * every,
    )
    const rollout0 = { wall: performance.now(), cpu: cpuUs(), sim: clock.now() }
    await Promise.all([0, 1, 2].slice(0, SEEDS).map(spawn))
    tracker.recount()
    if (reference !== undefined) {
      const all = refIds.map((_, o) => o)
      for (const group of [all.slice(0, SEEDS), all.slice(SEEDS)]) {
        referenceNodes.push(...(await Promise.all(group.map((o) => startNode(reference, o)))))
      }
    }
    let next = 0
    while (next < rest.length) {
      if (outOfTime())
        throw new Error(`rollout: ${next} of ${rest.length} started within the real budget`)
      const due = startAt[next]!
      await advance(clock, Math.max(0, rollout0.sim + due - clock.now()), deadline, sync)
      const batch: Promise<void>[] = []
      while (next < rest.length && startAt[next] === due) batch.push(spawn(rest[next++]!))
      await Promise.all(batch)
      tracker.recount()
    }
    result.rolloutWallMs = performance.now() - rollout0.wall
    log(`N=${n}: rollout done (${(result.rolloutWallMs / 1000).toFixed(0)} s real)`)

    // Progress: the pairs still missing once per simulated second (an O(N) count).
    let nextLook = clock.now()
    result.converged = await runUntil(
      () => {
        if (tracker.converged) return true
        if (clock.now() >= nextLook) {
          const t = ((clock.now() - rollout0.sim - (startAt.at(-1) ?? 0)) / 1000).toFixed(0)
          log(`N=${n}: ${tracker.missingPairs()} pairs missing ${t} s after the last start`)
          nextLook += 1_000
        }
        return false
      },
      CONVERGE_MAX_MS,
      0.35 * budgetMs,
    )
    result.rolloutCpuPerSimS =
      (cpuUs() - rollout0.cpu) / 1e6 / ((clock.now() - rollout0.sim) / 1000)
    result.worstPair = tracker.converged ? tracker.lastPair : tracker.furthest()
    log(`N=${n}: convergence ${describe(result.converged)}`)
    if (init.convergeOnly || outOfTime()) return result

    // The rollout's news still queued for retransmission is not idle traffic: wait it out.
    // A look resumes at the node whose queue was not empty at the last one, so the looks cost
    // O(N) in all, not per look; a full pass confirms the end (a queue may have refilled).
    const queues = [...nodes.values()]
    let firstBusy = 0
    const drained = (): boolean => {
      while (firstBusy < queues.length && queues[firstBusy]!.stats().queued === 0) firstBusy++
      if (firstBusy < queues.length) return false
      firstBusy = queues.findIndex((g) => g.stats().queued > 0)
      if (firstBusy >= 0) return false
      firstBusy = queues.length
      return true
    }
    result.drained = await runUntil(drained, DRAIN_MAX_MS, 0.15 * budgetMs, DRAIN_STEP_MS)
    if (result.drained.missed !== undefined) {
      let left = 0
      for (const g of queues) left += g.stats().queued
      result.queuedAfterDrain = left / n
    }
    log(`N=${n}: queues drained ${describe(result.drained)}`)
    const heap1 = heapAfterGc()
    if (heap0 !== undefined && heap1 !== undefined) {
      result.heapMiB = (heap1 - heap0) / 1024 / 1024
      result.bytesPerPair = (heap1 - heap0) / (n * n)
    }

    // Idle: bytes, packets and this process's CPU over a simulated window, per node.
    const idleMs = init.idleMs ?? 10_000
    const sum = (): { bytes: number; packets: number } => {
      let bytes = 0
      let packets = 0
      for (const g of nodes.values()) {
        const s = g.stats()
        bytes += s.bytesSent
        packets += s.packetsSent
      }
      return { bytes, packets }
    }
    const idle0 = { ...sum(), stream: streamBytes.sent, cpu: cpuUs(), sim: clock.now() }
    const apart0 = main.apart?.mark()
    const reference0 = reference?.apart?.mark()
    // Each node's push-pull count at the start; a look resumes where the last one stopped.
    const exchanges0 = queues.map((g) => g.stats().pushPulls)
    let firstWithout = 0
    const everyNodeExchanged = (): boolean => {
      if (clock.now() - idle0.sim < idleMs) return false
      while (
        firstWithout < queues.length &&
        queues[firstWithout]!.stats().pushPulls > exchanges0[firstWithout]!
      ) {
        firstWithout++
      }
      return firstWithout === queues.length
    }
    result.idle = await runUntil(everyNodeExchanged, IDLE_MAX_MS, 0.3 * budgetMs, DRAIN_STEP_MS)
    const simS = (clock.now() - idle0.sim) / 1000
    const idle1 = sum()
    result.idleBytesPerSec = (idle1.bytes - idle0.bytes) / (n * simS)
    result.idlePacketsPerSec = (idle1.packets - idle0.packets) / (n * simS)
    result.idleStreamBytesPerSec = (streamBytes.sent - idle0.stream) / (n * simS)
    const gross = cpuUs() - idle0.cpu
    // The loop turns cost the same with no node at all: measured on an empty clock, taken out.
    const floor0 = cpuUs()
    await advance(virtualClock(), clock.now() - idle0.sim)
    const floor = cpuUs() - floor0
    result.idleCpuUsPerSec = (gross - floor) / (nHere * simS)
    result.idleHarnessUsPerSec = floor / (nHere * simS)
    log(`N=${n}: idle ${result.idleCpuUsPerSec.toFixed(0)} µs CPU per node per sim s`)
    if (apart0 !== undefined && reference0 !== undefined) {
      result.apart = {
        nodes: apartCount,
        cost: await main.apart!.costSince(apart0, simS),
        reference: await reference!.apart!.costSince(reference0, simS),
      }
      const { cost, reference: ref } = result.apart
      log(
        `N=${n}: idle apart ${cost.cpuUsPerSec.toFixed(0)} µs CPU per node per sim s, ${ref.cpuUsPerSec.toFixed(0)} µs in the reference beside it (harness ${cost.harnessUsPerSec.toFixed(0)} / ${ref.harnessUsPerSec.toFixed(0)})`,
      )
    }

    // One more join.
    if (outOfTime()) return result
    tracker.watchJoin = ids[n]!
    tracker.watch(undefined)
    await spawn(n)
    tracker.recount()
    tracker.watch(n)
    result.oneMoreJoin = await runUntil(() => tracker.allSaw, JOIN_MAX_MS, 0.1 * budgetMs)
    tracker.watchJoin = undefined
    log(`N=${n}: one more join ${describe(result.oneMoreJoin)}`)

    // A user broadcast, then a meta update, each until every live node has it.
    if (outOfTime()) return result
    tracker.watchMessage = 0xb5
    tracker.watch(SEEDS)
    here.get(ids[SEEDS]!)!.broadcast(new Uint8Array([0xb5, 1, 2, 3]))
    result.broadcast = await runUntil(() => tracker.allSaw, SPREAD_MAX_MS, 0.1 * budgetMs)
    tracker.watchMessage = undefined
    if (outOfTime()) return result
    const updated = ids[SEEDS + 1]!
    tracker.watchMeta = { id: updated, value: 'two' }
    tracker.watch(SEEDS + 1)
    await here.get(updated)!.updateMeta({ v: 'two' })
    result.metaUpdate = await runUntil(() => tracker.allSaw, SPREAD_MAX_MS, 0.1 * budgetMs)
    tracker.watchMeta = undefined
    log(`N=${n}: broadcast ${describe(result.broadcast)}, meta ${describe(result.metaUpdate)}`)

    // Crashes, all at once; never a seed or a node the phases above used.
    if (outOfTime()) return result
    const victims = ids.slice(SEEDS + 2, SEEDS + 2 + crashes)
    for (const [k, v] of victims.entries()) {
      tracker.crashedAt.set(v, clock.now())
      tracker.detections.set(v, { by: 0 })
      net.crash(`memory:${v}`)
      await nodes.get(v)?.stop()
      nodes.delete(v)
      here.delete(v)
      tracker.crash(SEEDS + 2 + k)
    }
    const survivors = () => tracker.liveCount
    result.detection = await runUntil(
      () => [...tracker.detections.values()].every((d) => d.by >= survivors()),
      DETECT_MAX_MS,
      0.3 * budgetMs,
    )
    result.detections = victims.map((victim) => {
      const d = tracker.detections.get(victim)!
      return {
        victim,
        firstMs: d.first,
        lastMs: d.by >= survivors() ? d.last : undefined,
        detectedBy: d.by,
      }
    })
    log(`N=${n}: detection ${describe(result.detection)}`)

    // Packet loss: a window in which no live member may be declared failed.
    if (init.loss !== undefined && !outOfTime()) {
      const before = tracker.falseFailures
      let suspicions = 0
      for (const g of nodes.values()) suspicions -= g.stats().probesFailed
      net.configure({ delay: { min: 1, max: 5 }, loss: init.loss })
      result.loss = await runFor(init.lossMs ?? 60_000)
      net.configure({ delay: { min: 1, max: 5 } })
      for (const g of nodes.values()) suspicions += g.stats().probesFailed
      result.lossFalseFailures = tracker.falseFailures - before
      result.lossSuspicions = suspicions
      log(`N=${n}: ${init.loss * 100}% loss: ${result.lossFalseFailures} false failures`)
    }
    return result
  } catch (error) {
    result.error = (error as Error).message
    return result
  } finally {
    result.falseFailures = tracker.falseFailures
    result.falseExamples = tracker.falseExamples
    for (const g of nodes.values()) await g.stop()
    for (const g of referenceNodes) await g.stop()
    for (const side of apartSides) side.close()
    result.wallMs = performance.now() - wall0
    const pauses = gcDone()
    result.gcMs = pauses.ms
    result.gcMajorMs = pauses.majorMs
    result.gcCount = pauses.count
    result.gcMajors = pauses.majors
    result.maxRssMiB = process.resourceUsage().maxRSS / 1024
  }
}

/** The size of the reference cluster run beside a cluster with nodes apart. */
export const APART_REFERENCE_N = 100

/** One cluster of the run: its nodes, its seeds, which run apart, who hears its events. */
interface Cluster {
  ids: readonly string[]
  seeds: readonly string[]
  apartIds: ReadonlySet<number>
  apart: NodesApart | undefined
  events: ScaleEvents
  streamBytes: { sent: number }
}

/** The reference cluster's events: no phase looks at it. */
const UNTRACKED: ScaleEvents = {
  join: () => {},
  leave: () => {},
  update: () => {},
  message: () => {},
}

/**
 * Which nodes run apart: `count` observer indexes spread evenly over those from `first` (the
 * seeds, the broadcast and meta nodes and the crash victims come before it) to the last.
 */
function placeApart(n: number, count: number, first: number): Set<number> {
  const span = n - first
  if (count > span) throw new RangeError(`apart: ${count} nodes, but only ${span} may run apart`)
  return new Set(Array.from({ length: count }, (_, j) => first + Math.floor((j * span) / count)))
}

export function describe(t: Timed | undefined): string {
  if (t === undefined) return '–'
  return t.ms !== undefined ? `${(t.ms / 1000).toFixed(2)} s` : (t.missed ?? '–')
}

const WORKER = new URL('./scale-worker.ts', import.meta.url).pathname
/** Real time a worker gets past its budget (final GC, stopping its nodes) before SIGKILL. */
const GRACE_MS = 60_000

/** The worker's V8 heap: how big the old generation may grow, and the young one. */
export interface WorkerHeap {
  /** `--max-old-space-size`, MiB. Default three quarters of the machine's memory. */
  oldMiB?: number
  /** `--max-semi-space-size`, MiB. Default {@link SEMI_SPACE_MIB}. */
  semiMiB?: number
}

/**
 * The young generation's semi-space, MiB (V8's default is 16 on 64-bit builds). Packets,
 * decoded messages and timers live for a few simulated ms; with 16 MiB a scavenge comes every
 * few thousand packets and promotes those still in flight, which a mark-compact of a heap of
 * gigabytes then has to find dead. Measured at N = 1,000, rollout to convergence, the same
 * trajectory: 16 MiB 1,371 GCs (26 major), 67 s of CPU; 64 MiB 400 GCs (17 major), 56 s.
 */
export const SEMI_SPACE_MIB = 64

/**
 * Runs {@link simulateScale} in a child process with `--expose-gc` and the heap limits of
 * `heap`: the result, or, when the child dies or overstays its budget, a result that says so.
 * The result's `processWallMs` is the child's whole life, fork to exit.
 */
export async function simulateScaleInProcess(
  init: Omit<ScaleInit, 'log'>,
  log: (line: string) => void,
  heap: WorkerHeap = {},
): Promise<ScaleResult> {
  const budgetMs = init.budgetMs ?? 600_000
  const heapMiB = heap.oldMiB ?? Math.floor((totalmem() * 0.75) / 2 ** 20)
  const wall = performance.now()
  const child = fork(WORKER, [], {
    execArgv: [
      '--expose-gc',
      `--max-old-space-size=${heapMiB}`,
      `--max-semi-space-size=${heap.semiMiB ?? SEMI_SPACE_MIB}`,
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let result: ScaleResult | undefined
  child.on(
    'message',
    (m: { type: 'log'; line: string } | { type: 'result'; result: ScaleResult }) => {
      if (m.type === 'log') log(m.line)
      else result = m.result
    },
  )
  const timer = setTimeout(() => child.kill('SIGKILL'), budgetMs + GRACE_MS)
  const exit = await new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`))
    child.send(init)
  })
  clearTimeout(timer)
  const processWallMs = performance.now() - wall
  if (result !== undefined) return { ...result, processWallMs }
  return {
    n: init.n,
    rollout: '–',
    converged: { missed: 'skipped: the run died', wallMs: 0 },
    detections: [],
    falseFailures: 0,
    falseExamples: [],
    error: `worker ended (${exit}) after ${Math.round(processWallMs / 1000)} s without a result (heap limit ${heapMiB} MiB)`,
    wallMs: processWallMs,
    processWallMs,
  }
}
