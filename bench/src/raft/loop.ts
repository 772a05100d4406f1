/**
 * The load loop both sides of the Raft suite run in their own process: the Rony leader
 * (proposals and ReadIndex calls in-process) and the etcd client process (gRPC calls to the
 * etcd leader). Same shape on both: `inFlight` operations outstanding, one more started as
 * each completes, until `count` completed or `maxMs` passed (then `capped`), after a
 * warm-up of the same shape. Latency of each good operation in µs; figures computed here,
 * so only a few numbers cross the IPC channel.
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'

export type LoadKind = 'propose' | 'read'

/** `{ type: 'load', ... }`: one measured phase, sent to a load process over IPC. */
export interface LoadRequest {
  type: 'load'
  req: number
  kind: LoadKind
  inFlight: number
  count: number
  maxMs: number
  /** A warm-up of the same shape first, not measured: this long, at most `count` operations. */
  warmupMs: number
  /** Return every latency too (`LoadResult.latenciesUs`), for a caller that merges phases. */
  latencies?: boolean | undefined
}

export interface LoadResult {
  type: 'load'
  req: number
  completed: number
  /** Operations that failed (rejected, or a reply that did not check out). */
  bad: number
  /** The first failure's message, if any. */
  firstError?: string | undefined
  elapsedMs: number
  capped: boolean
  opsPerSec: number
  p50Us: number
  p99Us: number
  /** This process's CPU time (user + system) over the measured phase, µs. */
  cpuUs: number
  /** Another process's CPU time over the phase (the etcd leader's, from /proc), µs. */
  otherCpuUs?: number | undefined
  /** Each good operation's latency, µs, in completion order (when asked for). */
  latenciesUs?: number[] | undefined
}

/** One operation: resolves true for a good reply, false (or rejects) for a bad one. */
export type Operation = (seq: number) => Promise<boolean>

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] as number
}

interface Phase {
  completed: number
  bad: number
  firstError?: string | undefined
  elapsedMs: number
  capped: boolean
  latenciesUs: Float64Array
}

/** `inFlight` concurrent loops of `op`, bounded by `count` and `maxMs`; 100 failures end it. */
async function phase(
  inFlight: number,
  count: number,
  maxMs: number,
  op: Operation,
  seq0: number,
): Promise<Phase> {
  const latencies = new Float64Array(count)
  let started = 0
  let completed = 0
  let bad = 0
  let firstError: string | undefined
  let capped = false
  const start = performance.now()
  const deadline = start + maxMs
  let end = start
  const worker = async (): Promise<void> => {
    while (started < count && bad < 100) {
      const t = performance.now()
      if (t > deadline) {
        capped = true
        return
      }
      const seq = seq0 + started++
      let ok = false
      try {
        ok = await op(seq)
      } catch (error) {
        firstError ??= (error as Error)?.message ?? String(error)
      }
      end = performance.now()
      if (ok) latencies[completed++] = (end - t) * 1000
      else bad++
    }
  }
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker))
  return {
    completed,
    bad,
    firstError,
    elapsedMs: end - start,
    capped,
    latenciesUs: latencies.subarray(0, completed),
  }
}

let seq = 0

/** Runs the warm-up, then the measured phase, and reduces it to a {@link LoadResult}. */
export async function runLoad(
  request: LoadRequest,
  op: (kind: LoadKind) => Operation,
  otherCpu?: () => number | undefined,
): Promise<LoadResult> {
  const operation = op(request.kind)
  if (request.warmupMs > 0) {
    const warm = await phase(request.inFlight, request.count, request.warmupMs, operation, seq)
    seq += warm.completed + warm.bad
  }
  const other0 = otherCpu?.()
  const cpu0 = process.cpuUsage()
  const measured = await phase(request.inFlight, request.count, request.maxMs, operation, seq)
  const cpu = process.cpuUsage(cpu0)
  const other1 = otherCpu?.()
  seq += measured.completed + measured.bad
  const sorted = Float64Array.from(measured.latenciesUs).sort()
  return {
    type: 'load',
    req: request.req,
    completed: measured.completed,
    bad: measured.bad,
    firstError: measured.firstError,
    elapsedMs: measured.elapsedMs,
    capped: measured.capped,
    opsPerSec: measured.elapsedMs > 0 ? (measured.completed / measured.elapsedMs) * 1000 : 0,
    p50Us: percentile(sorted, 50),
    p99Us: percentile(sorted, 99),
    cpuUs: cpu.user + cpu.system,
    otherCpuUs: other0 !== undefined && other1 !== undefined ? other1 - other0 : undefined,
    latenciesUs: request.latencies ? Array.from(measured.latenciesUs) : undefined,
  }
}

/** Keys as etcd's benchmark writes them: a fixed-size key from a bounded key space. */
export const KEY_BYTES = 16
export const VALUE_BYTES = 64
export const KEY_SPACE = 1024

/** The key of operation `seq`: `bench/k000000042`, 16 ASCII bytes. */
export const keyText = (seq: number): string =>
  `bench/k${String(seq % KEY_SPACE).padStart(KEY_BYTES - 7, '0')}`

/** A 64-byte value (the same bytes every time; the content does not matter to either side). */
export const VALUE = new Uint8Array(VALUE_BYTES).fill(0x61)

/**
 * One precomputed payload per key, so that neither client spends time building requests:
 * `table(build)[seq % KEY_SPACE]`. Payloads are never mutated after they are built.
 */
export function perKey<T>(build: (key: Uint8Array) => T): T[] {
  const text = new TextEncoder()
  return Array.from({ length: KEY_SPACE }, (_, i) => build(text.encode(keyText(i))))
}

/**
 * Handles the IPC requests of a load process: `load` runs a phase (one at a time), anything
 * else goes to `other`. Exits when the parent goes away.
 */
export function serveLoads(
  op: (kind: LoadKind) => Operation,
  other: (message: { type?: string; req?: number }) => void,
  onExit: () => Promise<void>,
  otherCpu?: () => number | undefined,
): void {
  let exiting = false
  const exit = (): void => {
    if (exiting) return
    exiting = true
    const hard = setTimeout(() => process.exit(0), 3000)
    hard.unref()
    onExit().finally(() => process.exit(0))
  }
  process.once('SIGTERM', exit)
  process.once('SIGINT', exit)
  process.on('disconnect', exit)
  let running: Promise<unknown> = Promise.resolve()
  process.on('message', (message: { type?: string; req?: number }) => {
    if (message?.type !== 'load') {
      other(message)
      return
    }
    running = running.then(() =>
      runLoad(message as LoadRequest, op, otherCpu).then(
        (result) => process.connected && process.send?.(result),
        (error: unknown) =>
          process.connected &&
          process.send?.({ type: 'error', req: message.req, message: String(error) }),
      ),
    )
  })
}

/** User + system CPU time of a process so far, µs (from /proc; clock ticks of 10 ms). */
export function processCpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (in parentheses, which may contain spaces): utime is
    // field 14 and stime field 15 of the line, in clock ticks (USER_HZ, 100 on Linux).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6
  } catch {
    return undefined
  }
}
