/**
 * The soak runner of the Raft fuzzer: runs many seeded schedules (test/fuzz-schedule.ts, the
 * same code the spec runs) in worker threads, prints progress and throughput, and stops at
 * the first failure with its seed and report.
 *
 *   node scripts/fuzz.ts --from 1 --count 100000 [--workers 2] [--verbose] [--keep-going]
 *
 * `--keep-going` lists every failing seed (with its first failure) instead of stopping at
 * the first, to find the bugs a frequent one hides.
 *
 * Replay a failure with `RAFT_FUZZ_SEED=<seed> npx vitest run packages/raft/test/fuzz`.
 *
 * No build: the workers run the TypeScript sources through the workspace's module hooks
 * (scripts/ts-sources.ts, resolving as vitest's configuration does), so a seed behaves here
 * exactly as in the spec, and a stale `dist/` cannot make the soak test other code than the
 * sources.
 */
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker } from 'node:worker_threads'
import { registerSourceHooks } from '../../../scripts/ts-sources.ts'
import type { ScheduleResult } from '../test/fuzz-schedule.js'

/** What a worker reports per seed. */
interface Outcome {
  readonly seed: number
  readonly ok: boolean
  readonly summary: string
  readonly failures: readonly string[]
  readonly report: string
  /** The worker's heap after the schedule, in MiB (to spot a leak in long soaks). */
  readonly heapMiB: number
  /** Wall time the schedule took. */
  readonly ms: number
}

const PROGRESS_MS = 10_000

if (isMainThread) await main()
else await work()

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string', default: '1' },
      count: { type: 'string', default: '1000' },
      workers: { type: 'string', default: '2' },
      verbose: { type: 'boolean', default: false },
      'keep-going': { type: 'boolean', default: false },
    },
  })
  const from = Number(values.from)
  const count = Number(values.count)
  const workers = Number(values.workers)
  const keepGoing = values['keep-going']
  if (![from, count, workers].every(Number.isSafeInteger) || count < 1 || workers < 1) {
    throw new RangeError('--from, --count and --workers take integers (count, workers >= 1)')
  }
  const started = performance.now()
  let next = from
  let done = 0
  let heapMiB = 0
  let slowest = { seed: from, ms: 0 }
  const failures: Outcome[] = []
  // Ctrl-C (or a kill) ends the soak after the schedules in flight, with the summary.
  let interrupted = false
  const interrupt = (): void => {
    interrupted = true
  }
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt)
  const stopping = (): boolean => interrupted || (failures.length > 0 && !keepGoing)
  console.log(`fuzzing seeds ${from}..${from + count - 1} on ${workers} workers`)
  const progress = setInterval(() => {
    const seconds = (performance.now() - started) / 1000
    console.log(
      `${Math.round(seconds)} s: ${done}/${count} schedules, ${(done / seconds).toFixed(2)}/s, ` +
        `${failures.length} failed, next seed ${next}, slowest seed ${slowest.seed} ` +
        `(${Math.round(slowest.ms)} ms), worker heap ${heapMiB} MiB`,
    )
  }, PROGRESS_MS)

  const pool = Array.from({ length: Math.min(workers, count) }, () => {
    const worker = new Worker(new URL(import.meta.url))
    return new Promise<void>((resolve, reject) => {
      const dispatch = (): void => {
        if (stopping() || next >= from + count) {
          void worker.terminate().then(() => resolve())
          return
        }
        worker.postMessage(next++)
      }
      worker.on('message', (outcome: Outcome) => {
        done++
        heapMiB = Math.max(heapMiB, outcome.heapMiB)
        if (outcome.ms > slowest.ms) slowest = outcome
        if (values.verbose) console.log(outcome.summary)
        if (!outcome.ok && (keepGoing || failures.length === 0)) {
          failures.push(outcome)
          if (keepGoing) console.log(`FAILED seed ${outcome.seed}: ${outcome.failures[0]}`)
        }
        dispatch()
      })
      worker.on('error', reject)
      dispatch()
    })
  })
  try {
    await Promise.all(pool)
  } finally {
    clearInterval(progress)
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  if (!keepGoing && failures[0] !== undefined) console.log(failures[0].report)
  const seeds = failures.length === 0 ? '' : ` (seeds ${failures.map((f) => f.seed).join(', ')})`
  const violations = `${failures.length} violation${failures.length === 1 ? '' : 's'}`
  const stopped = interrupted ? ', interrupted' : ''
  console.log(`${done} schedules, ${violations}${seeds}, ${seconds} s${stopped}`)
  if (failures.length > 0) process.exitCode = 1
}

async function work(): Promise<void> {
  registerSourceHooks()
  const schedule: typeof import('../test/fuzz-schedule.js') = await import(
    new URL('../test/fuzz-schedule.ts', import.meta.url).href
  )
  parentPort!.on('message', async (seed: number) => {
    const started = performance.now()
    let result: Pick<ScheduleResult, 'ok' | 'summary' | 'failures' | 'report'>
    try {
      result = await schedule.runSchedule(seed)
    } catch (error) {
      const text = `seed ${seed}: the harness threw: ${(error as Error).stack ?? String(error)}`
      result = { ok: false, summary: text, failures: [text], report: text }
    }
    const heapMiB = Math.round(process.memoryUsage().heapUsed / 2 ** 20)
    const { ok, summary, failures, report } = result
    const ms = performance.now() - started
    parentPort!.postMessage({ seed, ok, summary, failures, report, heapMiB, ms } satisfies Outcome)
  })
}
