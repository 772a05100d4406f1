import {
  APART_REFERENCE_N,
  type Detection,
  describe,
  type ScaleResult,
  SEMI_SPACE_MIB,
  simulateScaleInProcess,
  type Timed,
} from '../gossip/scale.ts'
import { type GoalLine, goalLines, type LoadSuite, median } from '../load.ts'

/**
 * @rony/gossip at 1k–10k members, simulated (memory network, virtual clock, one process):
 * what each node costs as N grows, and whether the cluster still converges, detects and
 * disseminates in time. See `src/gossip/scale.ts` for the phases.
 */

const list = (v: string | undefined, fallback: string): number[] =>
  (v ?? fallback)
    .split(',')
    .map(Number)
    .filter((x) => Number.isInteger(x) && x > 0)
/** Cluster sizes; `RONY_BENCH_GOSSIP_SCALE_N=100,500` runs others. */
const SIZES = list(process.env.RONY_BENCH_GOSSIP_SCALE_N, '1000,5000,10000')
/** The size the idle CPU of the largest N is compared with (run first, a few seconds). */
const REFERENCE_N = 100
/** Sizes that also run a window of 5% packet loss (false failures). */
const LOSS_SIZES = list(process.env.RONY_BENCH_GOSSIP_LOSS_N, '5000')
const LOSS = 0.05
const LOSS_MS = 60_000
/** The join storm's size (at 100 joins/s); 0 skips it. */
const STORM_N = list(process.env.RONY_BENCH_GOSSIP_STORM_N, '2000')[0]
const STORM_RATE = 100
/**
 * Nodes of each size's run (and of the reference cluster beside it) in a process of their own,
 * measured apart; 0 runs none.
 */
const APART = list(process.env.RONY_BENCH_GOSSIP_APART, '8')[0] ?? 0
/** Real-time budget of one N's run, s. */
const BUDGET_S = Number(process.env.RONY_BENCH_GOSSIP_SCALE_BUDGET_S ?? 600)
/** The seed of every run (network faults and each node's random source). */
const SEED = Number(process.env.RONY_BENCH_GOSSIP_SEED ?? 1)
/** The whole run of N = 10,000 (fork to exit) must take at most this long. */
const BIG_N = 10_000
const BIG_WALL_MS = 600_000
const CRASHES = 5
const IDLE_MS = 10_000
/** The idle window's least length: 10 simulated s, longer below N = 1,000 so it spans as many node-seconds. */
const idleMs = (n: number): number => Math.max(IDLE_MS, (IDLE_MS * 1000) / n)

const log = (line: string): void => {
  process.stderr.write(`  gossip scale: ${line}\n`)
}
const s = (ms: number | undefined): string =>
  ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`
const int = (v: number | undefined): string =>
  v === undefined || Number.isNaN(v) ? '–' : Math.round(v).toLocaleString('en-US')
const real = (t: Timed | undefined): string =>
  t === undefined ? '' : ` (${(t.wallMs / 1000).toFixed(0)} s real)`
const secs = (ms: number | undefined): string =>
  ms === undefined ? '–' : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}`
/** The whole run's real time: the worker's life when known, else the simulation's. */
const wall = (r: ScaleResult): number => r.processWallMs ?? r.wallMs

function detection(ds: Detection[], t: Timed | undefined): string {
  if (t === undefined) return '–'
  const firsts = ds.map((d) => d.firstMs).filter((v): v is number => v !== undefined)
  const lasts = ds.map((d) => d.lastMs).filter((v): v is number => v !== undefined)
  const first = firsts.length ? s(median(firsts)) : '–'
  if (t.missed !== undefined) {
    const by = ds.map((d) => d.detectedBy).join('/')
    return `${first} / ${t.missed} (survivors that had each failed: ${by})`
  }
  return `${first} / ${s(median(lasts))} (worst ${s(Math.max(...lasts))})`
}

