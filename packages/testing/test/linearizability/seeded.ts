/**
 * Draws in [0, 1) from a seed (mulberry32), so a failing test replays exactly from its seed.
 * A few lines here rather than `seededRandom` of `@rony/transport`: this package depends on
 * no other Rony package for the checker, and `@rony/transport` tests with this package.
 */
export function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
