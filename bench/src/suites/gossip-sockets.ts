import { readFileSync } from 'node:fs'
import {
  ids,
  loadAverage,
  readLo,
  readProc,
  readUdp,
  sleep,
  type Tally,
  type UdpCounters,
} from '../gossip/cluster.ts'
import { RonyCluster } from '../gossip/rony.ts'
import { SerfCluster, serfVersion } from '../gossip/serf.ts'
import { type LoadSuite, median } from '../load.ts'

/**
 * Membership on real sockets at the largest N this machine holds: @rony/gossip as P Node
 * processes × K nodes each, serf as one agent process per node, all on 127.0.0.1 (each node
 * its own UDP + TCP port), one after the other per N. Per N and implementation: a rollout
 * (3 seeds, the rest joining one of them, a batch a second at 10 joins/s) until every node sees all
 * alive; one more join; an idle window (loopback bytes, CPU and RSS of every process from
 * /proc); 3 SIGKILLs of nodes alone in their process, each until every survivor has it
 * failed. Every phase is bounded; a run is aborted when its processes pass the RSS cap or
 * its real-time budget. N grows while the last size converged and the projection fits.
 */

const PROFILE = 'lan' as const
const env = (name: string, fallback: string): string => process.env[name] ?? fallback
const list = (value: string): number[] =>
  value
    .split(',')
    .filter(Boolean)
    .map(Number)
    .filter((n) => n > 10)
/** Sizes for @rony/gossip; serf runs at these too (`RONY_BENCH_GOSSIP_SOCKETS_SERF_N` picks others). */
const SIZES = list(env('RONY_BENCH_GOSSIP_SOCKETS_N', '500,1000,2000'))
const SERF_SIZES = list(env('RONY_BENCH_GOSSIP_SOCKETS_SERF_N', SIZES.join(',')))
/** GOMAXPROCS of each serf agent (unset: Go's default, the number of cores). */
const SERF_GOMAXPROCS = Number(env('RONY_BENCH_GOSSIP_SOCKETS_SERF_GOMAXPROCS', '0')) || undefined
/** Node processes holding the @rony/gossip nodes (the victims run in 3 more). */
const PROCS = Number(env('RONY_BENCH_GOSSIP_SOCKETS_PROCS', '8'))
/** Joins per second during the rollout (25/s, the simulation's 20 s at N = 500, collapsed both at N ≥ 500 on 2 shared cores). */
const JOINS_PER_S = Number(env('RONY_BENCH_GOSSIP_SOCKETS_JOINS_PER_S', '10'))
/** Real-time budget per N and implementation beyond the rollout, s. */
const BUDGET_S = Number(env('RONY_BENCH_GOSSIP_SOCKETS_BUDGET_S', '240'))
/** Total RSS of one cluster's processes that aborts its run (and bounds the next N), bytes. */
const RSS_CAP = Number(env('RONY_BENCH_GOSSIP_SOCKETS_RSS_GB', '8')) * 2 ** 30
/** Idle CPU of the cluster (cores) above which N stops growing: the machine has 2. */
const CPU_CAP = 1.2
const SEEDS = 3
/** The rollout of N nodes: one batch a second, at least 20 s. */
const rolloutMs = (n: number): number => Math.max(20_000, Math.ceil(n / JOINS_PER_S) * 1000)
const JOIN_MAX_MS = 60_000
const SETTLE_MS = 5_000
const WINDOW_MS = 30_000
const KILLS = 3
const KILL_GAP_MS = 2_000
const DETECT_MAX_MS = 60_000
/** serf agent RSS (bytes) assumed before one was measured. */
const SERF_RSS_GUESS = 16 * 2 ** 20

type Impl = 'serf' | 'rony'

/** What the suite drives: `RonyCluster` (counts mode) and `SerfCluster` both fit. */
interface Fleet {
  readonly tally: Tally
  start(id: string, seeds: readonly string[]): Promise<number>
  join(id: string): Promise<number>
  kill(id: string): Promise<number>
  pids(): number[]
  suspicionsRaised(): Promise<number>
  crossCheck(ids: string[]): Promise<string | undefined>
  counters?(): Promise<{ bytesSent: number; packetsSent: number }>
  emptyRss(): number
  heapUsed?(): Promise<number>
  close(): Promise<void>
}

