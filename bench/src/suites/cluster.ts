import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { constructorOf } from '@rony/envelope'
import { Echo } from '@rony/testing'
import type WebSocket from 'ws'
import { EdgeCluster, type EdgeProcess } from '../cluster/edges.ts'
import { startSingleVoterEdge } from '../cluster/in-process.ts'
import {
  C_Count,
  C_ReadCount,
  C_ReplicatedEcho,
  PAYLOAD,
  ReadCount,
  ReplicatedEcho,
  requestBytes,
} from '../cluster/messages.ts'
import { windowPhase, wsChannel } from '../cluster/window-phase.ts'
import {
  type GoalLine,
  goalLines,
  type LoadSuite,
  median,
  openSocket,
  type PhaseLimits,
  type PhaseResult,
  type Round,
  ratioText,
  roundOf,
} from '../load.ts'
import { type Measured, type Phase, RonyCluster } from '../raft/clusters.ts'
import { measureRtt, type Percentiles } from '../raft/floor.ts'
import { processCpuUs } from '../raft/loop.ts'
import { guardSignals, sleep } from '../raft/proc.ts'

/**
 * The clustered edge on real processes: 3 edges on 127.0.0.1 (ws gateway, gossip, Raft over
 * TCP with durable data directories, tunnels), load from this process through the ws
 * gateway, beside `@rony/raft`'s own servers (the raft suite's) in the same run; then a
 * single-voter replicated edge in this process behind the memory gateway. See `description`.
 */

/** Rounds of every phase; `RONY_BENCH_CLUSTER_ROUNDS=1` for a quick look. */
const ROUNDS = Number(process.env.RONY_BENCH_CLUSTER_ROUNDS ?? 3)
const SEED = { serialUs: 132, parallelUs: 8.4 }
const cores = availableParallelism()
const GOAL = {
  leaderP50Us: 1000,
  leaderVsRaft: 1.3,
  followerExtraRtts: 1.5,
  throughputVsRaft: 0.7,
  followerReadsPerSec: 50_000,
}

const SERIAL_WARMUP: PhaseLimits = { count: 300, maxMs: 2_000 }
const SERIAL: PhaseLimits = { count: 2_000, maxMs: 30_000 }
const SERIAL_BLOCKS = 10
const PIPELINED_WARMUP: PhaseLimits = { count: 5_000, maxMs: 500 }
const PIPELINED: PhaseLimits = { count: 20_000, maxMs: 10_000 }

const LOCAL = 'local echo via the leader'
const VIA_LEADER = 'replicated echo via the leader'
const VIA_FOLLOWER = 'replicated echo via a follower'
const RAFT = '@rony/raft propose, in the leader'
const FOLLOWER_READS = 'linearizable read via a follower'
const RAFT_READS = '@rony/raft ReadIndex + read, in the leader'
const SOLO = 'single-voter replicated edge, memory gateway, in this process'

const SERIAL_SHAPE = 'serial'
const inFlight = (n: number): string => `${n} in flight`

/** What a subject sends over ws and the constructor of a good answer. */
interface Request {
  ctor: bigint
  message: Uint8Array
  reply: bigint
}
const REPLICATED: Request = {
  ctor: C_ReplicatedEcho,
  message: ReplicatedEcho.encode({ Payload: PAYLOAD }).finish(),
  reply: C_ReplicatedEcho,
}
const LOCAL_ECHO: Request = {
  ctor: constructorOf('Echo'),
  message: Echo.encode({ Payload: PAYLOAD }).finish(),
  reply: constructorOf('EchoReply'),
}
const READ: Request = {
  ctor: C_ReadCount,
  message: ReadCount.encode({}).finish(),
  reply: C_Count,
}

/** A round's figures, and the CPU time of every process involved (servers and client) per op. */
interface ClusterRound extends Round {
  allCpuUsPerOp: number
}

