/**
 * Load tests over real sockets, for what tinybench (micro-benchmarks in one process) does
 * not fit: a server in a separate Node process, a load client here, fixed request counts
 * capped in time, latency percentiles and the server's memory.
 *
 * Every loop is bounded in count and in time, and every child process is stopped by PID
 * (SIGTERM, then SIGKILL after a grace period), also when a case fails or this process dies.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'

/** A suite that runs its own load test and renders its own markdown section. */
export interface LoadSuite {
  kind: 'load'
  name: string
  description: string
  run(): Promise<string>
}

// ---------------------------------------------------------------------------------------
// Child processes

export interface ServerStats {
  rss: number
  heapUsed: number
  /** Bytes V8 has committed for its young generation (it grows under allocation bursts). */
  newSpace: number
  external: number
  arrayBuffers: number
  /** User + system CPU time the server process used so far, µs. */
  cpuUs: number
  /** Whether a full GC ran before the figures were taken. */
  gc: boolean
}

export interface ServerProcess {
  name: string
  pid: number
  port: number
  url: string
  /** The server's own `process.memoryUsage()`, after a full GC when `gc` (needs --expose-gc). */
  stats(gc?: boolean): Promise<ServerStats>
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>
}

const SERVER_SCRIPT = new URL('./servers/ws-server.ts', import.meta.url).pathname
const live = new Set<ChildProcess>()

// Last resort: a crash of the bench process must not leave servers behind. (The servers
// also exit on their own when the IPC channel to this process closes.)
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

export interface SpawnOptions {
  /** Start the child with --expose-gc, so `stats(true)` can collect first. */
  exposeGc?: boolean
  /** Milliseconds to wait for the port line. Default 15 000. */
  readyTimeoutMs?: number
  /** Server script to run instead of `src/servers/ws-server.ts`, with the same protocol. */
  script?: string | undefined
}

/**
 * Starts `src/servers/ws-server.ts <kind>` in a new Node process and waits for its port.
 * With RONY_BENCH_SERVER_PROF=<dir> in the environment the child runs with --cpu-prof and
 * writes its profile into <dir> when it is stopped.
 */
export async function spawnServer(
  kind: string,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const execArgv: string[] = []
  if (options.exposeGc) execArgv.push('--expose-gc')
  const profDir = process.env.RONY_BENCH_SERVER_PROF
  if (profDir)
    execArgv.push(
      '--cpu-prof',
      `--cpu-prof-dir=${profDir}`,
      `--cpu-prof-name=${kind}-${Date.now()}.cpuprofile`,
    )
  const child = spawn(process.execPath, [...execArgv, options.script ?? SERVER_SCRIPT, kind], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  live.add(child)
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  void exited.then(() => live.delete(child))

  const stop = async (graceMs = 5000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL')
        resolve()
      }, graceMs)
    })
    await Promise.race([exited, killed])
    clearTimeout(timer)
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))])
  }

  let port: number
  try {
    port = await new Promise<number>((resolve, reject) => {
      let buffered = ''
      const timer = setTimeout(
        () =>
          reject(new Error(`${kind} server: no port within ${options.readyTimeoutMs ?? 15000} ms`)),
        options.readyTimeoutMs ?? 15000,
      )
      child.stdout?.setEncoding('utf8')
      child.stdout?.on('data', (chunk: string) => {
        buffered += chunk
        const newline = buffered.indexOf('\n')
        if (newline < 0) return
        clearTimeout(timer)
        try {
          resolve((JSON.parse(buffered.slice(0, newline)) as { port: number }).port)
        } catch (error) {
          reject(error)
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`${kind} server exited before it was ready (${code ?? signal})`))
      })
      child.once('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
    })
  } catch (error) {
    await stop(1000)
    throw error
  }

  const stats = (gc = false): Promise<ServerStats> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', onMessage)
        reject(new Error(`${kind} server: no stats within 10 s`))
      }, 10_000)
      const onMessage = (message: { type?: string } & ServerStats): void => {
        if (message?.type !== 'stats') return
        clearTimeout(timer)
        child.off('message', onMessage)
        resolve(message)
      }
      child.on('message', onMessage)
      child.send({ type: 'stats', gc })
    })

  return {
    name: kind,
    pid: child.pid ?? -1,
    port,
    url: `ws://127.0.0.1:${port}/`,
    stats,
    stop,
  }
}