interface Row {
  impl: Impl
  n: number
  processes: number
  load: [number, number]
  rolloutMs?: number
  afterLastStartMs?: number
  rolloutCpuS?: number
  joinMs?: number
  crossCheck?: string | undefined
  loBytes?: number
  loPackets?: number
  ownBytes?: number
  /** Idle CPU per node, µs per s. */
  cpuUs?: number
  /** Idle CPU of the whole cluster, cores. */
  cores?: number
  rssPerNode?: number
  /** RSS per node above what its processes hold empty (rony: each worker once ready; serf: an agent alone). */
  rssOverEmpty?: number
  /** V8 heap in use per node (rony). */
  heapPerNode?: number
  /** RSS of all processes and what they hold empty, at the end of the idle window, bytes. */
  rss?: [number, number]
  peakRss: number
  suspicions?: number
  /** Per kill: first, median and last survivor, ms. */
  detect: [number, number, number][]
  falseFailures: number
  drops: Partial<Record<'rollout' | 'idle' | 'kills', UdpCounters | undefined>>
  error?: string
  wallS: number
}

/** Counter deltas between two readings. */
const udpDelta = (a?: UdpCounters, b?: UdpCounters): UdpCounters | undefined =>
  a && b
    ? {
        inDatagrams: b.inDatagrams - a.inDatagrams,
        rcvbufErrors: b.rcvbufErrors - a.rcvbufErrors,
        inErrors: b.inErrors - a.inErrors,
      }
    : undefined

function usage(pids: number[]): { cpuMs: Map<number, number>; rss: number } {
  const cpuMs = new Map<number, number>()
  let rss = 0
  for (const pid of pids) {
    const p = readProc(pid)
    if (!p) continue
    cpuMs.set(pid, p.cpuMs)
    rss += p.rss
  }
  return { cpuMs, rss }
}

/** CPU ms spent between two readings by the processes in both. */
function cpuBetween(a: Map<number, number>, b: Map<number, number>): number {
  let ms = 0
  for (const [pid, end] of b) ms += end - (a.get(pid) ?? end)
  return ms
}

/** `Max open files` of this process (the children inherit it). */
function openFilesLimit(): string {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))
    return line?.split(/\s{2,}/)[1] ?? '?'
  } catch {
    return '?'
  }
}