/** Figures by `${shape}/${subject}`, one per round; notes (elections, failures) alike. */
class Results {
  readonly rounds = new Map<string, ClusterRound[]>()
  readonly notes = new Map<string, Set<string>>()
  /** A Node ↔ Node loopback TCP round trip, measured at the start of each round. */
  readonly tcpRtt: Percentiles[] = []

  add(shape: string, subject: string, round: ClusterRound, note?: string): void {
    const key = `${shape}/${subject}`
    this.rounds.set(key, [...(this.rounds.get(key) ?? []), round])
    if (note) this.notes.set(key, (this.notes.get(key) ?? new Set()).add(note))
  }

  get(shape: string, subject: string): ClusterRound[] {
    return this.rounds.get(`${shape}/${subject}`) ?? []
  }

  note(shape: string, subject: string): string {
    return [...(this.notes.get(`${shape}/${subject}`) ?? [])].join('; ')
  }
}

const FAILED: ClusterRound = {
  allCpuUsPerOp: Number.NaN,
  completed: 0,
  bad: 1,
  capped: false,
  msgPerSec: Number.NaN,
  p50Us: Number.NaN,
  p99Us: Number.NaN,
  cpuUsPerMsg: Number.NaN,
  clientCpuUsPerMsg: Number.NaN,
}

function raftRound(m: Measured, allCpuUs: number): ClusterRound {
  return {
    completed: m.completed,
    bad: m.bad,
    capped: m.capped,
    msgPerSec: m.opsPerSec,
    p50Us: m.p50Us,
    p99Us: m.p99Us,
    cpuUsPerMsg: m.leaderCpuUsPerOp,
    clientCpuUsPerMsg: Number.NaN,
    allCpuUsPerOp: allCpuUs / m.completed,
  }
}

/** A phase with the CPU time its leader and all processes (edges and this client) spent. */
interface CpuPhase extends PhaseResult {
  serverCpuUs: number
  allCpuUs: number
}

function cpuRound(phase: CpuPhase): ClusterRound {
  return { ...roundOf(phase), allCpuUsPerOp: phase.allCpuUs / phase.completed }
}

const clientCpuUs = (): number => {
  const cpu = process.cpuUsage()
  return cpu.user + cpu.system
}

/** Runs `phase`, charging it the CPU time of the leader and of every process involved. */
async function measured(
  edges: EdgeCluster,
  leader: EdgeProcess,
  phase: () => Promise<PhaseResult>,
): Promise<CpuPhase> {
  const [leader0, edges0] = await Promise.all([leader.cpuUs(), edges.cpuUs()])
  const client0 = clientCpuUs()
  const result = await phase()
  const client1 = clientCpuUs()
  const [leader1, edges1] = await Promise.all([leader.cpuUs(), edges.cpuUs()])
  return {
    ...result,
    serverCpuUs: leader1 - leader0,
    allCpuUs: edges1 - edges0 + client1 - client0,
  }
}

/** One subject's socket and what it sends. */
interface WsSubject {
  name: string
  socket: WebSocket
  request: Request
}

const run1 = (s: WsSubject, window: number, limits: PhaseLimits): Promise<PhaseResult> =>
  windowPhase(
    wsChannel(s.socket),
    (id) => requestBytes(s.request.ctor, s.request.message, id),
    window,
    s.request.reply,
    limits,
  )

/** A subject of the serial phase: runs one block of requests, one at a time. */
interface SerialSubject {
  name: string
  block(limits: PhaseLimits): Promise<CpuPhase>
}

const wsSerial = (s: WsSubject, edges: EdgeCluster, leader: EdgeProcess): SerialSubject => ({
  name: s.name,
  block: (limits) => measured(edges, leader, () => run1(s, 1, limits)),
})

