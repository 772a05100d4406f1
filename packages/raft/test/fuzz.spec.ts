/**
 * The Raft fuzzer in CI: a fixed range of seeded schedules (see fuzz-schedule.ts), sized to
 * stay within about a minute on a loaded two-core machine. `RAFT_FUZZ_SEED=<n>` runs that
 * one seed instead (with `RAFT_FUZZ_WATCH=<server>` to trace that server's messages and
 * writes); `node packages/raft/scripts/fuzz.ts` soaks many more seeds. The bugs the fuzzer
 * found are pinned as deterministic tests in fuzz-found.spec.ts.
 */
import { describe, expect, it } from 'vitest'
import { runSchedule } from './fuzz-schedule.js'

/** Seeds `FIRST_SEED` to `FIRST_SEED + SCHEDULES - 1` run in CI. */
const FIRST_SEED = 1
const SCHEDULES = 50

const replay = process.env.RAFT_FUZZ_SEED

describe.runIf(replay !== undefined)('raft fuzz replay', () => {
  it(`replays seed ${replay}`, async () => {
    const result = await runSchedule(Number(replay), { watch: process.env.RAFT_FUZZ_WATCH })
    console.log(result.ok ? result.summary : result.report)
    expect(result.failures).toEqual([])
  }, 300_000)
})

describe.runIf(replay === undefined)('raft fuzz', () => {
  it(`runs ${SCHEDULES} seeded schedules safely`, async () => {
    const started = performance.now()
    let ran = 0
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SCHEDULES; seed++) {
      const result = await runSchedule(seed)
      ran++
      if (!result.ok) throw new Error(`${result.report}\n(${ran} schedules ran)`)
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    console.log(
      `raft fuzz: ${ran} schedules (seeds ${FIRST_SEED}..${FIRST_SEED + ran - 1}), 0 violations, ${seconds} s`,
    )
  }, 180_000)

  it('replays a seed exactly', async () => {
    const [first, second] = [await runSchedule(7), await runSchedule(7)]
    expect(second.fingerprint).toBe(first.fingerprint)
  }, 60_000)
})
