import { type Cluster, ids, type LoCounters, readLo, sleep } from '../gossip/cluster.ts'
import { RonyCluster } from '../gossip/rony.ts'
import { SerfCluster, serfVersion } from '../gossip/serf.ts'
import { type SimResult, simulate } from '../gossip/sim.ts'
import { type GoalLine, goalLines, type LoadSuite, median } from '../load.ts'

/**
 * Cluster membership on real sockets: @rony/gossip vs HashiCorp serf (memberlist
 * underneath), N nodes on 127.0.0.1 with the same memberlist profile, one after the other
 * in one run. Per N and implementation: start N − 1 nodes (all joining the first) and wait
 * until they all see each other; start the last node's join and time until every node sees
 * all N alive; idle a few seconds, then count the bytes on the loopback interface over a
 * fixed window; SIGKILL one node and time until every survivor has it failed. Then the same
 * in simulation (memory network, virtual clock) for @rony/gossip alone.
 */

const PROFILE = 'lan' as const
/** Cluster sizes; `RONY_BENCH_GOSSIP_N=10,50` runs fewer. */
const SIZES = (process.env.RONY_BENCH_GOSSIP_N ?? '10,50,100').split(',').map(Number)
const FORM_MAX_MS = 60_000
const JOIN_MAX_MS = 30_000
const SETTLE_MS = 3_000
/** One lan push-pull interval (memberlist scales it up above 32 members: 60 s at 50, 90 s at 100). */
const WINDOW_MS = 30_000
const DETECT_MAX_MS = 90_000
/** Joins and kills timed per cluster. */
const JOINS = 3
const KILLS = 5
/** Between kills, so one detection's gossip does not overlap the next. */
const KILL_GAP_MS = 2_000
const SIM_SEEDS = 5
/** The nodes killed, in order: never the seed, which every later join goes through. */
const victimsOf = (all: readonly string[]): string[] => all.slice(1, 1 + KILLS)
/** Ethernet (14) + IPv4 (20) + UDP (8) header bytes that `lo` counts per datagram. */
const UDP_OVERHEAD = 42

interface Real {
  impl: 'serf' | 'rony'
  n: number
  processes: number
  formMs?: number | undefined
  /** One per join, in order. */
  joinMs: number[]
  /** Per kill: until the last survivor, and the median survivor, had the victim failed. */
  detectLastMs: number[]
  detectMedianMs: number[]
  falseFailures: number
  suspicions?: number | undefined
  loBytes?: number | undefined
  loPackets?: number | undefined
  loMedianSlice?: number | undefined
  ownBytes?: number | undefined
  ownPackets?: number | undefined
  crossCheck?: string | undefined
  error?: string | undefined
  wallMs: number
}