/** Raw Raft's serial proposals as a subject: the load runs in its leader, latencies come back. */
function raftSerial(raftServers: RonyCluster): SerialSubject {
  return {
    name: RAFT,
    async block(limits) {
      const cpu0 = raftCpuUs(raftServers)
      const m = await raftServers.load({
        kind: 'propose',
        inFlight: 1,
        count: limits.count,
        maxMs: limits.maxMs,
        warmupMs: 0,
        latencies: true,
      })
      return {
        completed: m.completed,
        bad: m.bad,
        capped: m.capped,
        elapsedMs: m.elapsedMs,
        latenciesUs: Float64Array.from(m.latenciesUs ?? []),
        serverCpuUs: m.cpuUs,
        allCpuUs: raftCpuUs(raftServers) - cpu0,
      }
    },
  }
}

const raftCpuUs = (raftServers: RonyCluster): number =>
  raftServers.pids.reduce((n, pid) => n + (processCpuUs(pid) ?? 0), 0)

/**
 * Serial subjects in blocks that take turns (the ws suite's `interleavedRound`), so a drift
 * of the machine's speed within the round reaches all of them alike.
 */
async function serialRound(subjects: SerialSubject[], rotation: number): Promise<ClusterRound[]> {
  for (const s of subjects) await s.block(SERIAL_WARMUP)
  const block = { count: SERIAL.count / SERIAL_BLOCKS, maxMs: SERIAL.maxMs / SERIAL_BLOCKS }
  const parts = subjects.map((): CpuPhase[] => [])
  for (let b = 0; b < SERIAL_BLOCKS; b++) {
    for (let k = 0; k < subjects.length; k++) {
      const i = (k + b + rotation) % subjects.length
      parts[i]?.push(await (subjects[i] as SerialSubject).block(block))
    }
  }
  return parts.map((blocks) => {
    const latencies = new Float64Array(blocks.reduce((n, p) => n + p.completed, 0))
    let offset = 0
    for (const p of blocks) {
      latencies.set(p.latenciesUs, offset)
      offset += p.completed
    }
    return cpuRound({
      completed: offset,
      bad: blocks.reduce((n, p) => n + p.bad, 0),
      capped: blocks.some((p) => p.capped),
      elapsedMs: blocks.reduce((n, p) => n + p.elapsedMs, 0),
      latenciesUs: latencies,
      serverCpuUs: blocks.reduce((n, p) => n + p.serverCpuUs, 0),
      allCpuUs: blocks.reduce((n, p) => n + p.allCpuUs, 0),
    })
  })
}

async function pipelined(
  s: WsSubject,
  edges: EdgeCluster,
  leader: EdgeProcess,
  window: number,
): Promise<ClusterRound> {
  await run1(s, window, PIPELINED_WARMUP)
  return cpuRound(await measured(edges, leader, () => run1(s, window, PIPELINED)))
}

/** A raw Raft phase; its warm-up runs as a phase of its own, so /proc's CPU figures leave it out. */
const raftPhase = (kind: 'propose' | 'read', window: number, warmup = false): Phase =>
  warmup
    ? { kind, inFlight: window, count: PIPELINED.count, maxMs: 500, warmupMs: 0 }
    : { kind, inFlight: window, count: PIPELINED.count, maxMs: PIPELINED.maxMs, warmupMs: 0 }