async function measure(impl: Impl, n: number): Promise<Row> {
  const wall = Date.now()
  const all = ids(n, impl === 'serf' ? 's' : 'n')
  const victims = all.slice(SEEDS, SEEDS + KILLS)
  const fleet: Fleet =
    impl === 'serf'
      ? new SerfCluster(PROFILE, budgetS(n) + 60, SERF_GOMAXPROCS)
      : new RonyCluster(PROFILE, PROCS, victims, 'counts')
  const { tally } = fleet
  const r: Row = {
    impl,
    n,
    processes: impl === 'serf' ? n : PROCS + KILLS,
    load: [loadAverage(), Number.NaN],
    peakRss: 0,
    detect: [],
    falseFailures: 0,
    drops: {},
    wallS: 0,
  }
  const killed = new Map<string, number>()
  // Guard: RSS cap and real-time budget, checked every second and by every wait.
  let abort: string | undefined
  const deadline = wall + budgetS(n) * 1000
  const guard = setInterval(() => {
    const { rss } = usage(fleet.pids())
    r.peakRss = Math.max(r.peakRss, rss)
    if (rss > RSS_CAP) abort ??= `RSS ${gib(rss)} over the cap`
    if (Date.now() > deadline) abort ??= `over the ${budgetS(n)} s budget`
  }, 1_000)
  const until = async <T>(check: () => T | undefined, ms: number): Promise<T | undefined> => {
    const end = Math.min(Date.now() + ms, deadline)
    for (;;) {
      const value = check()
      if (value !== undefined) return value
      if (abort) throw new Error(abort)
      if (Date.now() >= end) return undefined
      await sleep(25)
    }
  }
  try {
    // Rollout: the seeds, then the rest (but the last) in batches, each joining one seed.
    const initial = all.slice(0, -1)
    const udp0 = readUdp()
    const t0 = await fleet.start(all[0] as string, [])
    for (const id of all.slice(1, SEEDS)) await fleet.start(id, [all[0] as string])
    const rest = initial.slice(SEEDS)
    const starts: Promise<number>[] = []
    const batches = rolloutMs(n) / 1000
    for (let b = 0; b < batches; b++) {
      const batch = rest.slice(
        Math.floor((b * rest.length) / batches),
        Math.floor(((b + 1) * rest.length) / batches),
      )
      for (const [i, id] of batch.entries()) {
        starts.push(fleet.start(id, [all[i % SEEDS] as string]))
      }
      await sleep(Math.max(0, t0 + (b + 1) * 1000 - Date.now()))
      if (abort) throw new Error(abort)
    }
    const started = await Promise.allSettled(starts)
    const failed = started.filter((s) => s.status === 'rejected')
    if (failed.length) {
      throw new Error(
        `${failed.length} starts failed: ${(failed[0] as PromiseRejectedResult).reason}`,
      )
    }
    const lastStart = Math.max(...started.map((s) => (s as PromiseFulfilledResult<number>).value))
    const full = await until(() => tally.fullAt(initial, initial.length - 1), budgetS(n) * 1000)
    r.drops.rollout = udpDelta(udp0, readUdp())
    if (full === undefined) {
      const p = tally.progress(initial, initial.length - 1)
      throw new Error(
        `rollout not converged: ${p.full} of ${initial.length} full, fewest ${p.fewest}, ${p.none} see nobody (${p.never} never saw anyone)`,
      )
    }
    r.rolloutMs = full - t0
    r.afterLastStartMs = Math.max(0, full - lastStart)
    r.rolloutCpuS = [...usage(fleet.pids()).cpuMs.values()].reduce((a, b) => a + b, 0) / 1000

    // One more join.
    const tJoin = await fleet.join(all.at(-1) as string)
    const joined = await until(() => tally.fullAt(all, n - 1), JOIN_MAX_MS)
    if (joined === undefined) {
      const p = tally.progress(all, n - 1)
      throw new Error(
        `join not converged: ${p.full} of ${n} full, fewest ${p.fewest}, ${p.none} see nobody (${p.never} never saw anyone)`,
      )
    }
    r.joinMs = joined - tJoin
    r.crossCheck = await fleet.crossCheck(all)

    // Idle.
    await sleep(SETTLE_MS)
    const lo0 = readLo()
    const udp1 = readUdp()
    const use0 = usage(fleet.pids())
    const own0 = await fleet.counters?.()
    const w0 = Date.now()
    await sleep(WINDOW_MS)
    const lo1 = readLo()
    const use1 = usage(fleet.pids())
    const own1 = await fleet.counters?.()
    r.drops.idle = udpDelta(udp1, readUdp())
    const seconds = (Date.now() - w0) / 1000
    if (lo0 && lo1) {
      r.loBytes = (lo1.bytes - lo0.bytes) / seconds / n
      r.loPackets = (lo1.packets - lo0.packets) / seconds / n
    }
    if (own0 && own1) r.ownBytes = (own1.bytesSent - own0.bytesSent) / seconds / n
    const cpuMs = cpuBetween(use0.cpuMs, use1.cpuMs)
    r.cores = cpuMs / 1000 / seconds
    r.cpuUs = (cpuMs * 1000) / seconds / n
    r.rssPerNode = use1.rss / n
    const empty = fleet.emptyRss?.() ?? 0
    r.rss = [use1.rss, empty]
    r.rssOverEmpty = (use1.rss - empty) / n
    const heap = await fleet.heapUsed?.()
    if (heap !== undefined) r.heapPerNode = heap / n
    r.suspicions = await fleet.suspicionsRaised()

    // Kills, one at a time.
    const udp2 = readUdp()
    for (const victim of victims) {
      const at = await fleet.kill(victim)
      killed.set(victim, at)
      const survivors = all.filter((id) => !killed.has(id))
      const times = await until(() => tally.detected(survivors, victim, at), DETECT_MAX_MS)
      if (times === undefined) {
        const by = tally.detectedBy(survivors, victim, at)
        throw new Error(`${victim} failed at ${by} of ${survivors.length} in ${DETECT_MAX_MS} ms`)
      }
      r.detect.push([times[0] as number, median(times), times.at(-1) as number])
      await sleep(KILL_GAP_MS)
    }
    r.drops.kills = udpDelta(udp2, readUdp())
  } catch (error) {
    r.error = (error as Error).message
  } finally {
    clearInterval(guard)
    r.falseFailures = tally.failures.filter(
      (f) => !(f.at >= (killed.get(f.member) ?? Infinity)),
    ).length
    r.load[1] = loadAverage()
    await fleet.close()
    r.wallS = (Date.now() - wall) / 1000
  }
  process.stderr.write(
    `  gossip sockets: ${impl} N=${n} ${r.error ? `failed: ${r.error}` : 'done'} (${r.wallS.toFixed(0)} s, peak RSS ${gib(r.peakRss)}, load ${r.load.join(' → ')})\n`,
  )
  return r
}

