import type { Clock, Random, TimerHandle } from '@rony/interface'

/**
 * Every timer of one component, on its injected clock, so `stop()` clears them all at once.
 */
export class Timers {
  readonly #clock: Clock
  readonly #live = new Set<TimerHandle>()

  constructor(clock: Clock) {
    this.#clock = clock
  }

  /** Runs `fn` once after `ms` of the clock's time. */
  after(ms: number, fn: () => void): TimerHandle {
    const h = this.#clock.setTimeout(() => {
      this.#live.delete(h)
      fn()
    }, ms)
    this.#live.add(h)
    return h
  }

  /** Cancels one timer; a no-op when it already fired. */
  cancel(h: TimerHandle | undefined): void {
    if (h === undefined || !this.#live.delete(h)) return
    this.#clock.clearTimeout(h)
  }

  /** Cancels every pending timer. */
  clear(): void {
    for (const h of this.#live) this.#clock.clearTimeout(h)
    this.#live.clear()
  }

  /** Timers pending. */
  get size(): number {
    return this.#live.size
  }
}

/** Fisher–Yates shuffle in place, driven by the injected random. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1))
    const t = items[i]!
    items[i] = items[j]!
    items[j] = t
  }
  return items
}

/** Up to `k` distinct random elements of `items` that pass `accept`. */
export function kRandom<T>(
  items: readonly T[],
  k: number,
  random: Random,
  accept: (t: T) => boolean,
): T[] {
  const out: T[] = []
  const n = items.length
  // memberlist's kRandomNodes: 3n random draws, then give up.
  for (let i = 0; i < 3 * n && out.length < k; i++) {
    const t = items[Math.floor(random.next() * n)]!
    if (!accept(t) || out.includes(t)) continue
    out.push(t)
  }
  return out
}
