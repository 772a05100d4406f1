/** One pooled string, how many holders it has, and its slot. */
interface Entry {
  readonly value: string
  refs: number
  readonly slot: number
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
  /** Slots of forgotten strings, reused before new ones: slots stay below the peak size. */
  readonly #freeSlots: number[] = []

  /** The pooled copy of `s` (the first one acquired), now held once more. */
  acquire(s: string): string {
    const e = this.#entries.get(s)
    if (e !== undefined) {
      e.refs++
      return e.value
    }
    const slot = this.#freeSlots.pop() ?? this.#entries.size
    this.#entries.set(s, { value: s, refs: 1, slot })
    return s
  }

  /** Drops one hold of `s`; the last one forgets it and frees its slot. */
  release(s: string): void {
    const e = this.#entries.get(s)
    if (e === undefined) return
    if (--e.refs > 0) return
    this.#entries.delete(s)
    this.#freeSlots.push(e.slot)
  }

  /**
   * The slot of `s`: a small integer no other string of the pool has while `s` is held, for
   * holders to index arrays by (-1 when not pooled).
   */
  slotOf(s: string): number {
    return this.#entries.get(s)?.slot ?? -1
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

/** A table's pools: ids (whose slots index its records) apart from addresses. */
export interface MemberStrings {
  readonly ids: StringPool
  readonly addresses: StringPool
}

/** The pools of the process: the tables of every node of the process share them. */
export const sharedStrings: MemberStrings = { ids: new StringPool(), addresses: new StringPool() }