const budgetS = (n: number): number => rolloutMs(n) / 1000 + BUDGET_S
const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`
const int = (v: number | undefined): string =>
  v === undefined || Number.isNaN(v) ? '–' : Math.round(v).toLocaleString('en-US')
const dec = (v: number | undefined, digits = 1): string =>
  v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits)
const secs = (ms: number | undefined): string => (ms === undefined ? '–' : (ms / 1000).toFixed(2))
const kib = (bytes: number | undefined): string =>
  bytes === undefined ? '–' : Math.round(bytes / 1024).toLocaleString('en-US')
/** `median (min–max)` of the samples. */
const spread = (values: number[]): string => {
  if (values.length === 0) return '–'
  if (values.length === 1) return int(values[0])
  return `${int(median(values))} (${int(Math.min(...values))}–${int(Math.max(...values))})`
}
const drops = (u: UdpCounters | undefined): string =>
  u ? `${int(u.rcvbufErrors)} / ${int(u.inDatagrams)}` : '–'

function table(rows: Row[]): string[] {
  const lines = ['| N | measure | serf | rony |', '| ---: | --- | ---: | ---: |']
  const sizes = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b)
  for (const n of sizes) {
    const s = rows.find((r) => r.impl === 'serf' && r.n === n)
    const y = rows.find((r) => r.impl === 'rony' && r.n === n)
    const row = (label: string, f: (r: Row) => string): void => {
      lines.push(`| ${n} | ${label} | ${s ? f(s) : 'not run'} | ${y ? f(y) : 'not run'} |`)
    }
    row('processes', (r) => `${r.processes}`)
    row('rollout: all see all alive, s after the first start', (r) => secs(r.rolloutMs))
    row('rollout: the same, s after the last start', (r) => secs(r.afterLastStartMs))
    row('rollout: CPU of all processes, s', (r) => dec(r.rolloutCpuS))
    row('one more join: all see it, ms', (r) => int(r.joinMs))
    row(`failure detection, last survivor, ms (${KILLS} kills)`, (r) =>
      spread(r.detect.map((d) => d[2])),
    )
    row('failure detection, first / median survivor, ms (median)', (r) =>
      r.detect.length
        ? `${int(median(r.detect.map((d) => d[0])))} / ${int(median(r.detect.map((d) => d[1])))}`
        : '–',
    )
    row('false failures (whole run)', (r) => `${r.falseFailures}`)
    row('suspicions raised before the kills', (r) => int(r.suspicions))
    row('idle: loopback bytes/s per node', (r) => int(r.loBytes))
    row('idle: loopback packets/s per node', (r) => dec(r.loPackets))
    row('idle: CPU per node, µs per s', (r) => int(r.cpuUs))
    row('idle: CPU of the cluster, cores', (r) => dec(r.cores, 2))
    row('RSS per node, KiB (all processes / N)', (r) => kib(r.rssPerNode))
    row('RSS per node over the empty processes, KiB', (r) => kib(r.rssOverEmpty))
    row('V8 heap in use per node, KiB', (r) => kib(r.heapPerNode))
    row('peak RSS of the cluster, GiB', (r) => dec(r.peakRss / 2 ** 30, 2))
    row('UDP receive-buffer drops / datagrams in: rollout', (r) => drops(r.drops.rollout))
    row('UDP receive-buffer drops / datagrams in: idle', (r) => drops(r.drops.idle))
    row('UDP receive-buffer drops / datagrams in: kills', (r) => drops(r.drops.kills))
    row('load average (1 min) at start → end', (r) => `${dec(r.load[0], 2)} → ${dec(r.load[1], 2)}`)
    row('wall, s', (r) => int(r.wallS))
    row('error', (r) => r.error ?? (r.crossCheck ? `cross-check: ${r.crossCheck}` : 'ok'))
  }
  return lines
}

/** Why N should not grow past `r` (or undefined): it failed, or its RSS or CPU projects over the caps. */
function stopAfter(r: Row, next: number): string | undefined {
  if (r.error) return `N = ${r.n} failed`
  // Linear in N beyond the empty processes: at N ≤ 500 a node's sockets and state dwarf its
  // member table (so N² overshoots by far); the guard aborts a run that passes the cap anyway.
  const [rss, empty] = r.rss ?? [r.peakRss, 0]
  const processes = r.impl === 'serf' ? next / r.n : 1
  const projected = empty * processes + (rss - empty) * (next / r.n)
  if (projected > RSS_CAP) return `N = ${next} projects to ${gib(projected)} RSS`
  if ((r.cores ?? 0) * (next / r.n) > CPU_CAP * 2) {
    return `N = ${next} projects to ${dec((r.cores ?? 0) * (next / r.n), 2)} cores idle`
  }
  return undefined
}

async function run(): Promise<string> {
  const serf = serfVersion()
  const rows: Row[] = []
  const notes: string[] = []
  const stopped: Partial<Record<Impl, string>> = {}
  if (!serf) stopped.serf = 'serf not installed (apt-get install serf)'
  const sizes = [...new Set([...SIZES, ...SERF_SIZES])].sort((a, b) => a - b)
  for (const [i, n] of sizes.entries()) {
    const order: Impl[] = i % 2 ? ['rony', 'serf'] : ['serf', 'rony']
    for (const impl of order) {
      if (!(impl === 'serf' ? SERF_SIZES : SIZES).includes(n)) continue
      if (stopped[impl]) {
        notes.push(`${impl} N = ${n} not run: ${stopped[impl]}`)
        continue
      }
      const last = rows.findLast((r) => r.impl === impl)
      if (impl === 'serf' && !last && n * SERF_RSS_GUESS > RSS_CAP) {
        notes.push(
          `serf N = ${n} not run: ${n} agents × ${kib(SERF_RSS_GUESS)} KiB pass the RSS cap`,
        )
        continue
      }
      const why = last && stopAfter(last, n)
      if (why) {
        stopped[impl] = why
        notes.push(`${impl} N = ${n} not run: ${why}`)
        continue
      }
      rows.push(await measure(impl, n))
      await sleep(2_000)
    }
  }
  const lines = [
    `### ${gossipSocketsSuite.name}`,
    '',
    gossipSocketsSuite.description,
    '',
    `serf: ${serf ?? 'not installed'}${SERF_GOMAXPROCS ? ` (GOMAXPROCS=${SERF_GOMAXPROCS})` : ''}; profile \`${PROFILE}\` on both; rony: ${PROCS} processes of N / ${PROCS} nodes plus ${KILLS} victims alone; open files limit ${openFilesLimit()}; UDP receive buffer default ${readFileSync('/proc/sys/net/core/rmem_default', 'utf8').trim()} B; rollout ${JOINS_PER_S} joins/s (at least 20 s); RSS cap ${gib(RSS_CAP)}; budget the rollout + ${BUDGET_S} s per N and implementation.`,
    '',
    ...table(rows),
    ...(notes.length ? ['', ...notes.map((n) => `- ${n}`)] : []),
  ]
  return `${lines.join('\n')}\n`
}