/** One round of every multi-process shape. */
async function clusterRound(
  edges: EdgeCluster,
  raftServers: RonyCluster,
  results: Results,
  round: number,
): Promise<void> {
  results.tcpRtt.push(await measureRtt())
  const { leader, follower, term } = await edges.roles()
  const sockets: WebSocket[] = []
  const open = async (edge: EdgeProcess): Promise<WebSocket> => {
    const socket = await openSocket(edge.url)
    sockets.push(socket)
    return socket
  }
  const safely = async <T>(what: () => Promise<T>): Promise<T | undefined> =>
    what().catch((error: Error) => {
      process.stderr.write(`  cluster: ${error.message}\n`)
      return undefined
    })
  try {
    const local: WsSubject = { name: LOCAL, socket: await open(leader), request: LOCAL_ECHO }
    const viaLeader: WsSubject = {
      name: VIA_LEADER,
      socket: await open(leader),
      request: REPLICATED,
    }
    const viaFollower: WsSubject = {
      name: VIA_FOLLOWER,
      socket: await open(follower),
      request: REPLICATED,
    }
    const reads: WsSubject = { name: FOLLOWER_READS, socket: await open(follower), request: READ }
    const raft = async (kind: 'propose' | 'read', window: number) => {
      await safely(() => raftServers.load(raftPhase(kind, window, true)))
      const cpu0 = raftCpuUs(raftServers)
      const m = await safely(() => raftServers.load(raftPhase(kind, window)))
      return m === undefined ? FAILED : raftRound(m, raftCpuUs(raftServers) - cpu0)
    }
    // The raw Raft phases go first in even rounds, last in odd ones.
    const raftFirst = round % 2 === 0
    {
      const subjects = [
        wsSerial(local, edges, leader),
        raftSerial(raftServers),
        wsSerial(viaLeader, edges, leader),
        wsSerial(viaFollower, edges, leader),
      ]
      const serial = await safely(() => serialRound(subjects, round))
      for (const [i, { name }] of subjects.entries()) {
        results.add(SERIAL_SHAPE, name, serial?.[i] ?? FAILED)
      }
    }
    for (const window of [64, 256]) {
      const shape = inFlight(window)
      const raftFirstHere = raftFirst ? await raft('propose', window) : undefined
      // The local echo at 256 in flight: the ws path's own cost (gateway and client), no Raft.
      for (const s of window === 256 ? [local, viaLeader, viaFollower] : [viaLeader, viaFollower]) {
        results.add(
          shape,
          s.name,
          (await safely(() => pipelined(s, edges, leader, window))) ?? FAILED,
        )
        await sleep(200)
      }
      results.add(shape, RAFT, raftFirstHere ?? (await raft('propose', window)))
    }
    {
      const shape = inFlight(256)
      const raftReads = raftFirst ? await raft('read', 256) : undefined
      results.add(
        shape,
        FOLLOWER_READS,
        (await safely(() => pipelined(reads, edges, leader, 256))) ?? FAILED,
      )
      results.add(shape, RAFT_READS, raftReads ?? (await raft('read', 256)))
    }
  } finally {
    for (const socket of sockets) socket.terminate()
  }
  const after = await edges.roles().catch(() => undefined)
  if (after === undefined || after.term !== term || after.leader !== leader) {
    results.add('notes', 'elections', FAILED, `round ${round + 1}: the edges' leader changed`)
  }
}

// ---------------------------------------------------------------------------------------
// Rendering

