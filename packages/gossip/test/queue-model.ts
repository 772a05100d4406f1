import { framedSize } from '../src/codec/wire.js'

interface ModelItem {
  readonly key: string | undefined
  readonly msg: Uint8Array
  readonly order: number
  readonly onDone: (() => void) | undefined
  transmits: number
}

/**
 * The broadcast queue as it was before the indexed one (a sorted array, searched per push
 * and sorted and scanned per take): the reference `BroadcastQueue` must select exactly as,
 * and the "before" of the queue benchmark.
 */
export class ModelQueue {
  readonly #items: ModelItem[] = []
  readonly #maxItems: number
  #order = 0

  constructor(maxItems = 4096) {
    this.#maxItems = maxItems
  }

  get length(): number {
    return this.#items.length
  }

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

  clear(): void {
    const items = this.#items.splice(0)
    for (const it of items) it.onDone?.()
  }

  #sort(): void {
    this.#items.sort((a, b) => a.transmits - b.transmits || b.order - a.order)
  }
}
