import type { NodeClient } from './clients.ts'
import { ms } from './table.ts'

export interface BenchOptions {
  /** Puts to send. */
  readonly count: number
  /** Puts in flight at once. */
  readonly concurrency: number
  /** Stop sending after this many milliseconds, whatever is left of `count`. */
  readonly maxMs: number
  /** Keys cycle through `bench/0` … `bench/<keys - 1>`, so a long run leaves few keys behind. */
  readonly keys: number
  readonly signal: AbortSignal
}

export interface BenchResult {
  readonly ok: number
  readonly failed: number
  readonly firstError: unknown
  readonly seconds: number
  /** Latencies of the successful puts in milliseconds, ascending. */
  readonly latencies: readonly number[]
  /** Stopped by the time bound or an abort before `count`. */
  readonly cut: boolean
}

/** Replicated `Kv.Put`s through one node, `concurrency` at a time. */
export async function bench(target: NodeClient, options: BenchOptions): Promise<BenchResult> {
  const latencies: number[] = []
  let next = 0
  let failed = 0
  let firstError: unknown
  const started = performance.now()
  const deadline = started + options.maxMs
  const stopped = () => options.signal.aborted || performance.now() >= deadline
  const worker = async () => {
    while (next < options.count && !stopped()) {
      const i = next++
      const sent = performance.now()
      try {
        await target.kv.put(
          { Key: `bench/${i % options.keys}`, Value: String(i) },
          { signal: options.signal, idempotent: true },
        )
        latencies.push(performance.now() - sent)
      } catch (error) {
        if (options.signal.aborted) return
        failed++
        firstError ??= error
      }
    }
  }
  const workers = Math.min(options.concurrency, options.count)
  await Promise.all(Array.from({ length: workers }, worker))
  latencies.sort((a, b) => a - b)
  return {
    ok: latencies.length,
    failed,
    firstError,
    seconds: (performance.now() - started) / 1000,
    latencies,
    cut: latencies.length + failed < options.count,
  }
}

/** The nearest-rank percentile `p` (0–100) of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

export function benchSummary(result: BenchResult): string {
  if (result.ok === 0) return `no put succeeded in ${result.seconds.toFixed(2)} s`
  const rate = result.ok / Math.max(result.seconds, 1e-9)
  const parts = [
    `${result.ok} puts in ${result.seconds.toFixed(2)} s: ${Math.round(rate)} ops/s`,
    `p50 ${ms(percentile(result.latencies, 50))}`,
    `p99 ${ms(percentile(result.latencies, 99))}`,
  ]
  if (result.failed > 0) parts.push(`${result.failed} failed`)
  return parts.join(', ')
}