async function measure(
  impl: 'serf' | 'rony',
  cluster: Cluster,
  n: number,
  processes: number,
): Promise<Real> {
  const wall = performance.now()
  const all = ids(n, impl === 'serf' ? 's' : 'n')
  const initial = all.slice(0, -JOINS)
  const { views } = cluster
  const r: Real = {
    impl,
    n,
    processes,
    falseFailures: 0,
    joinMs: [],
    detectLastMs: [],
    detectMedianMs: [],
    wallMs: 0,
  }
  /** Kill time of each victim so far. */
  const killed = new Map<string, number>()
  try {
    const t = Date.now()
    await cluster.startInitial(initial)
    const formed = await views.until(() => views.converged(initial), FORM_MAX_MS)
    if (formed === undefined) {
      throw new Error(`${initial.length} nodes not converged in ${FORM_MAX_MS} ms`)
    }
    r.formMs = formed - t
    for (let i = initial.length; i < n; i++) {
      const members = all.slice(0, i + 1)
      const t0 = await cluster.join(all[i] as string)
      const joined = await views.until(() => views.converged(members), JOIN_MAX_MS)
      if (joined === undefined) throw new Error(`join not converged in ${JOIN_MAX_MS} ms`)
      r.joinMs.push(joined - t0)
    }
    r.crossCheck = await cluster.crossCheck(all)

    await sleep(SETTLE_MS)
    // One-second slices: the mean is the bandwidth; the median slice shows the steady
    // probe traffic between push-pulls (which come in bursts).
    const lo0 = readLo()
    const own0 = await cluster.counters?.()
    const w0 = performance.now()
    const slices: number[] = []
    let prev = lo0
    for (let i = 0; i < WINDOW_MS / 1000; i++) {
      await sleep(1000)
      const cur = readLo()
      if (prev && cur) slices.push((cur.bytes - prev.bytes) / n)
      prev = cur
    }
    const lo1 = readLo()
    const own1 = await cluster.counters?.()
    const perNodeSec = 1000 / ((performance.now() - w0) * n)
    if (lo0 && lo1) {
      r.loBytes = (lo1.bytes - lo0.bytes) * perNodeSec
      r.loPackets = (lo1.packets - lo0.packets) * perNodeSec
      r.loMedianSlice = slices.sort((a, b) => a - b)[slices.length >> 1]
    }
    if (own0 && own1) {
      r.ownBytes = (own1.bytesSent - own0.bytesSent) * perNodeSec
      r.ownPackets = (own1.packetsSent - own0.packetsSent) * perNodeSec
    }

    r.suspicions = await cluster.suspicionsRaised()
    for (const victim of victimsOf(all)) {
      const at = await cluster.kill(victim)
      killed.set(victim, at)
      const survivors = all.filter((id) => !killed.has(id))
      const detected = await views.until(() => views.detected(survivors, victim), DETECT_MAX_MS)
      if (detected === undefined) throw new Error(`${victim} not detected in ${DETECT_MAX_MS} ms`)
      const times = views.failures
        .filter((f) => f.member === victim && f.at >= at)
        .map((f) => f.at - at)
      r.detectLastMs.push(detected - at)
      r.detectMedianMs.push(median(times))
      await sleep(KILL_GAP_MS)
    }
  } catch (error) {
    r.error = (error as Error).message
  } finally {
    r.falseFailures = views.failures.filter(
      (f) => !(f.at >= (killed.get(f.member) ?? Infinity)),
    ).length
    await cluster.close()
    r.wallMs = performance.now() - wall
  }
  process.stderr.write(
    `  gossip: ${impl} N=${n} ${r.error ? `failed: ${r.error}` : 'done'} (${(r.wallMs / 1000).toFixed(0)} s)\n`,
  )
  return r
}

const int = (v: number | undefined): string =>
  v === undefined || Number.isNaN(v) ? '–' : Math.round(v).toLocaleString('en-US')
