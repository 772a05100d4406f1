import type { Random } from '@rony/interface'
import { shuffle } from './timers.js'

/**
 * A shuffled round-robin over member ids (SWIM's probe order, used for gossip targets too):
 * each id comes up once per cycle, in an order reshuffled every cycle. Unlike independent
 * random picks, consecutive picks are distinct members, so a message's few transmissions in a
 * small cluster reach as many different members as they can (independent picks of 3 out of
 * 11 members per round repeat one in three picks across a message's rounds).
 */
export class Rotation {
  readonly #random: Random
  #order: string[] = []
  #index = 0

  constructor(random: Random) {
    this.#random = random
  }

  /**
   * Adds a new member at a random place of the rest of this cycle, as memberlist does: by
   * swapping with the member there, which moves to the end of the cycle (O(1), no splice).
   */
  add(id: string): void {
    const order = this.#order
    const at = this.#index + Math.floor(this.#random.next() * (order.length - this.#index + 1))
    order.push(order[at] ?? id)
    order[at] = id
  }

  /**
   * Up to `k` distinct ids that pass `accept`, continuing the cycle; when it ends, a new one
   * starts from `refill()` (at most two cycles per call, so a call with nobody acceptable ends).
   */
  take(k: number, accept: (id: string) => boolean, refill: () => string[]): string[] {
    const out: string[] = []
    for (let wraps = 0; out.length < k && wraps < 2; ) {
      if (this.#index >= this.#order.length) {
        this.#order = shuffle(refill(), this.#random)
        this.#index = 0
        wraps++
        continue
      }
      const id = this.#order[this.#index++]!
      if (!out.includes(id) && accept(id)) out.push(id)
    }
    return out
  }
}
