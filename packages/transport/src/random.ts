import type { Random } from '@rony/interface'

/**
 * Randomness: a seeded PRNG for reproducible simulations, and the system one.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counter, 128-bit state), which
 * passes PractRand to at least 2^40 bytes and costs a handful of 32-bit operations per draw.
 * Its four state words are filled by splitmix32 from the seed, so that nearby seeds (1, 2, 3)
 * still give unrelated streams, and the first outputs are discarded to mix the state.
 */

/** A {@link Random} with a reproducible sequence, plus integer helpers. */
export interface SeededRandom extends Random {
  /** The seed this generator was created with (as an unsigned 32-bit integer). */
  readonly seed: number
  /** Next number in `[0, 1)`, with 32 bits of randomness. */
  next(): number
  /** Next unsigned 32-bit integer, uniform in `[0, 2^32)`. */
  nextUint32(): number
  /**
   * Uniform integer in `[min, max)`, without modulo bias.
   *
   * @param min - Inclusive lower bound (an integer).
   * @param max - Exclusive upper bound (an integer above `min`, at most `min + 2^32`).
   */
  int(min: number, max: number): number
  /**
   * A new generator seeded from this one's next output: independent streams for
   * sub-components (one per simulated node) that stay reproducible from the root seed.
   */
  fork(): SeededRandom
}

/** splitmix32: expands one 32-bit seed into well-mixed 32-bit words. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0
  let z = state.s
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

class Sfc32 implements SeededRandom {
  readonly seed: number
  #a: number
  #b: number
  #c: number
  #d: number

  constructor(seed: number) {
    this.seed = seed >>> 0
    const sm = { s: this.seed }
    this.#a = splitmix32(sm)
    this.#b = splitmix32(sm)
    this.#c = splitmix32(sm)
    this.#d = 1 // the counter word, as the reference seeding does
    for (let i = 0; i < 12; i++) this.nextUint32()
  }

  nextUint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0
    this.#d = (this.#d + 1) | 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) | 0
    this.#c = (this.#c << 21) | (this.#c >>> 11)
    this.#c = (this.#c + t) | 0
    return t >>> 0
  }

  next(): number {
    return this.nextUint32() / 4294967296
  }

  int(min: number, max: number): number {
    const range = max - min
    if (!Number.isInteger(min) || !Number.isInteger(max) || range <= 0 || range > 2 ** 32) {
      throw new RangeError(`int(min, max) needs integers with 0 < max - min <= 2^32`)
    }
    // Rejection sampling: draws in the incomplete last bucket are redrawn, so every value
    // in the range is exactly equally likely.
    const limit = 2 ** 32 - (2 ** 32 % range)
    let x = this.nextUint32()
    while (x >= limit) x = this.nextUint32()
    return min + (x % range)
  }

  fork(): SeededRandom {
    return new Sfc32(this.nextUint32())
  }
}

/**
 * A seeded, fast pseudo-random generator (sfc32 seeded by splitmix32): the same seed always
 * gives the same sequence, on every platform. Not for cryptography.
 *
 * @param seed - Any number; it is truncated to an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * const random = seededRandom(42)
 * random.next() // the same value on every run
 * random.int(150, 300) // an election timeout in [150, 300) ms
 * ```
 */
export function seededRandom(seed: number): SeededRandom {
  return new Sfc32(seed)
}

/** The real randomness, `Math.random()`: the default outside simulations. */
export const systemRandom: Random = Object.freeze({ next: () => Math.random() })