export const gossipSocketsSuite: LoadSuite = {
  kind: 'load',
  name: 'gossip sockets: @rony/gossip vs serf at large N on 127.0.0.1',
  description: `@rony/gossip as ${PROCS} Node processes of N / ${PROCS} nodes each (plus ${KILLS} victims, each alone in its process) vs serf as one agent process per node, every node with its own UDP + TCP port on 127.0.0.1, \`${PROFILE}\` profile, one implementation after the other per N. **Rollout**: ${SEEDS} seeds, then N − ${SEEDS + 1} nodes joining one seed each, in batches a second apart at ${JOINS_PER_S} joins/s (\`RONY_BENCH_GOSSIP_SOCKETS_JOINS_PER_S\`; at least 20 s), until every node sees all others alive (serf: its log's \`EventMemberJoin\`; rony: \`member:join\`/\`member:leave\` counted per node in its process and timed there). **One more join** until all N see it. **Idle**: after ${SETTLE_MS / 1000} s, ${WINDOW_MS / 1000} s of loopback bytes/packets (/proc/net/dev \`lo\` tx) and CPU (utime + stime from /proc/<pid>/stat) of every cluster process, per node; RSS of every process (/proc) at its end. **Failure detection**: ${KILLS} SIGKILLs, ${KILL_GAP_MS / 1000} s apart, each until every survivor has the victim failed (first / median / last survivor). **False failures**: failed declarations of anyone not killed (or before its kill). **UDP drops**: /proc/net/snmp \`Udp RcvbufErrors\` (system-wide) per phase. Each run is bounded by a real-time budget (\`RONY_BENCH_GOSSIP_SOCKETS_BUDGET_S\`) and an RSS cap over its processes (\`RONY_BENCH_GOSSIP_SOCKETS_RSS_GB\`); N grows (\`RONY_BENCH_GOSSIP_SOCKETS_N\`, serf: \`RONY_BENCH_GOSSIP_SOCKETS_SERF_N\`) while the last size completed and its RSS and idle CPU (× N) project under the caps. Every process is SIGKILLed at the end, on failure and on Ctrl-C; serf agents also run under \`timeout\`.`,
  run,
}
