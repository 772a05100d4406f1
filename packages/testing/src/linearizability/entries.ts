/**
 * The call and return events of a partition as a doubly linked list in time order, which the
 * search walks (Porcupine's entry list). The order of events at equal times is the tie rule
 * documented in check.ts.
 */
import type { Operation } from './check.js'

/**
 * Sort ranks of events at equal times: returns, then calls, then the returns of operations
 * taking no time, so an operation returning at t precedes one called at t, and one taking no
 * time is concurrent with everything called at its instant.
 */
const RETURN_RANK = 0
const CALL_RANK = 1
const INSTANT_RETURN_RANK = 2

/**
 * The events as a doubly linked list in time order. Linearizing an operation
 * lifts its entries out; backtracking (always the most recent lift first) puts them back in
 * reverse order, which restores the links exactly (dancing links). The list therefore always
 * holds exactly the operations not yet linearized, and its first return entry is the earliest
 * deadline among them.
 */
export class EntryList {
  /** Entry 0 is the head sentinel, then the events in time order, then a tail sentinel. */
  readonly #next: Int32Array
  readonly #prev: Int32Array
  readonly #op: Int32Array
  readonly #isReturn: Uint8Array
  readonly #callAt: Int32Array
  /** -1 for an operation with an unknown outcome: it has no deadline. */
  readonly #returnAt: Int32Array

  constructor(ops: readonly Operation<unknown, unknown>[]) {
    const events: { time: number; rank: number; op: number }[] = []
    ops.forEach(({ call, return: ret }, op) => {
      events.push({ time: call, rank: CALL_RANK, op })
      if (ret !== Infinity) {
        events.push({ time: ret, rank: ret === call ? INSTANT_RETURN_RANK : RETURN_RANK, op })
      }
    })
    events.sort((a, b) => a.time - b.time || a.rank - b.rank || a.op - b.op)
    const size = events.length + 2
    this.#next = Int32Array.from({ length: size }, (_, i) => i + 1)
    this.#prev = Int32Array.from({ length: size }, (_, i) => i - 1)
    this.#op = new Int32Array(size)
    this.#isReturn = new Uint8Array(size)
    this.#callAt = new Int32Array(ops.length)
    this.#returnAt = new Int32Array(ops.length).fill(-1)
    events.forEach(({ rank, op }, i) => {
      const at = i + 1
      this.#op[at] = op
      if (rank === CALL_RANK) this.#callAt[op] = at
      else {
        this.#isReturn[at] = 1
        this.#returnAt[op] = at
      }
    })
  }

  get first(): number {
    return this.#next[0]!
  }

  next(at: number): number {
    return this.#next[at]!
  }

  op(at: number): number {
    return this.#op[at]!
  }

  isReturn(at: number): boolean {
    return this.#isReturn[at] === 1
  }

  callOf(op: number): number {
    return this.#callAt[op]!
  }

  lift(op: number): void {
    this.#remove(this.#callAt[op]!)
    const ret = this.#returnAt[op]!
    if (ret >= 0) this.#remove(ret)
  }

  unlift(op: number): void {
    const ret = this.#returnAt[op]!
    if (ret >= 0) this.#restore(ret)
    this.#restore(this.#callAt[op]!)
  }

  /** The operations whose call entries precede `at`. */
  callsBefore(at: number): number[] {
    const ops: number[] = []
    for (let e = this.first; e !== at; e = this.next(e)) if (!this.isReturn(e)) ops.push(this.op(e))
    return ops
  }

  #remove(at: number): void {
    const prev = this.#prev[at]!
    const next = this.#next[at]!
    this.#next[prev] = next
    this.#prev[next] = prev
  }

  #restore(at: number): void {
    this.#next[this.#prev[at]!] = at
    this.#prev[this.#next[at]!] = at
  }
}
