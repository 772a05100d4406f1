import { describe, expect, it } from 'vitest'
import { drawSeed, nextClock, seededRandom } from '../src/cluster/determinism.js'

describe('seeded random', () => {
  it('gives the same sequence for the same seed', () => {
    const seed = [1, 2, 3, 4] as const
    const a = seededRandom(seed)
    const b = seededRandom([...seed])
    const first = Array.from({ length: 1_000 }, a)
    expect(Array.from({ length: 1_000 }, b)).toEqual(first)
  })

  it('is sfc32, two draws per float (pinned values)', () => {
    // sfc32(1, 2, 3, 4)'s first outputs, computed independently of this module.
    const sfc32 = (seed: number[]) => {
      let [a, b, c, d] = seed.map((n) => BigInt(n))
      const M = 0xffff_ffffn
      return () => {
        const t = (a! + b! + d!) & M
        d = (d! + 1n) & M
        a = b! ^ (b! >> 9n)
        b = (c! + (c! << 3n)) & M
        c = ((c! << 21n) | (c! >> 11n)) & M
        c = (c + t) & M
        return t
      }
    }
    const reference = sfc32([1, 2, 3, 4])
    const random = seededRandom([1, 2, 3, 4])
    for (let i = 0; i < 100; i++) {
      const hi = reference() >> 5n
      const lo = reference() >> 6n
      expect(random()).toBe(Number((hi << 26n) | lo) / 2 ** 53)
    }
  })

  it('differs for seeds that differ in one bit', () => {
    const a = Array.from({ length: 8 }, seededRandom([0, 0, 0, 0]))
    const b = Array.from({ length: 8 }, seededRandom([0, 0, 0, 1]))
    expect(a).not.toEqual(b)
  })

  it('stays in [0, 1), covers it, and uses the low bits', () => {
    for (const seed of [
      [0, 0, 0, 0],
      [0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff],
      drawSeed(),
    ] as const) {
      const random = seededRandom(seed)
      const buckets = new Array<number>(10).fill(0)
      let fractional = 0
      for (let i = 0; i < 20_000; i++) {
        const x = random()
        expect(x >= 0 && x < 1).toBe(true)
        buckets[Math.floor(x * 10)]!++
        // More than 32 bits of precision: x · 2^32 is not an integer.
        if (!Number.isInteger(x * 2 ** 32)) fractional++
      }
      // Each tenth gets 2000 ± 10 %: a loose bound that a broken generator misses.
      for (const count of buckets) expect(count).toBeGreaterThan(1_800)
      for (const count of buckets) expect(count).toBeLessThan(2_200)
      expect(fractional).toBeGreaterThan(19_000)
    }
  })
})

describe('drawSeed', () => {
  it('draws four uint32, different each time', () => {
    const seeds = Array.from({ length: 300 }, drawSeed) // past one pool refill
    for (const seed of seeds) {
      expect(seed).toHaveLength(4)
      for (const word of seed) {
        expect(Number.isInteger(word) && word >= 0 && word <= 0xffff_ffff).toBe(true)
      }
    }
    expect(new Set(seeds.map((s) => s.join(','))).size).toBe(300)
  })

  it('returns a fresh array the caller may keep', () => {
    const a = drawSeed()
    const copy = [...a]
    drawSeed()
    expect(a).toEqual(copy)
  })
})

describe('nextClock', () => {
  it('never goes back in log order, across a leader whose clock is behind', () => {
    // Leader 1 stamps 1000, 1005; leader 2's clock is 50 ms behind.
    const stamps = [1_000, 1_005, 960, 970, 1_010, 1_004]
    const seen: number[] = []
    let clock = 0
    for (const stamped of stamps) {
      clock = nextClock(clock, stamped)
      seen.push(clock)
    }
    expect(seen).toEqual([1_000, 1_005, 1_005, 1_005, 1_010, 1_010])
  })
})
