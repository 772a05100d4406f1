/**
 * The clustered edge's key-value history under seeded faults (crashes, restarts with kept
 * storage, partitions, Raft and gossip message loss and duplication) is linearizable, and
 * every replica ends with the same data. `SEEDS=n` runs n seeds per size, `SEED=s` one,
 * `SIM_DURATION=ms` the simulated time of each schedule (default 3000);
 * `SIM_VERBOSE=1` prints a line per seed.
 */
import { describe, expect, it } from 'vitest'
import { runKvSchedule } from './schedule.js'
import { duration, seeds } from './seeds.js'

describe('linearizable key-value under faults (simulation)', () => {
  for (const [size, count] of [
    [3, 70],
    [5, 35],
  ] as const) {
    it(`${size} edges, ${count} seeds`, { timeout: 120_000 }, async () => {
      for (const seed of seeds(count, size * 1000)) {
        const result = await runKvSchedule({ seed, size, duration })
        if (process.env.SIM_VERBOSE) console.log(result.summary)
        expect(result.failures, result.summary).toEqual([])
      }
    })
  }
})