const int = (n: number): string => (Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US'))
const us = (n: number): string => (Number.isNaN(n) ? '–' : n >= 100 ? int(n) : n.toFixed(1))
const finiteMedian = (values: number[]): number => {
  const finite = values.filter(Number.isFinite)
  return finite.length === 0 ? Number.NaN : median(finite)
}

type Figure = 'msgPerSec' | 'p50Us' | 'p99Us' | 'cpuUsPerMsg' | 'allCpuUsPerOp'
const med = (rounds: ClusterRound[], key: Figure): number => finiteMedian(rounds.map((r) => r[key]))
const paired = (a: ClusterRound[], b: ClusterRound[], key: Figure): number[] =>
  a
    .slice(0, b.length)
    .map((r, i) => r[key] / (b[i] as ClusterRound)[key])
    .filter(Number.isFinite)

/** Rows: every subject of every shape, with a ratio against the shape's reference. */
function table(results: Results): string[] {
  const rows: [shape: string, subject: string, reference: string | undefined][] = [
    [SERIAL_SHAPE, LOCAL, undefined],
    [SERIAL_SHAPE, RAFT, undefined],
    [SERIAL_SHAPE, VIA_LEADER, RAFT],
    [SERIAL_SHAPE, VIA_FOLLOWER, RAFT],
    [inFlight(64), RAFT, undefined],
    [inFlight(64), VIA_LEADER, RAFT],
    [inFlight(64), VIA_FOLLOWER, RAFT],
    [inFlight(256), LOCAL, undefined],
    [inFlight(256), RAFT, undefined],
    [inFlight(256), VIA_LEADER, RAFT],
    [inFlight(256), VIA_FOLLOWER, RAFT],
    [inFlight(256), RAFT_READS, undefined],
    [inFlight(256), FOLLOWER_READS, RAFT_READS],
    [SERIAL_SHAPE, SOLO, undefined],
    [inFlight(64), SOLO, undefined],
  ]
  const lines = [
    '| shape | subject | rounds × requests | ops/s | µs/op | p50 µs | p99 µs | leader CPU µs/op | CPU µs/op, all processes | p50 vs reference | ops/s vs reference | reference | notes |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ]
  for (const [shape, subject, reference] of rows) {
    const rounds = results.get(shape, subject)
    if (rounds.length === 0) continue
    const base = reference === undefined ? [] : results.get(shape, reference)
    const counts = [...new Set(rounds.map((r) => r.completed))].map(int).join('/')
    const bad = rounds.reduce((n, r) => n + r.bad, 0)
    const capped = rounds.filter((r) => r.capped).length
    const notes = [
      capped ? `${capped} capped at the time limit` : '',
      bad ? `${bad} failed` : '',
      results.note(shape, subject),
    ]
      .filter(Boolean)
      .join('; ')
    const seed =
      subject === SOLO
        ? ` (seed ${shape === SERIAL_SHAPE ? SEED.serialUs : SEED.parallelUs} µs)`
        : ''
    const ops = med(rounds, 'msgPerSec')
    lines.push(
      `| ${shape} | ${subject} | ${rounds.length} × ${counts} | ${int(ops)} | ${us(1e6 / ops)}${seed} | ${us(med(rounds, 'p50Us'))} | ${us(med(rounds, 'p99Us'))} | ${us(med(rounds, 'cpuUsPerMsg'))} | ${us(med(rounds, 'allCpuUsPerOp'))} | ${reference ? ratioText(paired(rounds, base, 'p50Us')) : ''} | ${reference ? ratioText(paired(rounds, base, 'msgPerSec')) : ''} | ${reference ?? ''} | ${notes} |`,
    )
  }
  return lines
}

function goals(results: Results): GoalLine[] {
  const out: GoalLine[] = []
  const local = results.get(SERIAL_SHAPE, LOCAL)
  const raftSerial = results.get(SERIAL_SHAPE, RAFT)
  const viaLeader = results.get(SERIAL_SHAPE, VIA_LEADER)
  const viaFollower = results.get(SERIAL_SHAPE, VIA_FOLLOWER)
  const rtt = med(local, 'p50Us')
  const raftP50 = med(raftSerial, 'p50Us')
  const leaderP50 = med(viaLeader, 'p50Us')
  const followerP50 = med(viaFollower, 'p50Us')
  // The floor of a replicated request via the leader: a ws round trip to the edge (the local
  // echo) plus a Raft commit (raw Raft, no client hop), measured apart in the same run.
  const floor = rtt + raftP50
  const floorText = `floor: ws round trip (local echo p50) ${us(rtt)} + raw Raft commit p50 ${us(raftP50)} = ${us(floor)} µs; measured ${(leaderP50 / floor).toFixed(2)}× that floor`
  out.push({
    text: `replicated echo via the leader p50 ≤ ${GOAL.leaderP50Us} µs (${us(leaderP50)} µs; ${floorText})`,
    met: leaderP50 <= GOAL.leaderP50Us,
  })
  const leaderRatios = paired(viaLeader, raftSerial, 'p50Us')
  out.push({
    text: `replicated echo via the leader p50 ≤ ${GOAL.leaderVsRaft}× raw Raft serial commit (${us(leaderP50)} vs ${us(raftP50)} µs; per round ${ratioText(leaderRatios)}; ${floorText})`,
    met: finiteMedian(leaderRatios) <= GOAL.leaderVsRaft,
  })
  const followerBound = leaderP50 + GOAL.followerExtraRtts * rtt
  const tcp = finiteMedian(results.tcpRtt.map((r) => r.p50Us))
  out.push({
    text: `replicated echo via a follower p50 ≤ via the leader + ${GOAL.followerExtraRtts} ws round trips (${us(followerP50)} vs ${us(leaderP50)} + ${GOAL.followerExtraRtts} × ${us(rtt)} = ${us(followerBound)} µs; the forward adds ${us(followerP50 - leaderP50)} µs = ${((followerP50 - leaderP50) / rtt).toFixed(2)} ws round trips; a bare Node ↔ Node loopback TCP round trip measured ${us(tcp)} µs p50 in this run)`,
    met: followerP50 <= followerBound,
  })
  const leader256 = results.get(inFlight(256), VIA_LEADER)
  const raft256 = results.get(inFlight(256), RAFT)
  const tpRatios = paired(leader256, raft256, 'msgPerSec')
  // Raw Raft's CPU plus the ws path's (gateway and client, from the local echo): what a
  // replicated request would cost with no work of the edge's own; the edge's part is the rest.
  const wsPathCpu = med(results.get(inFlight(256), LOCAL), 'allCpuUsPerOp')
  const floorCpu = med(raft256, 'allCpuUsPerOp') + wsPathCpu
  const edgeCpu = med(leader256, 'allCpuUsPerOp')
  out.push({
    text: `replicated echo via the leader at 256 in flight ≥ ${GOAL.throughputVsRaft}× raw Raft's ops/s (${int(med(leader256, 'msgPerSec'))} vs ${int(med(raft256, 'msgPerSec'))}; per round ${ratioText(tpRatios)}; leader CPU ${us(med(leader256, 'cpuUsPerMsg'))} vs ${us(med(raft256, 'cpuUsPerMsg'))} µs/op, raw Raft's including its in-process load loop; all processes ${us(edgeCpu)} vs ${us(med(raft256, 'allCpuUsPerOp'))} µs/op on ${cores} vCPUs; floor: raw Raft's ${us(med(raft256, 'allCpuUsPerOp'))} + the ws path's ${us(wsPathCpu)} (local echo at 256 in flight, server and client) = ${us(floorCpu)} µs/op, ${(floorCpu / med(raft256, 'allCpuUsPerOp')).toFixed(2)}× raw Raft's CPU per op; the edge's own cluster work is the remaining ${us(edgeCpu - floorCpu)} µs/op)`,
    met: finiteMedian(tpRatios) >= GOAL.throughputVsRaft,
  })
  const reads = results.get(inFlight(256), FOLLOWER_READS)
  const raftReads = results.get(inFlight(256), RAFT_READS)
  out.push({
    text: `linearizable reads via a follower at 256 in flight ≥ ${int(GOAL.followerReadsPerSec)}/s (${int(med(reads, 'msgPerSec'))}/s; raw Raft ReadIndex in the leader ${int(med(raftReads, 'msgPerSec'))}/s)`,
    met: med(reads, 'msgPerSec') >= GOAL.followerReadsPerSec,
  })
  const failed = [...results.rounds]
    .filter(
      ([key, rounds]) => !key.startsWith('notes/') && rounds.some((r) => r.bad > 0 || r.capped),
    )
    .map(([key]) => key)
  if (failed.length > 0) {
    out.push({
      text: `every phase completed with valid replies (not: ${failed.join(', ')})`,
      met: false,
    })
  }
  return out
}

// ---------------------------------------------------------------------------------------

async function run(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'rony-bench-cluster-'))
  const unguard = guardSignals(() => rmSync(dir, { recursive: true, force: true }))
  const results = new Results()
  const started = performance.now()
  let edges: EdgeCluster | undefined
  let raftServers: RonyCluster | undefined
  try {
    edges = await EdgeCluster.start(join(dir, 'edges'))
    raftServers = await RonyCluster.start(join(dir, 'raft'), 3)
    for (let round = 0; round < ROUNDS; round++) {
      await clusterRound(edges, raftServers, results, round)
      process.stderr.write(`  cluster: round ${round + 1} done\n`)
    }
  } finally {
    await Promise.all([edges?.close(), raftServers?.close()])
  }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const solo = await startSingleVoterEdge(join(dir, `solo-${round}`))
      try {
        // Everything runs in this process: its CPU time is the edge's and the client's.
        const phase = async (window: number, limits: PhaseLimits): Promise<ClusterRound> => {
          const cpu0 = clientCpuUs()
          const result = await solo.phase(window, limits)
          const allCpuUs = clientCpuUs() - cpu0
          return cpuRound({ ...result, serverCpuUs: allCpuUs, allCpuUs })
        }
        await solo.phase(1, SERIAL_WARMUP)
        results.add(SERIAL_SHAPE, SOLO, await phase(1, SERIAL))
        await solo.phase(64, PIPELINED_WARMUP)
        results.add(inFlight(64), SOLO, await phase(64, PIPELINED))
      } finally {
        await solo.close()
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    unguard()
  }
  const elections = results.note('notes', 'elections')
  const lines = [
    `### ${clusterSuite.name}`,
    '',
    clusterSuite.description,
    '',
    `${ROUNDS} rounds; wall ${((performance.now() - started) / 1000).toFixed(0)} s; a bare Node ↔ Node loopback TCP round trip (the raft suite's floor) ${us(finiteMedian(results.tcpRtt.map((r) => r.p50Us)))} µs p50.${elections ? ` ${elections}.` : ''}`,
    '',
    ...table(results),
    '',
    ...goalLines(goals(results)),
  ]
  return `${lines.join('\n')}\n`
}