// ---------------------------------------------------------------------------------------
// Load client: raw `ws` sockets, one frame per request, replies matched in order (FIFO)

/** Opens one `ws` client socket (no permessage-deflate), bounded by `timeoutMs`. */
export function openSocket(url: string, timeoutMs = 10_000): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs })
    const onError = (error: Error): void => {
      socket.off('open', onOpen)
      socket.terminate()
      reject(error)
    }
    const onOpen = (): void => {
      socket.off('error', onError)
      resolve(socket)
    }
    socket.once('open', onOpen)
    socket.once('error', onError)
  })
}

export interface PhaseLimits {
  /** Requests to complete (all connections together). */
  count: number
  /** Stop sending after this many ms even if `count` was not reached. */
  maxMs: number
}

export interface PhaseResult {
  completed: number
  /** Replies that `isReply` rejected (for example an error envelope). */
  bad: number
  elapsedMs: number
  /** `maxMs` passed before `count` requests completed. */
  capped: boolean
  /** Per-request round-trip times in µs, in completion order. */
  latenciesUs: Float64Array
  /** Server CPU time (user + system) during the phase, µs, when measured. */
  serverCpuUs?: number | undefined
  /** This process's CPU time (user + system) during the phase, µs: the load client's. */
  clientCpuUs?: number | undefined
}

/**
 * `workers` loops, each awaiting one `request()` at a time, until `limits.count` requests
 * were sent or `limits.maxMs` passed (then `capped`). `request` resolves true for a good
 * reply; 100 bad ones end the phase. Latencies are of the good replies, in µs.
 */
export async function requestLoops(
  workers: number,
  limits: PhaseLimits,
  request: () => Promise<boolean>,
): Promise<PhaseResult> {
  const latencies = new Float64Array(limits.count)
  let sent = 0
  let completed = 0
  let bad = 0
  let capped = false
  const start = performance.now()
  const deadline = start + limits.maxMs
  let end = start
  const worker = async (): Promise<void> => {
    while (sent < limits.count && bad < 100) {
      if (performance.now() > deadline) {
        capped = true
        return
      }
      sent++
      const t = performance.now()
      const ok = await request()
      end = performance.now()
      if (ok) latencies[completed++] = (end - t) * 1000
      else bad++
    }
  }
  await Promise.all(Array.from({ length: workers }, worker))
  return {
    completed,
    bad,
    elapsedMs: end - start,
    capped,
    latenciesUs: latencies.subarray(0, completed),
  }
}

/**
 * Keeps `window` requests in flight on each socket: sends `window` frames, then one more
 * per reply, until `count` requests completed (or `maxMs` passed, then it only drains).
 * Every request is the same `request` bytes; a socket's replies come back in order, so the
 * oldest send time is the reply's. Rejects when a socket closes or nothing arrives for a
 * drain grace after the cap.
 */
