import type { Clock, TimerHandle } from '@rony/interface'

/**
 * Lifeguard's suspicion timer (memberlist's `suspicion`). It starts at `max` and shrinks
 * towards `min` as independent members confirm the suspicion, logarithmically in the number
 * of confirmations:
 *
 *   timeout = max - log(n + 1) / log(k + 1) × (max - min)
 *
 * with `n` confirmations received out of `k` expected. With `k < 1` the timeout is `min`.
 * The member that started the suspicion does not count as a confirmation.
 */
export class Suspicion {
  readonly #clock: Clock
  readonly #k: number
  readonly #min: number
  readonly #max: number
  readonly #start: number
  readonly #onTimeout: () => void
  readonly #confirmations = new Set<string>()
  #n = 0
  #timer: TimerHandle | undefined

  /**
   * @param from - The member that raised the suspicion.
   * @param k - Confirmations expected.
   * @param min - Shortest timeout, ms.
   * @param max - Longest timeout, ms.
   * @param onTimeout - Called once when the timeout elapses (the member is then dead).
   */
  constructor(
    clock: Clock,
    from: string,
    k: number,
    min: number,
    max: number,
    onTimeout: () => void,
  ) {
    this.#clock = clock
    this.#k = k
    this.#min = min
    this.#max = max
    this.#start = clock.now()
    this.#onTimeout = onTimeout
    this.#confirmations.add(from)
    this.#timer = clock.setTimeout(this.#fire, k < 1 ? min : max)
  }

  /** Confirmations received so far. */
  get confirmations(): number {
    return this.#n
  }

  /**
   * Records an independent confirmation and shortens the timer.
   *
   * @returns `true` when `from` is a new confirmation (the suspicion is worth re-gossiping).
   */
  confirm(from: string): boolean {
    if (this.#timer === undefined || this.#n >= this.#k) return false
    if (this.#confirmations.has(from)) return false
    this.#confirmations.add(from)
    this.#n++
    const elapsed = this.#clock.now() - this.#start
    const remaining = remainingSuspicionTime(this.#n, this.#k, elapsed, this.#min, this.#max)
    this.#clock.clearTimeout(this.#timer)
    this.#timer = this.#clock.setTimeout(this.#fire, Math.max(0, remaining))
    return true
  }

  /** Cancels the timer (the member refuted, or was declared dead another way). */
  cancel(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #fire = (): void => {
    this.#timer = undefined
    this.#onTimeout()
  }
}

/** Time left on a suspicion with `n` of `k` confirmations, after `elapsed` ms. */
export function remainingSuspicionTime(
  n: number,
  k: number,
  elapsed: number,
  min: number,
  max: number,
): number {
  const frac = Math.log(n + 1) / Math.log(k + 1)
  const raw = max - frac * (max - min)
  const timeout = Math.max(min, Math.floor(raw))
  return timeout - elapsed
}
