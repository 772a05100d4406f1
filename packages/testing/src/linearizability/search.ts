/**
 * The search of one partition: Wing & Gong's depth-first search over the time-ordered list of
 * call and return events, with Lowe's memoization, as in Porcupine's `checkSingle`.
 *
 * Walking the list from its head, a call entry is an operation that may be linearized now (it
 * has been called, and nothing that must precede it is left); if the model accepts it from the
 * current state, it is linearized (its entries are lifted out of the list) and the walk
 * restarts. Reaching a return entry means that operation's deadline passed unlinearized, so
 * the last choice is undone. The search is a loop with an explicit stack: no recursion limit,
 * and a step budget ends it.
 *
 * Unknown outcomes have no return entry and need never be linearized, so having linearized
 * one only removes options. Hence three prunings beyond Lowe's memo, which matter when
 * timed-out writes pile up:
 * - Memo by dominance: a failed configuration (linearized set, state) also rules out every
 *   one with the same known operations and state and more unknown ones linearized. The memo
 *   maps (known set, state) to the minimal unknown sets that failed; with no unknown outcomes
 *   it is exactly Lowe's.
 * - An unknown outcome that leaves the state unchanged is not linearized.
 * - In 'known-first' order, an operation that would leave the same state had the unknown
 *   outcome just linearized been skipped (it overwrote it) is not linearized right after it:
 *   the search also tries it without that unknown outcome.
 *
 * Soundness. Say C dominates D if they agree on the known operations linearized and on the
 * state, and D has linearized a superset of C's unknown ones: whatever D can still do, C can.
 * Each pruning skips a configuration dominated by an explored one (the failed one; the
 * parent; for an overwrite, the configuration reached by skipping the unknown outcome, a
 * child of an explored configuration nearer the root and so, by induction, covered too).
 * Hence the configurations dominated by explored ones include the initial one and are closed
 * under steps: were there a linearization, its end (every known operation linearized) would
 * be dominated by an explored configuration in which they all are too, and exploring that
 * one ends the search with 'ok'. And 'ok' is only reached by stepping the model through an
 * actual linearization.
 */
import type { Defined, Model, Operation } from './check.js'
import { EntryList } from './entries.js'

/**
 * Which calls the search tries first at each point. 'call' is Porcupine's: in time order,
 * which follows the recorded execution closely and finds linearizations fast. 'known-first'
 * tries operations with an unknown outcome only after all known ones, so configurations
 * with fewer of them are explored (and fail) first and prune the others: it proves histories
 * with many timed-out writes illegal where 'call' drowns in their combinations. It is also
 * the only order with the overwrite pruning: in 'call' order unknown outcomes are linearized
 * eagerly, and forbidding the write that follows pushes the search off the path the recorded
 * execution took.
 */
export type SearchOrder = 'call' | 'known-first'

/** How the search of one partition ended; operations are indices into the partition's list. */
export type SearchOutcome<S> =
  | { readonly result: 'ok' | 'unknown'; readonly steps: number }
  | {
      readonly result: 'illegal'
      readonly steps: number
      /** The longest linearizable prefix found, in linearization order. */
      readonly linearized: readonly number[]
      /** The model state after `linearized`. */
      readonly state: S
      /** An operation whose return came before it could be linearized after that prefix. */
      readonly blocked: number
      /** The other operations called but not linearized when `blocked` returned. */
      readonly pending: readonly number[]
    }

/** Bitset words turned into a string per `String.fromCharCode` call (bounded argument count). */
const KEY_CHUNK = 8192

/**
 * Searches for a linearization of `ops` within `maxSteps` steps (a step is one operation tried
 * or one choice undone): in call order with half of them, which settles most histories, then,
 * if that ran out, known-first with the rest.
 */
export function search<S, I, O extends Defined>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  maxSteps: number,
): SearchOutcome<S> {
  const first = searchInOrder(model, ops, Math.ceil(maxSteps / 2), 'call')
  if (first.result !== 'unknown') return first
  const second = searchInOrder(model, ops, maxSteps - first.steps, 'known-first')
  return { ...second, steps: first.steps + second.steps }
}