export const clusterSuite: LoadSuite = {
  kind: 'load',
  name: 'cluster: replicated edge',
  description: `The clustered edge on real processes: 3 edges on 127.0.0.1, each its own Node process (\`src/cluster/edge-server.ts\`: \`wsGateway\`, \`gossip\` over UDP, \`raft\` over TCP with a durable data directory (fsync on), \`tunnel\` over TCP, \`bootstrapExpect: 3\`), formed by gossip. The load client is this process: a raw \`ws\` client (one socket per subject, each request with its own id, replies matched by id), 64-byte payloads. Subjects: a replicated echo (\`mode: 'replicated'\`: proposed to Raft, applied on every replica, answered by the origin) sent to the leader, and to a follower (forwarded to the leader over the tunnel); the test services' local \`Echo\` on the leader (the ws round trip and the edge's dispatch, no Raft); a linearizable read (\`ReadIndex\` barrier, then the handler) on a follower; and, in the same run, \`@rony/raft\`'s own servers (the raft suite's \`src/raft/server.ts\`, 3 processes, the load inside the leader: no client hop) proposing 80-byte commands and reading with ReadIndex. Serial: 300 warm-up, then ${SERIAL.count.toLocaleString('en-US')} requests per subject in ${SERIAL_BLOCKS} blocks in which the subjects (raw Raft's too) take turns. N in flight: 500 ms warm-up, then ${PIPELINED.count.toLocaleString('en-US')} requests (≤ ${PIPELINED.maxMs / 1000} s). Leader CPU: user + system time of the leader process over the phase, per request (raw Raft's includes its load loop); CPU of all processes: the three servers' and, for the edges, this client's too, per request (what 2 vCPUs have to share). Floor, at the start of each round: the raft suite's Node ↔ Node loopback TCP round trip (what a forward over the tunnel adds at least). Then the Go seed's shape in this process: a single-voter replicated edge (durable data directory) behind the memory gateway, serial and 64 in flight (seed, Go, 16 cores: ${SEED.serialUs} µs and ${SEED.parallelUs} µs per request). ${ROUNDS} rounds; figures are medians of rounds, ratios the median (min–max) of per-round ratios.`,
  run,
}