const dec = (v: number | undefined): string =>
  v === undefined || Number.isNaN(v) ? '–' : v.toFixed(1)
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}×`
const med = (values: number[] | undefined): number | undefined =>
  values === undefined || values.length === 0 ? undefined : median(values)
/** `median (min–max)` of the samples. */
const spread = (values: number[] | undefined): string => {
  if (values === undefined || values.length === 0) return '–'
  if (values.length === 1) return int(values[0])
  return `${int(median(values))} (${int(Math.min(...values))}–${int(Math.max(...values))})`
}

async function loBackground(): Promise<number | undefined> {
  const a: LoCounters | undefined = readLo()
  await sleep(2_000)
  const b = readLo()
  return a && b ? (b.bytes - a.bytes) / 2 : undefined
}

function comparison(results: Real[], goals: GoalLine[]): string[] {
  const lines = [
    '| N | measure | serf | rony | rony / serf |',
    '| ---: | --- | ---: | ---: | ---: |',
  ]
  for (const n of SIZES) {
    const s = results.find((r) => r.impl === 'serf' && r.n === n)
    const y = results.find((r) => r.impl === 'rony' && r.n === n)
    if (!y) continue
    const row = (label: string, key: keyof Real, format = int): void => {
      const a = y[key] as number | undefined
      const b = s?.[key] as number | undefined
      lines.push(`| ${n} | ${label} | ${format(b)} | ${format(a)} | ${ratio(a, b)} |`)
    }
    const samples = (label: string, key: 'joinMs' | 'detectLastMs' | 'detectMedianMs'): void => {
      const a = y[key]
      const b = s?.[key]
      lines.push(`| ${n} | ${label} | ${spread(b)} | ${spread(a)} | ${ratio(med(a), med(b))} |`)
    }
    samples(`join convergence, ms (${JOINS} joins)`, 'joinMs')
    samples(`failure detection, last survivor, ms (${KILLS} kills)`, 'detectLastMs')
    samples('failure detection, median survivor, ms', 'detectMedianMs')
    row('false failures (whole run)', 'falseFailures')
    row('suspicions raised before the kills', 'suspicions')
    row('loopback bytes/s per node (idle)', 'loBytes')
    row('loopback packets/s per node (idle)', 'loPackets', dec)
    row('loopback bytes/s per node, median 1 s slice', 'loMedianSlice')
    if (!s || s.error || y.error) continue
    const le = (a: number | undefined, b: number | undefined, f = 1): boolean =>
      a !== undefined && b !== undefined && a <= b * f
    const [yDetect, sDetect] = [med(y.detectLastMs), med(s.detectLastMs)]
    const [yJoin, sJoin] = [med(y.joinMs), med(s.joinMs)]
    goals.push(
      {
        text: `N=${n}: failure detection (last survivor, median of ${KILLS}) ≤ serf's (${int(yDetect)} vs ${int(sDetect)} ms)`,
        met: le(yDetect, sDetect),
      },
      {
        text: `N=${n}: false failures ≤ serf's (${y.falseFailures} vs ${s.falseFailures}; suspicions raised ${int(y.suspicions)} vs ${int(s.suspicions)})`,
        met: y.falseFailures <= s.falseFailures,
      },
      {
        text: `N=${n}: join convergence (median of ${JOINS}) ≤ serf's (${int(yJoin)} vs ${int(sJoin)} ms)`,
        met: le(yJoin, sJoin),
      },
      {
        text: `N=${n}: bytes/s per node ≤ 1.2× serf's (${int(y.loBytes)} vs ${int(s.loBytes)} B/s, ${ratio(y.loBytes, s.loBytes)})`,
        met: le(y.loBytes, s.loBytes, 1.2),
      },
    )
  }
  return lines
}

function details(results: Real[]): string[] {
  const lines = [
    `| impl | N | processes | first N − ${JOINS} formed, ms | members cross-check | own UDP counter B/s per node (+42 B/packet) | wall s | error |`,
    '| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |',
  ]
  for (const r of results) {
    const own =
      r.ownBytes === undefined
        ? '–'
        : `${int(r.ownBytes)} (${int(r.ownBytes + UDP_OVERHEAD * (r.ownPackets ?? 0))})`
    lines.push(
      `| ${r.impl} | ${r.n} | ${r.processes} | ${int(r.formMs)} | ${r.crossCheck ?? (r.joinMs.length < JOINS ? '–' : 'ok')} | ${own} | ${(r.wallMs / 1000).toFixed(0)} | ${r.error ?? ''} |`,
    )
  }
  return lines
}