export function runPhase(
  sockets: WebSocket[],
  request: Uint8Array,
  window: number,
  limits: PhaseLimits,
  isReply: (bytes: Uint8Array) => boolean,
): Promise<PhaseResult> {
  const latencies = new Float64Array(limits.count)
  let sent = 0
  let completed = 0
  let bad = 0
  let capped = false
  const start = performance.now()
  const deadline = start + limits.maxMs
  let end = start

  return new Promise<PhaseResult>((resolve, reject) => {
    const cleanups: (() => void)[] = []
    let settled = false
    const finish = (error?: Error): void => {
      if (settled) return
      settled = true
      clearTimeout(watchdog)
      for (const cleanup of cleanups) cleanup()
      if (error) reject(error)
      else
        resolve({
          completed,
          bad,
          elapsedMs: end - start,
          capped,
          latenciesUs: latencies.subarray(0, completed),
        })
    }
    // Hard bound: the cap plus a grace for the requests still in flight.
    const watchdog = setTimeout(
      () =>
        finish(
          new Error(
            `load phase did not drain: ${sent - completed} requests unanswered ${limits.maxMs + 5000} ms after the start`,
          ),
        ),
      limits.maxMs + 5000,
    )
    let outstanding = 0
    for (const socket of sockets) {
      // Send times of this socket's requests in flight, a ring buffer of `window` slots.
      const times = new Float64Array(window)
      let head = 0
      let tail = 0
      let inFlight = 0
      const sendOne = (): void => {
        sent++
        inFlight++
        outstanding++
        times[tail] = performance.now()
        tail = tail + 1 === window ? 0 : tail + 1
        socket.send(request)
      }
      const onMessage = (data: Buffer): void => {
        const now = performance.now()
        if (inFlight === 0) {
          bad++ // an unsolicited message (e.g. a push): not a reply to us
          return
        }
        const rtt = now - (times[head] as number)
        head = head + 1 === window ? 0 : head + 1
        inFlight--
        outstanding--
        if (isReply(data)) {
          latencies[completed++] = rtt * 1000
          end = now
        } else {
          bad++
          end = now
        }
        if (now > deadline) capped = true
        if (!capped && sent < limits.count) sendOne()
        else if (outstanding === 0) finish()
      }
      const onClose = (code: number): void =>
        finish(new Error(`socket closed during the load phase (code ${code})`))
      socket.on('message', onMessage)
      socket.on('close', onClose)
      cleanups.push(() => {
        socket.off('message', onMessage)
        socket.off('close', onClose)
      })
      for (let i = 0; i < window && sent < limits.count; i++) sendOne()
    }
    if (outstanding === 0) finish()
  })
}

/** One subject of a load shape with its connection(s) open: runs phases on them. */
export interface LoadSession {
  readonly server: ServerProcess
  phase(limits: PhaseLimits): Promise<PhaseResult>
  close(): Promise<void>
}

/** Consecutive phases of one session as one. */
function mergePhases(phases: PhaseResult[]): PhaseResult {
  const latencies = new Float64Array(phases.reduce((n, p) => n + p.completed, 0))
  let offset = 0
  for (const p of phases) {
    latencies.set(p.latenciesUs, offset)
    offset += p.completed
  }
  return {
    completed: offset,
    bad: phases.reduce((n, p) => n + p.bad, 0),
    elapsedMs: phases.reduce((n, p) => n + p.elapsedMs, 0),
    capped: phases.some((p) => p.capped),
    latenciesUs: latencies,
    serverCpuUs: phases.reduce((n, p) => n + (p.serverCpuUs ?? 0), 0),
    clientCpuUs: phases.reduce((n, p) => n + (p.clientCpuUs ?? 0), 0),
  }
}

/**
 * One round of a shape: each session warmed up, then `blocks` blocks of `limits.count /
 * blocks` requests (and `limits.maxMs / blocks`) in which the sessions take turns, in an
 * order rotated by `rotation` and by block. So a drift of this shared machine's speed
 * within the round reaches every subject alike, rather than whichever ran at the time:
 * for serial latencies (seconds per phase) that drift is larger than the differences
 * measured. The server's CPU time is taken around each block, and this process's (the
 * load client's) around the block alone. With one block per round (pipelined shapes), this
 * process collects its garbage before each session's phase (with --expose-gc, as `pnpm
 * bench` runs it), so the garbage one client left is not collected during the next one's
 * phase: in rotated order the same subject follows the same one in most rounds. Results
 * in session order.
 */
