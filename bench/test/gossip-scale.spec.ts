import { describe, expect, it } from 'vitest'
import { simulateScale } from '../src/gossip/scale.ts'

// The gossip scale suite's simulation at N = 50 (seconds): every phase still runs and
// reaches its end, so `pnpm bench --filter 'gossip scale'` keeps working.
/** N = 50 started in 5 batches over 5 s, a short idle window, 2 crashes. */
const SMALL = { n: 50, batches: 5, rolloutMs: 5_000, idleMs: 2_000, crashes: 2 }

describe('gossip scale simulation', () => {
  it('runs every phase to its end at N = 50', { timeout: 120_000 }, async () => {
    const r = await simulateScale({
      ...SMALL,
      loss: 0.05,
      lossMs: 5_000,
    })
    expect(r.error).toBeUndefined()
    for (const phase of [
      r.converged,
      r.drained,
      r.idle,
      r.oneMoreJoin,
      r.broadcast,
      r.metaUpdate,
      r.detection,
      r.loss,
    ]) {
      expect(phase?.missed).toBeUndefined()
      expect(phase?.ms).toBeGreaterThanOrEqual(0)
    }
    expect(r.detections.map((d) => d.detectedBy)).toEqual([49, 49]) // N + the one more join, less the 2 crashed
    expect(r.detections.every((d) => d.firstMs !== undefined && d.lastMs !== undefined)).toBe(true)
    expect(r.falseFailures).toBe(0)
    expect(r.idleBytesPerSec).toBeGreaterThan(0)
    expect(r.idleCpuUsPerSec).toBeGreaterThan(0)
    expect(r.rolloutWallMs).toBeGreaterThan(0)
    expect(r.gcMs).toBeGreaterThanOrEqual(r.gcMajorMs ?? Number.NaN)
    expect(r.maxRssMiB).toBeGreaterThan(0)
  })

  it('runs nodes apart in processes of their own as members like any other', {
    timeout: 120_000,
  }, async () => {
    const r = await simulateScale({
      ...SMALL,
      apart: 4,
    })
    expect(r.error).toBeUndefined()
    // Convergence needs the 4 nodes apart to see all and be seen by all; the idle window ends
    // only once every node, those apart too, completed a push-pull; each crash is detected by
    // every survivor, those apart among them. (The bridge itself: gossip-apart.spec.ts.)
    for (const phase of [r.converged, r.idle, r.oneMoreJoin, r.broadcast, r.detection]) {
      expect(phase?.missed).toBeUndefined()
    }
    expect(r.detections.map((d) => d.detectedBy)).toEqual([49, 49])
    expect(r.falseFailures).toBe(0)
    const apart = r.apart!
    expect(apart.nodes).toBe(4)
    for (const cost of [apart.cost, apart.reference]) {
      expect(cost.syncs).toBeGreaterThan(0)
      expect(cost.harnessUsPerSec).toBeGreaterThan(0)
      expect(Number.isFinite(cost.cpuUsPerSec)).toBe(true)
    }
  })

  it('stops at its real-time budget and says so instead of running on', {
    timeout: 60_000,
  }, async () => {
    const r = await simulateScale({ n: 50, budgetMs: 0 })
    expect(r.error).toMatch(/started within the real budget/)
    expect(r.converged.missed).toMatch(/skipped/)
  })
})
