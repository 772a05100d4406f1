import { framedSize } from '../codec/wire.js'

/** The queue's bound in a small cluster (serf's `MaxQueueDepth`). */
export const MIN_QUEUE_BOUND = 4096

/**
 * The queue's bound with `live` members: twice the members, at least {@link MIN_QUEUE_BOUND}
 * (serf's `max(MinQueueDepth, 2 × members)`), so membership news, at most one message per
 * member, always fits with room for as many user broadcasts.
 */
export const queueBound = (live: number): number => Math.max(MIN_QUEUE_BOUND, 2 * live)

/** One message waiting to be piggybacked: a node of the queue's tree. */
interface Item {
  /** Member id a membership message is about: a newer one about the same id replaces it. */
  readonly key: string | undefined
  /** The encoded `Message`. */
  readonly msg: Uint8Array
  /** Its size in a compound, framing included. */
  readonly size: number
  /** Insertion order, to prefer newer messages among equally transmitted ones. */
  readonly order: number
  /** Called once the message has been sent its last time or was replaced. */
  readonly onDone: (() => void) | undefined
  /** Treap priority: random, so the tree stays O(log n) deep whatever the insertion order. */
  readonly priority: number
  transmits: number
  left: Item | undefined
  right: Item | undefined
  /** Smallest `size` in this subtree, so `take` skips subtrees where nothing fits. */
  minSize: number
}

/**
 * memberlist's `TransmitLimitedQueue`: messages to piggyback on outgoing packets, each sent
 * at most `mult × ceil(log10(N + 1))` times, the least transmitted first (the newest first
 * among equally transmitted ones). A membership message about a member invalidates the
 * queued one about the same member (only the newest news about a member is worth
 * spreading). The queue is bounded; beyond `maxItems`, the most transmitted messages are
 * dropped first (the oldest first among those). memberlist's queue has no bound (it holds at
 * most one message per member plus user broadcasts); serf bounds its own queues at
 * `max(MinQueueDepth, 2 × members)` when `MinQueueDepth` is set: the bound scales with the
 * cluster, so a rollout's news (one alive per member) is never dropped for room.
 *
 * A join storm queues about one message per member, so every operation is O(log n): the
 * items sit in a treap ordered by (transmits ascending, insertion descending), each subtree
 * knowing its smallest message, and a map finds the item about a member. `take` repeatedly
 * removes the first item that fits the space left (it descends only into subtrees holding
 * one), which is exactly what a walk over the sorted queue skipping what does not fit
 * selects, without visiting what it skips; taken items go back in with one more transmit.
 * Lists per transmit count in insertion order would not do: items reach count t + 1 out of
 * insertion order (the newest are taken first, one skipped for its size is taken later),
 * and finding the first that fits would still scan the ones that do not.
 */
export class BroadcastQueue {
  readonly #maxItems: () => number
  readonly #byKey = new Map<string, Item>()
  #root: Item | undefined
  /** Scratch: the ancestors of the item `take` detaches. */
  readonly #path: Item[] = []
  #length = 0
  #order = 0
  #seed = 0x9e3779b9

  /**
   * @param maxItems - Bound on queued messages, or a function of the moment giving it (the
   * component passes {@link queueBound} of its live member count). Default 4096.
   */
  constructor(maxItems: number | (() => number) = MIN_QUEUE_BOUND) {
    this.#maxItems = typeof maxItems === 'number' ? () => maxItems : maxItems
  }

  /** Messages waiting. */
  get length(): number {
    return this.#length
  }