export async function interleavedRound(
  sessions: LoadSession[],
  warmup: PhaseLimits,
  limits: PhaseLimits,
  blocks: number,
  rotation: number,
): Promise<PhaseResult[]> {
  for (const session of sessions) await session.phase(warmup)
  const block = {
    count: Math.ceil(limits.count / blocks),
    maxMs: limits.maxMs / blocks,
  }
  const phases = sessions.map((): PhaseResult[] => [])
  for (let b = 0; b < blocks; b++) {
    for (let k = 0; k < sessions.length; k++) {
      const i = (k + rotation + b) % sessions.length
      const session = sessions[i] as LoadSession
      if (blocks === 1) collectGarbage?.()
      const before = (await session.server.stats()).cpuUs
      const client = process.cpuUsage()
      const phase = await session.phase(block)
      const used = process.cpuUsage(client)
      phase.serverCpuUs = (await session.server.stats()).cpuUs - before
      phase.clientCpuUs = used.user + used.system
      phases[i]?.push(phase)
    }
  }
  return phases.map(mergePhases)
}

/** A full GC of this process, when Node runs with --expose-gc. */
const collectGarbage = (globalThis as { gc?: () => void }).gc

/** One shape of a load suite: who is measured, how, and how long. */
export interface ShapeRun {
  measure: string
  /** The first is the baseline the others' ratios are given against. */
  subjects: readonly string[]
  /** Connects a subject's client(s) to its server; called afresh every round. */
  open(subject: string): Promise<LoadSession>
  warmup: PhaseLimits
  limits: PhaseLimits
  /** Blocks per round (see `interleavedRound`). */
  blocks: number
  rounds: number
}

/** A shape's rows, one per subject: `rounds` interleaved rounds, sessions closed after each. */
export async function measureShape(shape: ShapeRun): Promise<LoadRow[]> {
  const [baseline] = shape.subjects
  const rows = shape.subjects.map(
    (subject): LoadRow => ({
      measure: shape.measure,
      subject,
      rounds: [],
      compareTo: subject === baseline ? undefined : baseline,
    }),
  )
  for (let round = 0; round < shape.rounds; round++) {
    const sessions: LoadSession[] = []
    try {
      for (const subject of shape.subjects) sessions.push(await shape.open(subject))
      const phases = await interleavedRound(
        sessions,
        shape.warmup,
        shape.limits,
        shape.blocks,
        round,
      )
      for (const [i, row] of rows.entries()) {
        row.rounds.push(roundOf(phases[i] as PhaseResult))
        row.rss = (await (sessions[i] as LoadSession).server.stats()).rss
      }
    } finally {
      await Promise.all(sessions.map((session) => session.close()))
    }
  }
  return rows
}

// ---------------------------------------------------------------------------------------
// Figures and the markdown table

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] as number
}

/** One measured phase reduced to its figures. */
export interface Round {
  completed: number
  bad: number
  capped: boolean
  msgPerSec: number
  p50Us: number
  p99Us: number
  /** Server CPU (user + system) per completed request, µs; NaN when not measured. */
  cpuUsPerMsg: number
  /** The load client's CPU (this process) per completed request, µs; NaN when not measured. */
  clientCpuUsPerMsg: number
}