/** Each N's simulations (one per seed) as one row of medians (min–max). */
function simTable(sims: SimResult[][]): string[] {
  const lines = [
    '| N | seeds | N − 1 formed, sim ms | join convergence, sim ms | detection, last survivor, sim ms | detection, median survivor, sim ms | false failures | suspicions before crash | wall ms |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  const of = (runs: SimResult[], key: keyof SimResult): string =>
    spread(runs.map((r) => r[key]).filter((v): v is number => typeof v === 'number'))
  for (const runs of sims) {
    const sum = (key: 'falseFailures' | 'suspicionsBeforeCrash' | 'wallMs'): number =>
      runs.reduce((total, r) => total + r[key], 0)
    lines.push(
      `| ${runs[0]?.n} | ${runs.length} | ${of(runs, 'formMs')} | ${of(runs, 'joinMs')} | ${of(runs, 'detectLastMs')} | ${of(runs, 'detectMedianMs')} | ${sum('falseFailures')} | ${sum('suspicionsBeforeCrash')} | ${int(sum('wallMs'))} |`,
    )
  }
  return lines
}

async function run(): Promise<string> {
  const serf = serfVersion()
  const background = await loBackground()
  const results: Real[] = []
  const notes: string[] = []
  if (!serf) notes.push('**serf not installed: run apt-get install serf** (serf rows skipped)')
  for (const [i, n] of SIZES.entries()) {
    // Alternate who goes first, so neither always runs on a machine warmed by the other.
    const order: ('serf' | 'rony')[] = i % 2 ? ['rony', 'serf'] : ['serf', 'rony']
    for (const impl of order) {
      if (impl === 'serf') {
        if (serf) results.push(await measure('serf', new SerfCluster(PROFILE), n, n))
      } else {
        const victims = victimsOf(ids(n, 'n'))
        const workers = n <= 10 ? Math.max(1, n - 1 - victims.length) : 10
        const cluster = new RonyCluster(PROFILE, workers, victims)
        results.push(await measure('rony', cluster, n, workers + victims.length))
      }
      await sleep(1_000)
    }
  }
  const sims: SimResult[][] = []
  for (const n of SIZES) {
    const runs: SimResult[] = []
    for (let seed = 1; seed <= SIM_SEEDS; seed++) runs.push(await simulate(n, PROFILE, seed))
    sims.push(runs)
    process.stderr.write(`  gossip: simulated N=${n} done\n`)
  }

  const goals: GoalLine[] = []
  const lines = [
    `### ${gossipSuite.name}`,
    '',
    gossipSuite.description,
    '',
    `${serf ? `serf: ${serf}` : 'serf: not installed'}; profile: \`${PROFILE}\` on both; loopback background before the run: ${int(background)} B/s.`,
    ...notes.map((n) => `\n${n}`),
    '',
    ...comparison(results, goals),
    '',
    ...details(results),
    '',
    `Simulated (@rony/gossip only, memory network with 1–5 ms delay and no loss, virtual clock, profile \`${PROFILE}\`; one join and one crash per seed, medians (min–max) over ${SIM_SEEDS} seeds):`,
    '',
    ...simTable(sims),
    '',
    ...goalLines(goals),
  ]
  return `${lines.join('\n')}\n`
}

export const gossipSuite: LoadSuite = {
  kind: 'load',
  name: 'gossip membership: @rony/gossip vs serf (memberlist)',
  description: `N nodes on 127.0.0.1 (UDP + TCP), memberlist's \`${PROFILE}\` profile on both (serf \`-profile=${PROFILE}\`), one implementation after the other. serf: one agent process per node, observed through its log (\`EventMemberJoin/Failed\`, memberlist's \`Suspect … has failed\`). rony: nodes in Node worker processes (at N = 10: 9 processes; above: 10 workers of 5–10 nodes plus the victims), each node to be killed alone in its own process; events over IPC. Both timed when this process receives them. **Join convergence**: N − ${JOINS} nodes formed a cluster; then ${JOINS} times, from the start of one more node's join (serf: \`serf join\` to the already running agent; rony: \`start()\` of the new node) until every node lists all alive. **Failure detection**: ${KILLS} times, ${KILL_GAP_MS / 1000} s apart, SIGKILL of a node that runs alone in its process until every survivor has it failed. Samples are shown as median (min–max) and compared by their medians: both times depend on where the random probe and gossip orders happen to be. **False failures**: failed declarations of anyone not killed (or before its kill). **Suspicions raised**: probes that ended in a suspicion before the kills (memberlist's log line; rony's \`stats().probesFailed\`). **Bandwidth**: after ${SETTLE_MS / 1000} s idle, the \`lo\` interface's tx bytes and packets (/proc/net/dev; each loopback packet counts once) over ${WINDOW_MS / 1000} s, divided by N: all UDP and TCP traffic of the cluster with headers (42 B per datagram), and anything else on the machine's loopback.`,
  run,
}
