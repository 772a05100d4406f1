/**
 * Exactly once under faults: clients with a session re-send an increment that failed or
 * timed out, with the same request id, to another edge; the replicated counter ends equal
 * on every replica, at least the acknowledged increments and at most those plus the ones
 * whose outcome stayed unknown. `SEEDS=n` runs n seeds per size, `SEED=s` one.
 */
import { describe, expect, it } from 'vitest'
import { runCounterSchedule } from './schedule.js'
import { seeds } from './seeds.js'

describe('an increment counter under client re-sends applies each once (simulation)', () => {
  for (const [size, count] of [
    [3, 40],
    [5, 20],
  ] as const) {
    it(`${size} edges, ${count} seeds`, { timeout: 120_000 }, async () => {
      for (const seed of seeds(count, size * 1000 + 500)) {
        const result = await runCounterSchedule({ seed, size })
        if (process.env.SIM_VERBOSE) console.log(result.summary)
        expect(result.failures, result.summary).toEqual([])
      }
    })
  }
})