function table(results: ScaleResult[]): string[] {
  const head = `| measure | ${results.map((r) => `N = ${r.n.toLocaleString('en-US')}`).join(' | ')} |`
  const rule = `| --- | ${results.map(() => '---:').join(' | ')} |`
  const row = (label: string, cell: (r: ScaleResult) => string): string =>
    `| ${label} | ${results.map(cell).join(' | ')} |`
  return [
    head,
    rule,
    row('rollout', (r) => r.rollout),
    row('rollout wall time (every node started), s', (r) => secs(r.rolloutWallMs)),
    row(
      'converged after the last start (sim)',
      (r) => `${describe(r.converged)}${real(r.converged)}`,
    ),
    row('pair seen last (or the furthest view)', (r) => r.worstPair ?? '–'),
    row('broadcast queues empty after convergence (sim)', (r) =>
      r.queuedAfterDrain === undefined
        ? describe(r.drained)
        : `${describe(r.drained)} (${int(r.queuedAfterDrain)} left per node)`,
    ),
    row('one more join seen by all (sim)', (r) => describe(r.oneMoreJoin)),
    row(`detection of ${CRASHES} crashes, first / last survivor (median of ${CRASHES}, sim)`, (r) =>
      detection(r.detections, r.detection),
    ),
    row('user broadcast delivered to all (sim)', (r) => describe(r.broadcast)),
    row('meta update seen by all (sim)', (r) => describe(r.metaUpdate)),
    row('idle window (sim)', (r) => describe(r.idle)),
    row('idle packet bytes/s per node', (r) => int(r.idleBytesPerSec)),
    row('idle stream (push-pull) bytes/s per node', (r) => int(r.idleStreamBytesPerSec)),
    row('idle packets/s per node', (r) => r.idlePacketsPerSec?.toFixed(1) ?? '–'),
    row('idle CPU per node per simulated s, µs (+ the harness’s loop turns)', (r) =>
      r.idleCpuUsPerSec === undefined
        ? '–'
        : `${int(r.idleCpuUsPerSec)} (+${int(r.idleHarnessUsPerSec)})`,
    ),
    row(
      `idle CPU per node in a process of its own, µs: here / in the N = ${APART_REFERENCE_N} cluster beside it`,
      (r) => {
        const a = r.apart
        if (a === undefined) return '–'
        const ratio = a.cost.cpuUsPerSec / a.reference.cpuUsPerSec
        return `${int(a.cost.cpuUsPerSec)} / ${int(a.reference.cpuUsPerSec)} (${ratio.toFixed(2)}×; ${a.nodes} + ${a.nodes} nodes)`
      },
    ),
    row(
      'rollout CPU per simulated s (first start to convergence), s',
      (r) => r.rolloutCpuPerSimS?.toFixed(2) ?? '–',
    ),
    row('heap per observer–member pair, B', (r) =>
      r.bytesPerPair === undefined ? '–' : `${int(r.bytesPerPair)} (${int(r.heapMiB)} MiB)`,
    ),
    row('heap per member (its view of the N others), KiB', (r) =>
      r.heapMiB === undefined ? '–' : ((r.heapMiB * 1024) / r.n).toFixed(1),
    ),
    row('peak RSS of the run, MiB', (r) => int(r.maxRssMiB)),
    row('GC in the run: pauses, s (of them major), and count (major)', (r) =>
      r.gcMs === undefined
        ? '–'
        : `${secs(r.gcMs)} (${secs(r.gcMajorMs)}); ${int(r.gcCount)} (${int(r.gcMajors)})`,
    ),
    row(
      'false failures (whole run)',
      (r) =>
        `${r.falseFailures}${r.falseExamples.length ? ` (${r.falseExamples.join(', ')})` : ''}`,
    ),
    row(`${LOSS * 100}% loss for ${LOSS_MS / 1000} s: false failures (suspicions)`, (r) =>
      r.loss === undefined
        ? '–'
        : r.loss.missed !== undefined
          ? r.loss.missed
          : `${r.lossFalseFailures} (${int(r.lossSuspicions)})`,
    ),
    row(
      'wall time of the whole run (worker fork to exit), s',
      (r) => `${int(wall(r) / 1000)}${r.error ? ` (${r.error})` : ''}`,
    ),
  ]
}

