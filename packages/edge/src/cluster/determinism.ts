/**
 * What makes a `replicated` handler deterministic: every replica runs it from the same
 * log entry, so `ctx.now()` and `ctx.random()` must come from the entry, never from the
 * replica's own clock or generator. The leader stamps each command with its time and a
 * fresh random seed ({@link drawSeed}); replicas derive the handler's time with
 * {@link nextClock} and its random numbers with {@link seededRandom}.
 *
 * @module
 */

/** A 128-bit seed as four uint32. */
export type Seed = readonly [number, number, number, number]

const TWO_POW_26 = 0x400_0000
const TWO_POW_53 = 2 ** 53

/**
 * A generator of uniform floats in [0, 1), like `Math.random`, from a 128-bit seed: sfc32
 * (Chris Doty-Humphrey's Small Fast Counter, PractRand-clean), two 32-bit draws per float
 * for 53 random bits. Its counter word rules out the all-zero trap of xorshift-family
 * generators, and the seed is already uniformly random, so it needs no warm-up rounds.
 * The same seed gives the same sequence on every replica.
 */
export function seededRandom(seed: Seed): () => number {
  let a = seed[0] | 0
  let b = seed[1] | 0
  let c = seed[2] | 0
  let d = seed[3] | 0
  const next32 = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  return () => ((next32() >>> 5) * TWO_POW_26 + (next32() >>> 6)) / TWO_POW_53
}

/** Seeds drawn per call to `crypto.getRandomValues`: one call serves many commands. */
const SEEDS_PER_DRAW = 64
const pool = new Uint32Array(SEEDS_PER_DRAW * 4)
let next = pool.length

/** A fresh 128-bit seed from the platform's cryptographic generator, for the leader to stamp. */
export function drawSeed(): [number, number, number, number] {
  if (next === pool.length) {
    crypto.getRandomValues(pool)
    next = 0
  }
  const seed: [number, number, number, number] = [
    pool[next]!,
    pool[next + 1]!,
    pool[next + 2]!,
    pool[next + 3]!,
  ]
  next += 4
  return seed
}

/**
 * The time a replicated handler sees (`ctx.now()`): the later of the previous command's
 * and this command's stamp, in ms.
 *
 * Each leader stamps commands with its own `Date.now()`, and clocks of different servers
 * differ: after a leader change the new leader's stamps may be earlier than the old
 * leader's, and a wall clock may step back (NTP) on one leader too. Taken raw, time would
 * run backwards in log order, and a handler that stores "created at" or checks an expiry
 * would see events out of order. The maximum keeps time non-decreasing along the log, and
 * it depends only on the log (the previous value lives in the replicated state and in its
 * snapshots), so every replica computes the same time for every command.
 */
export function nextClock(previous: number, stamped: number): number {
  return Math.max(previous, stamped)
}
