/** One pooled string and how many holders it has. */
interface Entry {
  readonly value: string
  refs: number
}

/**
 * Reference-counted strings shared by the member tables of one process. Each node decodes its
 * own copy of a member's id and address from every packet; a table that keeps the decoded
 * copies holds N × N strings when N nodes run in one process (a simulation, or many nodes per
 * process), 10^8 at N = 10,000. Through the pool every table keeps the one copy of the process.
 *
 * Holders `acquire` a string when they keep it and `release` it when they drop it; the last
 * release forgets it, so churn does not grow the pool. A miscount only costs sharing, never
 * correctness: a string is a value, and a copy compares equal to the pooled one.
 */
export class StringPool {
  readonly #entries = new Map<string, Entry>()

  /** The pooled copy of `s` (the first one acquired), now held once more. */
  acquire(s: string): string {
    const e = this.#entries.get(s)
    if (e !== undefined) {
      e.refs++
      return e.value
    }
    this.#entries.set(s, { value: s, refs: 1 })
    return s
  }

  /** Drops one hold of `s`; the last one forgets it. */
  release(s: string): void {
    const e = this.#entries.get(s)
    if (e === undefined) return
    if (--e.refs <= 0) this.#entries.delete(s)
  }

  /** Holds of `s` (0 when not pooled). */
  refs(s: string): number {
    return this.#entries.get(s)?.refs ?? 0
  }

  /** Distinct strings pooled. */
  get size(): number {
    return this.#entries.size
  }
}

/** The pool of the process: the tables of every node of the process share it. */
export const sharedStrings = new StringPool()