function goals(
  results: ScaleResult[],
  reference: ScaleResult | undefined,
  storm: ScaleResult | undefined,
): GoalLine[] {
  const out: GoalLine[] = []
  const at = (n: number) => results.find((r) => r.n === n)
  const big = at(BIG_N)
  if (big) {
    const phases: Array<[string, number | undefined]> = [
      ['rollout', big.error === undefined ? 0 : undefined],
      ['convergence', big.converged.ms],
      ['idle', big.idle?.ms],
      ['one more join', big.oneMoreJoin?.ms],
      ['broadcast', big.broadcast?.ms],
      ['meta update', big.metaUpdate?.ms],
      [`${CRASHES} crashes`, big.detection?.ms],
    ]
    const missed = phases.filter(([, ms]) => ms === undefined).map(([name]) => name)
    out.push({
      text: `N=${BIG_N.toLocaleString('en-US')} completes every phase (rollout, idle, one more join, broadcast, meta, ${CRASHES} crashes) within ${BIG_WALL_MS / 60_000} real minutes, fork to exit (${int(wall(big) / 1000)} s${missed.length ? `; missed: ${missed.join(', ')}` : ''})`,
      met: missed.length === 0 && wall(big) <= BIG_WALL_MS,
    })
  }
  const largest = results.at(-1)
  if (
    largest &&
    reference &&
    largest.idleCpuUsPerSec !== undefined &&
    reference.idleCpuUsPerSec !== undefined
  ) {
    const ratio = largest.idleCpuUsPerSec / reference.idleCpuUsPerSec
    out.push({
      text: `idle CPU per node per simulated s at N=${largest.n} ≤ 1.5× N=${reference.n}'s (${int(largest.idleCpuUsPerSec)} vs ${int(reference.idleCpuUsPerSec)} µs, ${ratio.toFixed(2)}×)`,
      met: ratio <= 1.5,
    })
  }
  const apart = largest?.apart
  if (largest && apart) {
    const ratio = apart.cost.cpuUsPerSec / apart.reference.cpuUsPerSec
    out.push({
      text: `idle CPU per node in a process of its own at N=${largest.n} ≤ 1.5× a node's of the N=${APART_REFERENCE_N} cluster beside it (${int(apart.cost.cpuUsPerSec)} vs ${int(apart.reference.cpuUsPerSec)} µs, ${ratio.toFixed(2)}×)`,
      met: ratio <= 1.5,
    })
  }
  if (largest?.bytesPerPair !== undefined) {
    out.push({
      text: `memory ≤ 400 B per observer–member pair at N=${largest.n} (${int(largest.bytesPerPair)} B)`,
      met: largest.bytesPerPair <= 400,
    })
  }
  for (const r of results) {
    if (r.loss === undefined) continue
    out.push({
      text: `0 false failures with ${LOSS * 100}% packet loss at N=${r.n} (${r.loss.missed ?? `${r.lossFalseFailures} in ${LOSS_MS / 1000} s`})`,
      met: r.loss.missed === undefined && r.lossFalseFailures === 0,
    })
  }
  const falses = results.reduce((sum, r) => sum + r.falseFailures, 0)
  out.push({ text: `0 false failures in every run (${falses})`, met: falses === 0 })
  if (storm) {
    out.push({
      text: `join storm (${STORM_RATE} joins/s) at N=${storm.n}: full view within 2 s of the last join (${storm.error ?? describe(storm.converged)})`,
      met: storm.converged.ms !== undefined && storm.converged.ms <= 2_000,
    })
  }
  return out
}

async function run(): Promise<string> {
  const budgetMs = BUDGET_S * 1000
  const reference = SIZES.includes(REFERENCE_N)
    ? undefined
    : await simulateScaleInProcess(
        { n: REFERENCE_N, crashes: CRASHES, idleMs: idleMs(REFERENCE_N), budgetMs, seed: SEED },
        log,
      )
  const results: ScaleResult[] = []
  for (const n of SIZES) {
    const loss = LOSS_SIZES.includes(n) ? { loss: LOSS, lossMs: LOSS_MS } : {}
    results.push(
      await simulateScaleInProcess(
        { n, crashes: CRASHES, idleMs: idleMs(n), budgetMs, seed: SEED, apart: APART, ...loss },
        log,
      ),
    )
    log(`N=${n} done (${int(wall(results.at(-1)!) / 1000)} s)`)
  }
  const storm =
    STORM_N === undefined
      ? undefined
      : await simulateScaleInProcess(
          { n: STORM_N, joinsPerSecond: STORM_RATE, convergeOnly: true, budgetMs, seed: SEED },
          log,
        )
  const all = reference ? [reference, ...results] : results
  const lines = [
    `### ${gossipScaleSuite.name}`,
    '',
    gossipScaleSuite.description,
    '',
    ...table(all),
    '',
  ]
  if (storm) {
    lines.push(
      `Join storm: N = ${storm.n} started at ${STORM_RATE} joins/s after the seeds; ${storm.error ?? `every member's full view: ${describe(storm.converged)} after the last join (pair seen last: ${storm.worstPair ?? '–'})`}; rollout CPU ${storm.rolloutCpuPerSimS?.toFixed(2) ?? '–'} s per simulated s; ${storm.falseFailures} false failures; ${int(wall(storm) / 1000)} s real.`,
      '',
    )
  }
  lines.push(...goalLines(goals(results, reference ?? all.find((r) => r.n === REFERENCE_N), storm)))
  return `${lines.join('\n')}\n`
}