/** One search in one order, giving up as 'unknown' after `maxSteps` steps. */
export function searchInOrder<S, I, O extends Defined>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  maxSteps: number,
  order: SearchOrder,
): SearchOutcome<S> {
  return new Search(model, ops, order).run(maxSteps)
}

class Search<S, I, O extends Defined> {
  readonly #model: Model<S, I, O>
  readonly #ops: readonly Operation<I, O>[]
  readonly #knownFirst: boolean
  readonly #list: EntryList
  readonly #known: boolean[]
  /** Each operation's bit: in `#knownSet` for known outcomes, `#unknownSet` for the others. */
  readonly #slot: Int32Array
  readonly #knownSet: Uint16Array
  readonly #unknownSet: Uint16Array
  #knownLeft = 0
  #unknownLeft = 0
  /** (known set, state) of each failed configuration to the unknown sets it failed with. */
  readonly #failed = new Map<string, string[]>()

  /** The choices made: each operation with the state (and its key) it was applied to. */
  readonly #stackOp: Int32Array
  readonly #stackState: S[] = []
  readonly #stackStateKey: string[] = []
  #depth = 0
  #state: S
  #stateKey: string

  /**
   * The deepest stack seen, for the failure report. `#agree` is how many of its bottom
   * entries the current stack shares with it, so a new maximum copies only what differs.
   */
  readonly #best: Int32Array
  #bestDepth = 0
  #bestState: S
  #agree = 0
  #blocked = -1
  #pending: number[] = []

  constructor(model: Model<S, I, O>, ops: readonly Operation<I, O>[], order: SearchOrder) {
    this.#model = model
    this.#ops = ops
    this.#knownFirst = order === 'known-first'
    this.#list = new EntryList(ops)
    this.#known = ops.map((op) => op.return !== Infinity)
    this.#slot = Int32Array.from(this.#known, (k) => (k ? this.#knownLeft++ : this.#unknownLeft++))
    this.#knownSet = new Uint16Array(Math.ceil(this.#knownLeft / 16))
    this.#unknownSet = new Uint16Array(Math.ceil(this.#unknownLeft / 16))
    this.#stackOp = new Int32Array(ops.length)
    this.#best = new Int32Array(ops.length)
    this.#state = this.#bestState = model.init()
    this.#stateKey = model.stateKey(this.#state)
  }

