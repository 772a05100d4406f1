import type { StringPool } from './strings.js'
import type { NodeRecord } from './table.js'

/**
 * A table's records by member id. The lookup goes through the process's id pool, whose slot
 * numbers index an array here: 8 bytes per member where a `Map` takes 29 to 46 (its table is
 * sized to the next power of two, three words per entry and one per two buckets), on every
 * node, for every member. Each indexed id is held in the pool, so its slot stays its own. The
 * local member is not (a node built and never stopped would hold its id for good): it is
 * the one answer of a lookup that misses.
 *
 * `detach()` (when the table gives its holds back, on stop) moves the records to a private
 * `Map`, which answers from then on.
 */
export class MemberIndex {
  /** The records in the order they joined (the table's `list`), the local one first. */
  readonly #order: readonly NodeRecord[]
  readonly #local: NodeRecord
  #ids: StringPool | undefined
  readonly #bySlot: (NodeRecord | undefined)[] = []
  #detached: Map<string, NodeRecord> | undefined
  #size = 1

  constructor(ids: StringPool, local: NodeRecord, order: readonly NodeRecord[]) {
    this.#ids = ids
    this.#local = local
    this.#order = order
  }

  /** Records indexed. */
  get size(): number {
    return this.#size
  }

  get(id: string): NodeRecord | undefined {
    let rec: NodeRecord | undefined
    if (this.#ids === undefined) rec = this.#detached?.get(id)
    else {
      const slot = this.#ids.slotOf(id)
      if (slot >= 0) rec = this.#bySlot[slot]
    }
    return rec ?? (id === this.#local.id ? this.#local : undefined)
  }

  /** The records in the order they joined. */
  values(): ArrayIterator<NodeRecord> {
    return this.#order.values()
  }

  [Symbol.iterator](): ArrayIterator<NodeRecord> {
    return this.values()
  }

  /** Indexes `rec` (not the local one) under its id, which the pool must hold. */
  add(rec: NodeRecord): void {
    this.#size++
    if (this.#ids === undefined) {
      this.#detached?.set(rec.id, rec)
      return
    }
    const slot = this.#ids.slotOf(rec.id)
    const bySlot = this.#bySlot
    // Grown by push, never by a write past the end: a gap turns the array into a dictionary.
    while (bySlot.length <= slot) bySlot.push(undefined)
    bySlot[slot] = rec
  }

  /** Forgets `rec`, before the table releases its id. */
  delete(rec: NodeRecord): void {
    this.#size--
    if (this.#ids === undefined) {
      this.#detached?.delete(rec.id)
      return
    }
    const slot = this.#ids.slotOf(rec.id)
    if (slot >= 0) this.#bySlot[slot] = undefined
  }

  /** Moves the records to a private map, before the table releases its ids. */
  detach(): void {
    if (this.#ids === undefined) return
    this.#detached = new Map()
    for (const r of this.#order) if (r !== this.#local) this.#detached.set(r.id, r)
    this.#ids = undefined
    this.#bySlot.length = 0
  }
}
