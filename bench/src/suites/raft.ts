import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type GoalLine, goalLines, type LoadSuite, median } from '../load.ts'
import {
  type Cluster,
  EtcdCluster,
  etcdVersion,
  type Measured,
  type Phase,
  RonyCluster,
} from '../raft/clusters.ts'
import {
  measureConcurrentFdatasync,
  measureFdatasync,
  measureRtt,
  type Percentiles,
} from '../raft/floor.ts'
import { guardSignals, sleep } from '../raft/proc.ts'

/**
 * Replicated writes and linearizable reads on real disks and real TCP: @rony/raft vs etcd,
 * 3 voters (and 1) on 127.0.0.1, every server its own process with its own durable data
 * directory, measured the same way side by side. See `description` below.
 */

/** Rounds of every phase; `RONY_BENCH_RAFT_ROUNDS=1` for a quick look. */
const ROUNDS = Number(process.env.RONY_BENCH_RAFT_ROUNDS ?? 3)
/** gRPC connections of the etcd client (HTTP/2; calls spread over them). */
const ETCD_CHANNELS = Number(process.env.RONY_BENCH_RAFT_ETCD_CONNS ?? 4)
const SEED = { serialUs: 132, parallelUs: 8.4 }
const GOAL_SERIAL = 1.2
const GOAL_THROUGHPUT = 5

interface Shape extends Phase {
  key: string
  label: string
}

const serial: Shape = {
  key: 'serial',
  label: 'serial',
  kind: 'propose',
  inFlight: 1,
  count: 2_000,
  maxMs: 4_000,
  warmupMs: 300,
}
const inFlight = (n: number): Shape => ({
  key: `put${n}`,
  label: `${n} in flight`,
  kind: 'propose',
  inFlight: n,
  count: 20_000,
  maxMs: 5_000,
  warmupMs: 500,
})
const reads: Shape = {
  key: 'read256',
  label: 'ReadIndex, 256 in flight',
  kind: 'read',
  inFlight: 256,
  count: 20_000,
  maxMs: 4_000,
  warmupMs: 300,
}
const CLUSTER_SHAPES = [serial, inFlight(64), inFlight(256), inFlight(1024), reads]
const SINGLE_SHAPES = [serial, inFlight(256)]

type Impl = 'rony' | 'etcd'
/** Results by `${voters}/${shape}/${impl}`, one per round. */
type Results = Map<string, Measured[]>

const keyOf = (voters: number, shape: Shape, impl: Impl): string => `${voters}/${shape.key}/${impl}`

interface Floors {
  fsyncAppend: Percentiles[]
  fsyncPrealloc: Percentiles[]
  fsyncConcurrent: Percentiles[]
  rtt: Percentiles[]
  rttDurable: Percentiles[]
}

async function measureFloors(dir: string, floors: Floors): Promise<void> {
  floors.fsyncAppend.push(measureFdatasync(dir, 'append'))
  floors.fsyncPrealloc.push(measureFdatasync(dir, 'preallocated'))
  floors.fsyncConcurrent.push(await measureConcurrentFdatasync(dir, 3))
  floors.rtt.push(await measureRtt())
  floors.rttDurable.push(await measureRtt(3_000, 3_000, join(dir, 'rtt-durable.wal')))
}

/** A phase that could not run at all (no leader, a process gone): one failure, no figures. */
function failed(error: Error): Measured {
  return {
    type: 'load',
    req: 0,
    completed: 0,
    bad: 1,
    firstError: error.message.split('\n')[0],
    elapsedMs: 0,
    capped: false,
    opsPerSec: Number.NaN,
    p50Us: Number.NaN,
    p99Us: Number.NaN,
    cpuUs: Number.NaN,
    leaderCpuUsPerOp: Number.NaN,
    termsGained: 0,
  }
}

/** Every shape, `ROUNDS` times, the clusters back to back in alternating order. */
async function measureClusters(
  clusters: Cluster[],
  shapes: Shape[],
  results: Results,
  beforeRound?: (round: number) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    await beforeRound?.(round)
    const order = round % 2 === 0 ? clusters : [...clusters].reverse()
    for (const shape of shapes) {
      for (const cluster of order) {
        const r = await cluster.load(shape).catch((error: Error) => failed(error))
        const key = keyOf(cluster.size, shape, cluster.impl)
        results.set(key, [...(results.get(key) ?? []), r])
        await sleep(200)
      }
    }
    process.stderr.write(`  raft: ${clusters[0]?.size} voter(s), round ${round + 1} done\n`)
  }
}