  run(maxSteps: number): SearchOutcome<S> {
    const list = this.#list
    let steps = 0
    // In 'known-first' order, each point is walked twice: known outcomes, then unknown ones.
    let knownPass = true
    let at = list.first
    // While an operation with a known outcome is left, so is its return entry, and the walk
    // (which stops at the first return entry) cannot run off the list.
    while (this.#knownLeft > 0) {
      if (!list.isReturn(at)) {
        const i = list.op(at)
        if (this.#knownFirst && this.#known[i] !== knownPass) {
          at = list.next(at)
          continue
        }
        if (steps >= maxSteps) return { result: 'unknown', steps }
        steps++
        if (this.#linearize(i)) {
          knownPass = true
          at = list.first
        } else at = list.next(at)
      } else if (this.#knownFirst && knownPass && this.#unknownLeft > 0) {
        knownPass = false
        at = list.first
      } else {
        this.#noteBlocked(at)
        if (this.#depth === 0) return this.#illegal(steps)
        if (steps >= maxSteps) return { result: 'unknown', steps }
        steps++
        const i = this.#undo()
        knownPass = this.#known[i]!
        at = list.next(list.callOf(i))
      }
    }
    return { result: 'ok', steps }
  }

  /** Linearizes operation `i` next, unless the model refuses it or a pruning rule applies. */
  #linearize(i: number): boolean {
    const known = this.#known[i]!
    const op = this.#ops[i]!
    const output = known ? op.output : undefined
    const next = this.#model.step(this.#state, op.input, output)
    if (!next.ok) return false
    const key = this.#model.stateKey(next.state)
    if (!known && key === this.#stateKey) return false
    if (this.#knownFirst && this.#overwritesUnknown(op.input, output, key)) return false
    this.#toggle(i)
    const unknown = setKey(this.#unknownSet)
    if (this.#failed.get(setKey(this.#knownSet) + key)?.some((u) => isSubset(u, unknown))) {
      this.#toggle(i)
      return false
    }
    const depth = this.#depth++
    this.#stackOp[depth] = i
    this.#stackState[depth] = this.#state
    this.#stackStateKey[depth] = this.#stateKey
    this.#state = next.state
    this.#stateKey = key
    this.#list.lift(i)
    if (known) this.#knownLeft--
    else this.#unknownLeft--
    if (depth >= this.#bestDepth) {
      this.#best.set(this.#stackOp.subarray(this.#agree, depth + 1), this.#agree)
      this.#bestDepth = this.#agree = depth + 1
      this.#bestState = next.state
      this.#blocked = -1
    }
    return true
  }

  /** Whether the last choice was an unknown outcome that `input` would leave no trace of. */
  #overwritesUnknown(input: I, output: O | undefined, key: string): boolean {
    const below = this.#depth - 1
    if (below < 0 || this.#known[this.#stackOp[below]!]) return false
    const without = this.#model.step(this.#stackState[below] as S, input, output)
    return without.ok && this.#model.stateKey(without.state) === key
  }

  /** Undoes the last choice, remembering its configuration as failed; returns its operation. */
  #undo(): number {
    const key = setKey(this.#knownSet) + this.#stateKey
    const unknown = setKey(this.#unknownSet)
    // Only the minimal unknown sets matter: a new one replaces those it is a subset of.
    const failed = this.#failed.get(key)?.filter((u) => !isSubset(unknown, u)) ?? []
    failed.push(unknown)
    this.#failed.set(key, failed)
    const depth = --this.#depth
    const i = this.#stackOp[depth]!
    this.#toggle(i)
    this.#state = this.#stackState[depth] as S
    this.#stateKey = this.#stackStateKey[depth]!
    this.#list.unlift(i)
    if (this.#known[i]) this.#knownLeft++
    else this.#unknownLeft++
    this.#agree = Math.min(this.#agree, depth)
    return i
  }

  #toggle(i: number): void {
    const set = this.#known[i] ? this.#knownSet : this.#unknownSet
    set[this.#slot[i]! >> 4]! ^= 1 << (this.#slot[i]! & 15)
  }

  /** At the deepest stack, the first deadline missed names the operation that got stuck. */
  #noteBlocked(at: number): void {
    if (this.#blocked >= 0 || this.#depth !== this.#bestDepth || this.#agree !== this.#depth) return
    const blocked = this.#list.op(at)
    this.#blocked = blocked
    this.#pending = this.#list.callsBefore(at).filter((op) => op !== blocked)
  }

  #illegal(steps: number): SearchOutcome<S> {
    return {
      result: 'illegal',
      steps,
      linearized: Array.from(this.#best.subarray(0, this.#bestDepth)),
      state: this.#bestState,
      blocked: this.#blocked,
      pending: this.#pending,
    }
  }
}

/** A bitset as a string of fixed length (one char per 16 bits), for memo keys. */
function setKey(bits: Uint16Array): string {
  let key = ''
  for (let i = 0; i < bits.length; i += KEY_CHUNK) {
    // `apply` takes the typed array as it is; spreading it would go through its iterator.
    key += String.fromCharCode.apply(null, bits.subarray(i, i + KEY_CHUNK) as unknown as number[])
  }
  return key
}

/** Whether every bit of `a` is set in `b` (both {@link setKey} strings of one bitset size). */
function isSubset(a: string, b: string): boolean {
  for (let i = 0; i < a.length; i++) if (a.charCodeAt(i) & ~b.charCodeAt(i)) return false
  return true
}
