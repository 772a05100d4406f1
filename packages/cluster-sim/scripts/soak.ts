/**
 * The soak runner of the clustered edge's fault schedules (test/schedule.ts, the code the
 * specs run): many seeds, one after another, progress every 10 s, and a stop at the first
 * failing seed with its report.
 *
 *   node packages/cluster-sim/scripts/soak.ts --seeds 100000 [--from 1] [--size 3|5]
 *     [--scenario kv|counter] [--duration 3000] [--minutes 60] [--keep-going] [--verbose]
 *
 * Without `--size` each seed runs on 3 and on 5 edges; without `--scenario` both the
 * linearizable key-value schedule and the exactly-once counter. `--duration` is the
 * simulated time clients and faults run per schedule, in ms (default 3000, as in the specs;
 * replay a failure found with another one with `SIM_DURATION`). `--minutes` bounds the wall time
 * (default 60). `--keep-going` prints every failing schedule's first failure and goes on, to
 * find the bugs a frequent one hides. Replay a failure with
 * `SEED=<seed> [SIM_DURATION=<ms>] ./node_modules/.bin/vitest run packages/cluster-sim/test/linearizable.spec.ts`
 * (or exactly-once.spec.ts).
 *
 * No build: the workspace's module hooks (scripts/ts-sources.ts) load the TypeScript sources
 * as vitest.config.ts does, so a seed behaves here exactly as in the specs.
 */
import { parseArgs } from 'node:util'
import { registerSourceHooks } from '../../../scripts/ts-sources.ts'
import type { ScheduleInit, ScheduleResult } from '../test/schedule.js'

const PROGRESS_MS = 10_000

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1000' },
    from: { type: 'string', default: '1' },
    size: { type: 'string' },
    scenario: { type: 'string' },
    minutes: { type: 'string', default: '60' },
    duration: { type: 'string', default: '3000' },
    verbose: { type: 'boolean', default: false },
    'keep-going': { type: 'boolean', default: false },
  },
})
const count = Number(values.seeds)
const from = Number(values.from)
const minutes = Number(values.minutes)
const duration = Number(values.duration)
const sizes = values.size === undefined ? [3, 5] : [Number(values.size)]
const scenarios = values.scenario === undefined ? ['kv', 'counter'] : [values.scenario]
if (![count, from, duration].every(Number.isSafeInteger) || count < 1 || !(minutes > 0)) {
  throw new RangeError(
    '--seeds, --from and --duration take integers (seeds >= 1), --minutes a positive number',
  )
}
if (!sizes.every((s) => s === 3 || s === 5)) throw new RangeError('--size is 3 or 5')
if (!scenarios.every((s) => s === 'kv' || s === 'counter')) {
  throw new RangeError('--scenario is kv or counter')
}

registerSourceHooks()
const schedule: typeof import('../test/schedule.js') = await import(
  new URL('../test/schedule.ts', import.meta.url).href
)
const run: Record<string, (init: ScheduleInit) => Promise<ScheduleResult>> = {
  kv: schedule.runKvSchedule,
  counter: schedule.runCounterSchedule,
}

const started = performance.now()
const deadline = started + minutes * 60_000
let done = 0
let seed = from
let failed: { scenario: string; result: ScheduleResult } | undefined
let failures = 0
let interrupted = false
process.once('SIGINT', () => {
  interrupted = true
})
console.log(`soaking seeds ${from}..${from + count - 1}: ${scenarios} on ${sizes} edges`)
let lastProgress = started
for (; seed < from + count && !failed && !interrupted; seed++) {
  if (performance.now() > deadline) break
  for (const scenario of scenarios) {
    for (const size of sizes) {
      const result = await (run[scenario] as (init: ScheduleInit) => Promise<ScheduleResult>)({
        seed,
        size,
        duration,
      })
      done++
      if (values.verbose) console.log(`${scenario} ${result.summary}`)
      if (result.failures.length === 0) continue
      failures++
      if (values['keep-going']) {
        console.log(
          `FAILED: ${scenario} ${result.summary}\n  ${result.failures[0]?.split('\n')[0]}`,
        )
      } else failed ??= { scenario, result }
    }
  }
  if (performance.now() - lastProgress > PROGRESS_MS) {
    lastProgress = performance.now()
    const seconds = (lastProgress - started) / 1000
    const heap = Math.round(process.memoryUsage().heapUsed / 2 ** 20)
    console.log(
      `${Math.round(seconds)} s: seed ${seed}, ${done} schedules, ${failures} failed, ${(done / seconds).toFixed(1)}/s, heap ${heap} MiB`,
    )
  }
}
const seconds = ((performance.now() - started) / 1000).toFixed(1)
if (failed) {
  console.log(`FAILED: ${failed.scenario} ${failed.result.summary}`)
  console.log(failed.result.failures.join('\n\n'))
  process.exitCode = 1
}
if (failures > 0) process.exitCode = 1
const why = interrupted ? ', interrupted' : seed < from + count && !failed ? ', out of time' : ''
console.log(
  `${done} schedules (seeds ${from}..${seed - 1}), ${failed ? `first failing seed ${failed.result.seed}` : `${failures} failed`}, ${seconds} s${why}`,
)