// ---------------------------------------------------------------------------------------
// Rendering

const int = (n: number | undefined): string =>
  n === undefined || Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en-US')
const us = (n: number | undefined): string =>
  n === undefined || Number.isNaN(n) ? '–' : n >= 100 ? int(n) : n.toFixed(1)
/** Median of the rounds that have the figure (a round that failed outright has NaN). */
const med = (values: number[]): number => {
  const finite = values.filter(Number.isFinite)
  return finite.length === 0 ? Number.NaN : median(finite)
}

/** `median× (min–max)` of per-round ratios. */
function ratioText(ratios: number[]): string {
  const finite = ratios.filter(Number.isFinite)
  if (finite.length === 0) return '–'
  const m = median(finite).toFixed(2)
  if (finite.length === 1) return `${m}×`
  return `${m}× (${Math.min(...finite).toFixed(2)}–${Math.max(...finite).toFixed(2)})`
}

type Pick = (m: Measured) => number

function figures(results: Results, voters: number, shape: Shape, impl: Impl, pick: Pick) {
  return (results.get(keyOf(voters, shape, impl)) ?? []).map(pick)
}

/** A table row: medians of both, and the per-round paired ratio rony / etcd. */
function compareRow(
  results: Results,
  label: string,
  voters: number,
  shape: Shape,
  pick: Pick,
  format: (n: number) => string,
  reference = '',
): string {
  const a = figures(results, voters, shape, 'rony', pick)
  const b = figures(results, voters, shape, 'etcd', pick)
  const ratios = a.slice(0, b.length).map((x, i) => x / (b[i] as number))
  return `| ${label} | ${format(med(a))} | ${b.length ? format(med(b)) : '–'} | ${ratioText(ratios)} | ${reference} |`
}

const opsPerSec: Pick = (m) => m.opsPerSec
const p50: Pick = (m) => m.p50Us
const p99: Pick = (m) => m.p99Us
const usPerOp: Pick = (m) => (m.opsPerSec > 0 ? 1e6 / m.opsPerSec : Number.NaN)

function mainTable(results: Results, floors: Floors, hasEtcd: boolean): string[] {
  const fa = med(floors.fsyncAppend.map((f) => f.p50Us))
  const fp = med(floors.fsyncPrealloc.map((f) => f.p50Us))
  const rtt = med(floors.rtt.map((f) => f.p50Us))
  const lines = [
    `| measure | @rony/raft | etcd${hasEtcd ? '' : ' (not installed)'} | rony / etcd (per round) | reference |`,
    '| --- | ---: | ---: | ---: | ---: |',
    compareRow(results, '3 voters: serial commit p50, µs', 3, serial, p50, us),
    compareRow(results, '3 voters: serial commit p99, µs', 3, serial, p99, us),
    ...[64, 256, 1024].map((n) =>
      compareRow(results, `3 voters: ops/s, ${n} in flight`, 3, inFlight(n), opsPerSec, int),
    ),
    compareRow(results, '3 voters: ReadIndex reads/s, 256 in flight', 3, reads, opsPerSec, int),
    compareRow(
      results,
      '1 voter: serial µs/op (p50)',
      1,
      serial,
      p50,
      us,
      `seed ${SEED.serialUs} µs (16 cores)`,
    ),
    compareRow(
      results,
      '1 voter: µs/op, 256 in flight',
      1,
      inFlight(256),
      usPerOp,
      us,
      `seed ${SEED.parallelUs} µs (16 cores)`,
    ),
    compareRow(
      results,
      '1 voter: ops/s, 256 in flight',
      1,
      inFlight(256),
      opsPerSec,
      int,
      `seed ${int(1e6 / SEED.parallelUs)}`,
    ),
    `| fdatasync of a 64 B append, p50 / p99 µs | | | | ${us(fa)} / ${us(med(floors.fsyncAppend.map((f) => f.p99Us)))} |`,
    `| fdatasync of a 64 B overwrite (preallocated file), p50 / p99 µs | | | | ${us(fp)} / ${us(med(floors.fsyncPrealloc.map((f) => f.p99Us)))} |`,
    `| fdatasync of a 64 B append, 3 processes at once (3 members on one disk), p50 / p99 µs | | | | ${us(med(floors.fsyncConcurrent.map((f) => f.p50Us)))} / ${us(med(floors.fsyncConcurrent.map((f) => f.p99Us)))} |`,
    `| loopback TCP round trip (Node ↔ Node), p50 / p99 µs | | | | ${us(rtt)} / ${us(med(floors.rtt.map((f) => f.p99Us)))} |`,
    `| round trip + one fdatasync (append), p50 µs | | | | ${us(rtt + fa)} |`,
    `| round trip to a process that appends 64 B with \`O_DSYNC\` before answering (both as one operation), p50 / p99 µs | | | | ${us(med(floors.rttDurable.map((f) => f.p50Us)))} / ${us(med(floors.rttDurable.map((f) => f.p99Us)))} |`,
  ]
  return lines
}

