import { framedSize } from '../codec/wire.js'

/** One message waiting to be piggybacked. */
interface Item {
  /** Member id a membership message is about: a newer one about the same id replaces it. */
  readonly key: string | undefined
  /** The encoded `Message`. */
  readonly msg: Uint8Array
  /** Insertion order, to prefer newer messages among equally transmitted ones. */
  readonly order: number
  /** Called once the message has been sent its last time or was replaced. */
  readonly onDone: (() => void) | undefined
  transmits: number
}

/**
 * memberlist's `TransmitLimitedQueue`: messages to piggyback on outgoing packets, each sent
 * at most `mult × ceil(log10(N + 1))` times, the least transmitted first. A membership
 * message about a member invalidates the queued one about the same member (only the newest
 * news about a member is worth spreading). The queue is bounded; beyond `maxItems`, the
 * most transmitted messages are dropped first.
 */
export class BroadcastQueue {
  readonly #items: Item[] = []
  readonly #maxItems: number
  #order = 0

  /** @param maxItems - Bound on queued messages. */
  constructor(maxItems = 4096) {
    this.#maxItems = maxItems
  }

  /** Messages waiting. */
  get length(): number {
    return this.#items.length
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
      const i = this.#items.findIndex((it) => it.key === key)
      if (i >= 0) this.#items.splice(i, 1)[0]!.onDone?.()
    }
    this.#items.push({ key, msg, order: this.#order++, onDone, transmits: 0 })
    if (this.#items.length > this.#maxItems) {
      this.#sort()
      this.#items.pop()?.onDone?.()
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
    if (this.#items.length === 0 || budget <= 2) return []
    this.#sort()
    const out: Uint8Array[] = []
    let left = budget
    for (const it of this.#items) {
      const size = framedSize(it.msg)
      if (size > left) continue
      left -= size
      out.push(it.msg)
      it.transmits++
      if (left <= 2) break
    }
    for (let i = this.#items.length - 1; i >= 0; i--) {
      const it = this.#items[i]!
      if (it.transmits >= limit) {
        this.#items.splice(i, 1)
        it.onDone?.()
      }
    }
    return out
  }

  /** Drops everything, calling each `onDone`. */
  clear(): void {
    const items = this.#items.splice(0)
    for (const it of items) it.onDone?.()
  }

  #sort(): void {
    this.#items.sort((a, b) => a.transmits - b.transmits || b.order - a.order)
  }
}
