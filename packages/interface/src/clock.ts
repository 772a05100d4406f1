/**
 * Injectable time and randomness. Gossip and Raft read the time, schedule every timer and
 * draw every random number through these two interfaces, so the same code runs on real
 * timers in production and under a deterministic simulated clock in tests (no wall-clock
 * sleeps, reproducible elections and probe orders from a seed).
 *
 * @module
 */

/**
 * Opaque handle returned by {@link Clock.setTimeout}; its only use is to be passed back to
 * the same clock's {@link Clock.clearTimeout}.
 *
 * Callers must not inspect it. Implementations create one by casting their native handle
 * (`setTimeout(fn, ms) as unknown as TimerHandle`) and cast it back in `clearTimeout`.
 *
 * The brand is a string-keyed property rather than a `unique symbol`, so handles from two
 * copies of `@rony/interface` are the same type.
 */
export interface TimerHandle {
  /** Type-level brand only: never present at runtime. */
  readonly __ronyTimerHandle: never
}

/**
 * Source of time and timers.
 *
 * ## Contract
 *
 * - `now()` is wall-clock time in milliseconds since the Unix epoch (`Date.now()` for the
 *   real clock). It is not required to be monotonic: it may jump when the system clock is
 *   adjusted, so components use it for timestamps and coarse durations, and rely on
 *   `setTimeout` for deadlines. A simulated clock starts at any value it likes (commonly 0
 *   or a fixed epoch) and advances only when the test advances it.
 * - `setTimeout(fn, ms)` calls `fn` once, no earlier than `ms` milliseconds of this clock's
 *   time from now. `ms` is clamped to at least 0; fractional values are allowed. `fn` is
 *   never called synchronously from inside `setTimeout`, even for `ms <= 0`.
 * - Timers due at the same time fire in the order they were scheduled. A simulated clock
 *   must honour this, as it is what makes a simulation replay identically from a seed.
 * - `clearTimeout(h)` cancels a pending timer; on a timer that already fired or was already
 *   cleared it is a no-op.
 * - Timers do not keep a Node process alive on their own account: a real clock may
 *   `unref()` them, because the owning component's sockets do that job, and `stop()` must
 *   clear them anyway.
 * - `fn` should not throw. If it does, a real clock lets the exception surface as Node
 *   does for any timer callback (uncaught exception); a simulated clock rethrows it from the
 *   call that advanced time, so the test fails at the right place.
 *
 * A real implementation is a few lines:
 *
 * @example
 * ```ts
 * import type { Clock, TimerHandle } from '@rony/interface'
 *
 * const systemClock: Clock = {
 *   now: () => Date.now(),
 *   setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)) as unknown as TimerHandle,
 *   clearTimeout: (h) => clearTimeout(h as unknown as ReturnType<typeof setTimeout>),
 * }
 * ```
 */
export interface Clock {
  /**
   * Current time.
   *
   * @returns Milliseconds since the Unix epoch (wall clock; may jump; not required to be
   * monotonic). Under simulation, the simulated time.
   */
  now(): number

  /**
   * Schedules `fn` to run once after `ms` milliseconds of this clock's time.
   *
   * @param fn - Callback; runs asynchronously, never inside this call. Should not throw.
   * @param ms - Delay in milliseconds; values below 0 are treated as 0.
   * @returns A handle for {@link Clock.clearTimeout}.
   */
  setTimeout(fn: () => void, ms: number): TimerHandle

  /**
   * Cancels a timer scheduled by this clock's {@link Clock.setTimeout}. A no-op for a timer
   * that already fired or was already cleared.
   *
   * @param handle - The handle `setTimeout` returned.
   */
  clearTimeout(handle: TimerHandle): void
}

/**
 * Injectable source of uniformly distributed random numbers, used for election timeouts,
 * probe target selection, jitter and backoff.
 *
 * The default implementation wraps `Math.random`; tests inject a seeded generator (for
 * example mulberry32 or xoshiro128**) so a gossip or Raft simulation is reproducible from
 * its seed. Not for cryptography: keys and nonces always come from `crypto`.
 *
 * @example
 * ```ts
 * import type { Random } from '@rony/interface'
 *
 * // mulberry32: a tiny seeded PRNG, good enough for simulations.
 * function seeded(seed: number): Random {
 *   let a = seed >>> 0
 *   return {
 *     next() {
 *       a = (a + 0x6d2b79f5) >>> 0
 *       let t = a
 *       t = Math.imul(t ^ (t >>> 15), t | 1)
 *       t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
 *       return ((t ^ (t >>> 14)) >>> 0) / 4294967296
 *     },
 *   }
 * }
 *
 * // An integer in [min, max): min + Math.floor(random.next() * (max - min))
 * ```
 */
export interface Random {
  /**
   * Draws the next number.
   *
   * @returns A number in `[0, 1)`: 0 inclusive, 1 exclusive, uniformly distributed, as
   * `Math.random()` does.
   */
  next(): number
}