/** Every phase of every implementation: medians of the rounds. */
function detailTable(results: Results): string[] {
  const lines = [
    '| voters | shape | impl | rounds × ops | ops/s | p50 µs | p99 µs | leader CPU µs/op | client process CPU µs/op | notes |',
    '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ]
  for (const [voters, shapes] of [
    [3, CLUSTER_SHAPES],
    [1, SINGLE_SHAPES],
  ] as const) {
    for (const shape of shapes) {
      for (const impl of ['rony', 'etcd'] as const) {
        const rounds = results.get(keyOf(voters, shape, impl))
        if (!rounds?.length) continue
        const counts = [...new Set(rounds.map((r) => r.completed))].map(int).join('/')
        const capped = rounds.filter((r) => r.capped).length
        const bad = rounds.reduce((n, r) => n + r.bad, 0)
        const elections = rounds.reduce((n, r) => n + r.termsGained, 0)
        const notes = [
          capped ? `${capped} of ${rounds.length} ended at the time cap` : '',
          elections ? `term grew by ${elections} (elections during the phase)` : '',
          bad ? `${bad} failed (${rounds.find((r) => r.firstError)?.firstError ?? '?'})` : '',
        ]
          .filter(Boolean)
          .join('; ')
        lines.push(
          `| ${voters} | ${shape.label} | ${impl} | ${rounds.length} × ${counts} | ${int(med(rounds.map(opsPerSec)))} | ${us(med(rounds.map(p50)))} | ${us(med(rounds.map(p99)))} | ${us(med(rounds.map((r) => r.leaderCpuUsPerOp)))} | ${impl === 'etcd' ? us(med(rounds.map((r) => r.cpuUs / r.completed))) : 'in the leader'} | ${notes} |`,
        )
      }
    }
  }
  return lines
}

function goals(results: Results, floors: Floors, hasEtcd: boolean): GoalLine[] {
  const out: GoalLine[] = []
  const rtt = med(floors.rtt.map((f) => f.p50Us))
  const fsync = med(floors.fsyncAppend.map((f) => f.p50Us))
  const serialP50 = med(figures(results, 3, serial, 'rony', p50))
  const bound = GOAL_SERIAL * (rtt + fsync)
  const durableRtt = med(floors.rttDurable.map((f) => f.p50Us))
  out.push({
    text: `3 voters: serial commit p50 ≤ ${GOAL_SERIAL}× (loopback RTT + one fdatasync) (${us(serialP50)} µs vs ${GOAL_SERIAL} × (${us(rtt)} + ${us(fsync)}) = ${us(bound)} µs; ${(serialP50 / (rtt + fsync)).toFixed(2)}×; against the two measured as one operation, ${us(durableRtt)} µs: ${(serialP50 / durableRtt).toFixed(2)}×)`,
    met: serialP50 <= bound,
  })
  if (hasEtcd) {
    const shape = inFlight(256)
    const a = figures(results, 3, shape, 'rony', opsPerSec)
    const b = figures(results, 3, shape, 'etcd', opsPerSec)
    const ratios = a.slice(0, b.length).map((x, i) => x / (b[i] as number))
    const ratio = med(ratios)
    out.push({
      text: `3 voters: throughput at 256 in flight ≥ ${GOAL_THROUGHPUT}× etcd's (${int(med(a))} vs ${int(med(b))} ops/s; per round ${ratioText(ratios)})`,
      met: ratio >= GOAL_THROUGHPUT,
    })
  }
  const failed = [...results].filter(([, rounds]) => rounds.some((r) => r.bad > 0))
  if (failed.length > 0) {
    out.push({
      text: `every operation succeeded (not: ${failed.map(([k]) => k).join(', ')})`,
      met: false,
    })
  }
  return out
}

// ---------------------------------------------------------------------------------------

async function run(): Promise<string> {
  const version = etcdVersion()
  const dir = mkdtempSync(join(tmpdir(), 'rony-bench-raft-'))
  const unguard = guardSignals(() => rmSync(dir, { recursive: true, force: true }))
  const results: Results = new Map()
  const floors: Floors = {
    fsyncAppend: [],
    fsyncPrealloc: [],
    fsyncConcurrent: [],
    rtt: [],
    rttDurable: [],
  }
  const notes: string[] = []
  const started = performance.now()
  const open: Cluster[] = []
  const closeAll = async (): Promise<void> => {
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => {})))
  }
  try {
    for (const voters of [3, 1]) {
      const sub = join(dir, `${voters}-voters`)
      mkdirSync(sub)
      try {
        open.push(await RonyCluster.start(join(sub, 'rony'), voters))
      } catch (error) {
        notes.push(`rony (${voters} servers) did not start: ${(error as Error).message}`)
      }
      if (version) {
        try {
          open.push(await EtcdCluster.start(join(sub, 'etcd'), voters, ETCD_CHANNELS))
        } catch (error) {
          notes.push(`etcd (${voters} members) did not start: ${(error as Error).message}`)
        }
      }
      await measureClusters(
        open,
        voters === 3 ? CLUSTER_SHAPES : SINGLE_SHAPES,
        results,
        voters === 3 ? () => measureFloors(dir, floors) : undefined,
      )
      await closeAll()
    }
  } finally {
    await closeAll()
    rmSync(dir, { recursive: true, force: true })
    unguard()
  }
  const hasEtcd = version !== undefined
  if (!hasEtcd) {
    notes.push('**etcd not installed: run `apt-get install etcd-server`** (etcd columns empty)')
  }
  const lines = [
    `### ${raftSuite.name}`,
    '',
    raftSuite.description,
    '',
    `etcd: ${version ?? 'not installed'}; ${ROUNDS} rounds; wall ${((performance.now() - started) / 1000).toFixed(0)} s.`,
    ...notes.map((n) => `\n${n}`),
    '',
    ...mainTable(results, floors, hasEtcd),
    '',
    ...detailTable(results),
    '',
    ...goalLines(goals(results, floors, hasEtcd)),
  ]
  return `${lines.join('\n')}\n`
}

