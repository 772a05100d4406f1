/**
 * Lifeguard's local health awareness (memberlist's `awareness`): a score from 0 (healthy) to
 * `max - 1`. Failed probes without the expected nacks, and having to refute suspicions about
 * ourselves, raise it; successful probes lower it. Probe intervals and timeouts are scaled by
 * `score + 1`, so a slow or overloaded node probes less often and gives others more time
 * before accusing them: its own slowness does not turn into false suspicions.
 */
export class Awareness {
  readonly #max: number
  #score = 0

  /** @param max - The largest multiplier (`awarenessMaxMultiplier`, 8 by default). */
  constructor(max: number) {
    this.#max = Math.max(1, max)
  }

  /** Current health score; 0 is healthy. */
  get score(): number {
    return this.#score
  }

  /** Adds `delta` to the score, clamped to `[0, max - 1]`. */
  apply(delta: number): void {
    this.#score = Math.min(this.#max - 1, Math.max(0, this.#score + delta))
  }

  /** Scales a timeout by the current health: `ms × (score + 1)`. */
  scale(ms: number): number {
    return ms * (this.#score + 1)
  }
}