  /**
   * Queues an encoded message.
   *
   * @param key - The member id it is about, or `undefined` for messages that never invalidate
   * one another (user broadcasts).
   * @param onDone - Called when it was sent its last time, replaced, or dropped.
   */
  push(key: string | undefined, msg: Uint8Array, onDone?: () => void): void {
    if (key !== undefined) {
      const old = this.#byKey.get(key)
      if (old !== undefined) {
        this.#remove(old)
        this.#forget(old)
        old.onDone?.()
      }
    }
    const size = framedSize(msg)
    const it: Item = {
      key,
      msg,
      size,
      order: this.#order++,
      onDone,
      priority: this.#random(),
      transmits: 0,
      left: undefined,
      right: undefined,
      minSize: size,
    }
    this.#insert(it)
    if (key !== undefined) this.#byKey.set(key, it)
    if (this.#length > this.#maxItems()) {
      const last = lastOf(this.#root)!
      this.#remove(last)
      this.#forget(last)
      last.onDone?.()
    }
  }

  /**
   * Takes messages that fit in `budget` bytes of compound (framing included), least
   * transmitted first, counting one transmission each.
   *
   * @param budget - Bytes available in the packet.
   * @param limit - Retransmit limit for the current cluster size.
   */
  take(budget: number, limit: number): Uint8Array[] {
    if (this.#root === undefined || budget <= 2) return []
    const taken: Item[] = []
    let left = budget
    while (left > 2) {
      const it = this.#detachFirstFitting(left)
      if (it === undefined) break
      taken.push(it)
      left -= it.size
    }
    const done: Item[] = []
    for (const it of taken) {
      it.transmits++
      if (it.transmits >= limit) done.push(it)
      else this.#insert(it)
    }
    // Items sent as often as the (possibly lowered) limit allows are the tree's tail.
    for (let last = lastOf(this.#root); last !== undefined && last.transmits >= limit; ) {
      this.#remove(last)
      done.push(last)
      last = lastOf(this.#root)
    }
    for (const it of done) this.#forget(it)
    for (const it of done) it.onDone?.()
    return taken.map((it) => it.msg)
  }

  /** Drops everything, calling each `onDone`. */
  clear(): void {
    const items: Item[] = []
    collect(this.#root, items)
    this.#root = undefined
    this.#byKey.clear()
    this.#length = 0
    for (const it of items) it.onDone?.()
  }

  /** Puts an item in the tree (the map is left to the caller: `take` re-inserts in place). */
  #insert(it: Item): void {
    it.left = undefined
    it.right = undefined
    it.minSize = it.size
    this.#root = insert(this.#root, it)
    this.#length++
  }

  #remove(it: Item): void {
    this.#root = remove(this.#root, it)
    this.#length--
  }

  /** Removes a message that left the queue from the map by member. */
  #forget(it: Item): void {
    if (it.key !== undefined) this.#byKey.delete(it.key)
  }

  /**
   * Removes and returns the first item in queue order no larger than `space`, in one descent
   * (into the subtree holding it: the left one if it has a fit, else this item, else the right).
   */
  #detachFirstFitting(space: number): Item | undefined {
    let t = this.#root
    if (t === undefined || t.minSize > space) return undefined
    const path = this.#path
    path.length = 0
    for (;;) {
      if (t.left !== undefined && t.left.minSize <= space) {
        path.push(t)
        t = t.left
      } else if (t.size <= space) break
      else {
        path.push(t)
        t = t.right! // its minSize ≤ space: the fit is there
      }
    }
    const rest = merge(t.left, t.right)
    const parent = path.at(-1)
    if (parent === undefined) this.#root = rest
    else if (parent.left === t) parent.left = rest
    else parent.right = rest
    for (let i = path.length - 1; i >= 0; i--) update(path[i]!)
    this.#length--
    return t
  }

  /** xorshift32: deterministic priorities, so runs under a seeded simulation repeat. */
  #random(): number {
    let x = this.#seed
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.#seed = x >>> 0
    return this.#seed
  }
}

/** Queue order: fewer transmits first, then newer first. */
function before(a: Item, b: Item): boolean {
  return a.transmits < b.transmits || (a.transmits === b.transmits && a.order > b.order)
}

function update(t: Item): void {
  let min = t.size
  if (t.left !== undefined && t.left.minSize < min) min = t.left.minSize
  if (t.right !== undefined && t.right.minSize < min) min = t.right.minSize
  t.minSize = min
}

function insert(t: Item | undefined, it: Item): Item {
  if (t === undefined) return it
  if (before(it, t)) {
    const l = insert(t.left, it)
    t.left = l
    if (l.priority > t.priority) {
      t.left = l.right
      update(t)
      l.right = t
      update(l)
      return l
    }
  } else {
    const r = insert(t.right, it)
    t.right = r
    if (r.priority > t.priority) {
      t.right = r.left
      update(t)
      r.left = t
      update(r)
      return r
    }
  }
  update(t)
  return t
}

function remove(t: Item | undefined, it: Item): Item | undefined {
  if (t === undefined) return undefined
  if (t === it) return merge(t.left, t.right)
  if (before(it, t)) t.left = remove(t.left, it)
  else t.right = remove(t.right, it)
  update(t)
  return t
}

/** Joins two treaps, every item of `a` before every item of `b`. */
function merge(a: Item | undefined, b: Item | undefined): Item | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  if (a.priority > b.priority) {
    a.right = merge(a.right, b)
    update(a)
    return a
  }
  b.left = merge(a, b.left)
  update(b)
  return b
}

function lastOf(t: Item | undefined): Item | undefined {
  if (t === undefined) return undefined
  while (t.right !== undefined) t = t.right
  return t
}

/** Appends the subtree's items in queue order. */
function collect(t: Item | undefined, out: Item[]): void {
  if (t === undefined) return
  collect(t.left, out)
  out.push(t)
  collect(t.right, out)
}