export const raftSuite: LoadSuite = {
  kind: 'load',
  name: 'raft: @rony/raft vs etcd',
  description: `Replicated writes on real disks and real TCP: 3 voters on 127.0.0.1, each server its own process with a durable data directory (fsync on) in a fresh temporary directory, side by side with etcd (Debian's etcd-server, default settings: fsync on, static \`--initial-cluster\`); then 1 voter each. **Rony**: \`raft()\` servers (\`src/raft/server.ts\`: TCP transport, \`dataDir\` WAL, a key-value map as the state machine); the load runs inside the leader process (\`propose()\` of a 16-byte key + 64-byte value; \`readIndex()\` then a local read), so no client hop. **etcd**: the load runs in a separate Node process (\`src/raft/etcd-client.ts\`) against the leader's client URL: etcd's v3 gRPC API, \`etcdserverpb.KV/Put\` (same key and value sizes) and linearizable \`KV/Range\`, gRPC frames written by hand on \`node:http2\` over ${ETCD_CHANNELS} HTTP/2 connections (the cheapest Node client we found: \`@grpc/grpc-js\` took 2.5× the client CPU per call and capped etcd's throughput); one extra loopback hop per call, as with etcd's own \`benchmark\` tool; the client's CPU per op is shown. Same load loop on both: N operations outstanding, one started per completion, latency per operation; serial: 300 ms warm-up, then 2,000 ops (≤ 4 s); N in flight: 500 ms warm-up, then 20,000 ops (≤ 5 s); ReadIndex: 20,000 linearizable reads of written keys (≤ 4 s). ${ROUNDS} rounds, the two back to back per phase in alternating order; figures are medians of rounds, ratios the median (min–max) of per-round rony/etcd ratios (for latencies lower is better, for ops/s higher). Leader CPU: user + system time of the leader process over the phase, per op (Rony's includes its in-process load loop; etcd's from /proc, 10 ms ticks). Floors, measured at the start of each round on the same file system: \`write\` of 64 bytes + \`fdatasync\`, at the end of a growing file, over a preallocated one, and appending in 3 processes at once (what 3 members on one disk see); a 64-byte TCP ping-pong between two Node processes; and the same ping-pong with the far process appending each message to a file opened with \`O_DSYNC\` before answering (one round trip and one fdatasync as one operation, as a follower's acknowledgement does them). The goal's "one fdatasync" is the first (one process alone). Seed figures (Go, 16 threads, another machine): 132 µs serial, 8.4 µs/op parallel, single voter.`,
  run,
}