export function roundOf(phase: PhaseResult): Round {
  const sorted = Float64Array.from(phase.latenciesUs).sort()
  return {
    completed: phase.completed,
    bad: phase.bad,
    capped: phase.capped,
    msgPerSec: phase.elapsedMs > 0 ? (phase.completed / phase.elapsedMs) * 1000 : 0,
    p50Us: percentile(sorted, 50),
    p99Us: percentile(sorted, 99),
    cpuUsPerMsg:
      phase.serverCpuUs === undefined || phase.completed === 0
        ? Number.NaN
        : phase.serverCpuUs / phase.completed,
    clientCpuUsPerMsg:
      phase.clientCpuUs === undefined || phase.completed === 0
        ? Number.NaN
        : phase.clientCpuUs / phase.completed,
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const mid = sorted.length >> 1
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Several rounds of one case; the table shows medians, ratios are paired per round. */
export interface LoadRow {
  /** What the row measures (the same for the rows compared against each other). */
  measure: string
  /** Who served (and which client), e.g. 'raw ws' or 'rony edge'. */
  subject: string
  rounds: Round[]
  /** Server RSS after the last round, bytes. */
  rss?: number | undefined
  /** The `subject` of the row (same `measure`) that ratios are given against. */
  compareTo?: string | undefined
}

type Figure = 'msgPerSec' | 'p50Us' | 'p99Us' | 'cpuUsPerMsg' | 'clientCpuUsPerMsg'

export const rowMedian = (row: LoadRow, key: Figure): number =>
  median(row.rounds.map((r) => r[key]))

/** Per-round ratios `row / base` of `key`, round i against round i. */
export function pairedRatios(row: LoadRow, base: LoadRow, key: Figure): number[] {
  const n = Math.min(row.rounds.length, base.rounds.length)
  return Array.from(
    { length: n },
    (_, i) => (row.rounds[i] as Round)[key] / (base.rounds[i] as Round)[key],
  )
}

export function findRow(rows: LoadRow[], measure: string, subject: string): LoadRow {
  const row = rows.find((r) => r.measure === measure && r.subject === subject)
  if (!row) throw new Error(`no row ${subject} / ${measure}`)
  return row
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US')
const us = (n: number): string => (Number.isNaN(n) ? '–' : n >= 1000 ? int(n) : n.toFixed(1))
export const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1)

/** `median× (min–max)` of paired ratios. */
export function ratioText(ratios: number[]): string {
  if (ratios.length === 0) return '–'
  const m = median(ratios).toFixed(2)
  if (ratios.length === 1) return `${m}×`
  return `${m}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`
}

export function loadTable(rows: LoadRow[], reference: string): string[] {
  const lines = [
    `| measure | server / client | rounds × requests | msg/s | p50 µs | p99 µs | server CPU µs/msg | client CPU µs/msg | server RSS after (MiB) | msg/s vs ${reference} | p50 vs ${reference} | server CPU/msg vs ${reference} |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const row of rows) {
    const base = row.compareTo ? findRow(rows, row.measure, row.compareTo) : undefined
    const bad = row.rounds.reduce((n, r) => n + r.bad, 0)
    const capped = row.rounds.filter((r) => r.capped).length
    const notes = [
      capped ? `${capped} capped at the time limit` : '',
      bad ? `${bad} bad replies` : '',
    ]
      .filter(Boolean)
      .join(', ')
    const counts = [...new Set(row.rounds.map((r) => r.completed))].map(int).join('/')
    lines.push(
      `| ${row.measure} | ${row.subject} | ${row.rounds.length} × ${counts}${notes ? ` (${notes})` : ''} | ${int(rowMedian(row, 'msgPerSec'))} | ${us(rowMedian(row, 'p50Us'))} | ${us(rowMedian(row, 'p99Us'))} | ${us(rowMedian(row, 'cpuUsPerMsg'))} | ${us(rowMedian(row, 'clientCpuUsPerMsg'))} | ${row.rss === undefined ? '–' : mib(row.rss)} | ${base ? ratioText(pairedRatios(row, base, 'msgPerSec')) : '1.00×'} | ${base ? ratioText(pairedRatios(row, base, 'p50Us')) : '1.00×'} | ${base ? ratioText(pairedRatios(row, base, 'cpuUsPerMsg')) : '1.00×'} |`,
    )
  }
  return lines
}

export interface GoalLine {
  text: string
  met: boolean
}

/** The goal line for rows whose rounds fell short (an error reply, or the time cap); none when all completed. */
export function incompleteRoundsGoal(rows: readonly LoadRow[]): GoalLine[] {
  const failed = rows.filter((row) => row.rounds.some((r) => r.bad > 0 || r.capped))
  if (failed.length === 0) return []
  return [
    {
      text: `every round completed its full count with valid replies (not: ${failed.map((r) => `${r.subject} / ${r.measure}`).join('; ')})`,
      met: false,
    },
  ]
}

export const goalLines = (goals: GoalLine[]): string[] =>
  goals.map((g) => `- ${g.met ? '✅' : '❌'} goal: ${g.text}`)
