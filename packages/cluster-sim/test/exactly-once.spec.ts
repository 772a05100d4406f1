/**
 * Exactly once under faults: clients with a session re-send an increment that failed or
 * timed out, with the same request id, to another edge; the replicated counter ends equal
 * on every replica, at least the acknowledged increments and at most those plus the ones
 * whose outcome stayed unknown. `SEEDS=n` runs n seeds per size, `SEED=s` one,
 * `SIM_DURATION=ms` sets the simulated time of each schedule (default 3000).
 */
import { describe, expect, it } from 'vitest'
import { runCounterSchedule } from './schedule.js'
import { duration, seeds } from './seeds.js'

describe('an increment counter under client re-sends applies each once (simulation)', () => {
  for (const [size, count] of [
    [3, 40],
    [5, 20],
  ] as const) {
    it(`${size} edges, ${count} seeds`, { timeout: 120_000 }, async () => {
      for (const seed of seeds(count, size * 1000 + 500)) {
        const result = await runCounterSchedule({ seed, size, duration })
        if (process.env.SIM_VERBOSE) console.log(result.summary)
        expect(result.failures, result.summary).toEqual([])
      }
    })
  }

  // Regression: a follower forwarded a request to a leader it could not reach; the frame
  // waited in its peer link's queue while the follower, leader now, committed the request
  // itself and answered it. 15 s later the link redialed and the stale frame reached the old
  // leader's next lifetime, which proposed it once more after the session's answer had been
  // evicted, so the increment applied twice. Two guards now: the tunnel withdraws a
  // request's frame still queued when the request ends, and the session table refuses a
  // request older than its session's window (E12/SESSION) instead of running it.
  it('seed 60192 on 3 edges, 15 s of faults: no increment applies twice', {
    timeout: 120_000,
  }, async () => {
    const result = await runCounterSchedule({ seed: 60192, size: 3, duration: 15_000 })
    expect(result.failures, result.summary).toEqual([])
  })
})
