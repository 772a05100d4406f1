/**
 * Exponential backoff with jitter for reconnect attempts.
 *
 * Attempt `n` (0-based) waits `min(maxDelay, initialDelay × factor^n)`, then jitter takes
 * a random share of up to `jitter` off it: with `jitter: 0.5` the wait is uniform in
 * [½·d, d]. Jitter spreads the reconnects of many clients after a server restart, so they
 * do not all arrive in the same millisecond.
 */

export interface BackoffOptions {
  /** Wait before the first reconnect attempt, in milliseconds. Default: 100. */
  initialDelay: number
  /** Longest wait between attempts, in milliseconds. Default: 10_000. */
  maxDelay: number
  /** Growth of the wait per failed attempt (≥ 1). Default: 2. */
  factor: number
  /** Share of each wait that is randomized, in [0, 1]; 0 for none. Default: 0.5. */
  jitter: number
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialDelay: 100,
  maxDelay: 10_000,
  factor: 2,
  jitter: 0.5,
})

export function resolveBackoff(options: BackoffOptions): BackoffOptions {
  const { initialDelay, maxDelay, factor, jitter } = options
  if (!Number.isFinite(initialDelay) || initialDelay < 0) {
    throw new RangeError(`reconnect.initialDelay must be ≥ 0, got ${String(initialDelay)}`)
  }
  if (!Number.isFinite(maxDelay) || maxDelay < initialDelay) {
    throw new RangeError(`reconnect.maxDelay must be ≥ initialDelay, got ${String(maxDelay)}`)
  }
  if (!Number.isFinite(factor) || factor < 1) {
    throw new RangeError(`reconnect.factor must be ≥ 1, got ${String(factor)}`)
  }
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(`reconnect.jitter must be in [0, 1], got ${String(jitter)}`)
  }
  return { initialDelay, maxDelay, factor, jitter }
}

/**
 * The wait before attempt `attempt` (0-based), in milliseconds.
 *
 * @param random - a number in [0, 1)
 */
export function backoffDelay(options: BackoffOptions, attempt: number, random: number): number {
  // factor^attempt reaches Infinity after enough failures, and 0 × Infinity is NaN.
  const grown = options.initialDelay === 0 ? 0 : options.initialDelay * options.factor ** attempt
  const delay = Math.min(grown, options.maxDelay)
  return Math.round(delay * (1 - options.jitter * random))
}