export const gossipScaleSuite: LoadSuite = {
  kind: 'load',
  name: 'gossip scale: @rony/gossip simulated at N = 1k–10k',
  description: `@rony/gossip nodes in one process on a memory network (1–5 ms per packet, no loss), virtual clock, \`lan\` profile. Seeds n0–n2 start at t = 0, the other nodes join through them in 20 batches over 20 simulated s. Then, each N in its own Node process (\`src/gossip/scale-worker.ts\`, \`--expose-gc\`, heap limit three quarters of the machine's memory, a ${SEMI_SPACE_MIB} MiB semi-space, killed 60 s past its budget), each phase bounded in simulated and real time (${BUDGET_S} s real per N in all; a phase not reached says so): **converged**, from the last start until every member sees every member alive (the pair seen last); then until every node's broadcast queue is empty (the rollout's news fully retransmitted; ≤ 120 simulated s), so that what follows is idle; memory, the heap after a full GC minus the heap before any node, per observer–member pair (N²); **idle** over at least ${IDLE_MS / 1000} simulated s (below N = 1,000: 10 × 1,000 / N s, 100 s at N = 100) and until every node took part in a push-pull (one per node per period: 30 s × a log₂ scale, 90 s at N = 100, 180–300 s at N ≥ 1,000), so that the exchanges count at their steady rate: bytes each node sent (packets: \`stats().bytesSent\`; push-pull streams counted at the stream), packets, and this process's CPU (user + system: the nodes, the memory network and the clock) per node per simulated s, net of the event-loop turns the harness makes once per simulated ms (measured on an empty clock over the same window and shown apart); **one more join** until every member sees it; a **user broadcast** and then a **meta update** until every other member has it; **${CRASHES} crashes** at once (non-seed nodes) until every survivor has each failed (first / last survivor); at N in \`RONY_BENCH_GOSSIP_LOSS_N\` (default 5000), ${LOSS * 100}% packet loss for ${LOSS_MS / 1000} simulated s, counting false failures. A N = ${REFERENCE_N} run is the reference of the idle-CPU goal. **Nodes apart** (\`RONY_BENCH_GOSSIP_APART\`, default 8; 0 none; \`src/gossip/apart.ts\`): in each size's run, that many nodes run in a child process of their own (own heap, own CPU count, V8 \`--single-threaded\` so that GC is counted on the measured thread), bridged to the cluster through stand-in endpoints on the memory network (their packets ≤ 1 ms later than a node's in the main process), and beside the cluster a reference cluster of ${APART_REFERENCE_N} nodes on the same network and clock with as many nodes in a second child process; over the same idle window, each child's CPU in its nodes' timers and continuations, net of as many loop turns on an empty clock, per node per simulated s: what a node costs with its memory to itself, at N and at ${APART_REFERENCE_N} at the same moment on the same machine. The main figure above then also carries the reference cluster's other nodes (≈ 5 ms of CPU per simulated s at N = 100's ≈ 50 µs per node, an estimate: ≤ 1% per node at N ≥ 5,000) and the bridge's side in this process. **Join storm**: a separate cluster of \`RONY_BENCH_GOSSIP_STORM_N\` (default 2000; 0 skips) started at ${STORM_RATE} joins/s, until every member has a full view. Every run also gives its rollout's real time, its GC pauses, its peak RSS and its whole real time from fork to exit (the N = 10,000 goal). \`RONY_BENCH_GOSSIP_SCALE_N=100,500\` picks the sizes, \`RONY_BENCH_GOSSIP_SCALE_BUDGET_S\` the real-time budget per N, \`RONY_BENCH_GOSSIP_SEED\` the seed (default 1).`,
  run,
}
