/**
 * Remembers which user broadcasts were delivered, by `(from, boot, seq)`, so each is emitted
 * at most once per member however many copies (or replays) arrive. Entries expire after
 * `ttl` ms, and the set is bounded (the oldest go first).
 */
export class SeenBroadcasts {
  readonly #seen = new Map<string, number>()
  readonly #ttl: number
  readonly #max: number

  /**
   * @param ttl - How long a broadcast is remembered, ms (longer than it keeps circulating).
   * @param max - Most broadcasts remembered.
   */
  constructor(ttl: number, max = 16_384) {
    this.#ttl = ttl
    this.#max = max
  }

  /**
   * Records a broadcast.
   *
   * @returns `true` the first time, `false` for a copy.
   */
  add(from: string, boot: number, seq: number, now: number): boolean {
    const key = `${from}\u0000${boot}\u0000${seq}`
    const at = this.#seen.get(key)
    if (at !== undefined && now - at <= this.#ttl) return false
    this.#seen.delete(key)
    this.#seen.set(key, now)
    if (this.#seen.size > this.#max) this.#seen.delete(this.#seen.keys().next().value!)
    return true
  }

  /** Forgets expired entries (insertion order is time order). */
  sweep(now: number): void {
    for (const [key, at] of this.#seen) {
      if (now - at <= this.#ttl) break
      this.#seen.delete(key)
    }
  }
}
