/**
 * A linearizability checker for recorded client histories, in the style of Porcupine
 * (Athalye): Wing & Gong's search with Lowe's memoization ("Testing for linearizability",
 * 2017), applied per partition of the history (P-compositionality, Horn & Kroening).
 *
 * The Raft fuzzer's pass/fail (and the clustered edge's) rests on this, so the design is
 * biased towards soundness: a verdict of 'ok' means a linearization was found and replayed
 * through the model; 'illegal' means the whole search space was exhausted; anything cut short
 * by the step budget is 'unknown', never 'ok'.
 *
 * Times: `call` and `return` are any monotone numbers (a virtual clock in the fuzzer).
 * Tie rule: an operation whose `return` equals another's `call` happened before it (a reply
 * at t preceded a request at t). This is sound whenever an operation takes effect strictly
 * after it is called or strictly before it returns (any positive message delay gives that).
 * The one exception is an operation taking no time (`call === return`): it is concurrent
 * with every other operation called at that instant, zero-time ones included, because
 * "returned before the other was called" would otherwise order such operations both ways.
 *
 * Unknown outcomes (the client timed out or crashed): `return: Infinity`. Like Porcupine and
 * Knossos, such an operation may take effect at any point after its call, its output is not
 * checked, and it may also never take effect: the search succeeds once every operation with
 * a known outcome is linearized, whatever is left of the unknown ones. Many of them on one
 * partition make proving a history illegal exponentially harder (any subset may have taken
 * effect); search.ts prunes what it soundly can, and the step budget turns
 * the rest into 'unknown'.
 */
import { formatOperation } from './history.js'
import { search } from './search.js'

/** One client operation of a history. */
export interface Operation<I, O> {
  /** Who issued it; used in messages only (clients need not be sequential). */
  readonly client: number
  readonly input: I
  /** What the client saw; ignored (and usually `undefined`) when `return` is `Infinity`. */
  readonly output: O | undefined
  /** When the client issued it. */
  readonly call: number
  /** When the client saw the reply; `Infinity` if it never will (unknown outcome). */
  readonly return: number
}

/**
 * Any value but `undefined`: what an output may be, since `undefined` is how the checker tells
 * a model that the outcome is unknown (so a model reports an absent value as `null`).
 */
export type Defined = NonNullable<unknown> | null

/** A model's verdict on one step: whether the output is possible, and the state after. */
export interface StepResult<S> {
  readonly ok: boolean
  readonly state: S
}

/** An independently checkable part of a history (for a key-value store: one key). */
export interface Partition<I, O> {
  /** Names the partition in messages, e.g. the key. */
  readonly label: string
  readonly operations: readonly Operation<I, O>[]
}

/** A sequential specification of the object the history operated on. */
export interface Model<S, I, O extends Defined> {
  init(): S
  /**
   * Applies `input` to `state`. With `output` defined, `ok` says whether a sequential object
   * could have answered that; with `output` undefined (unknown outcome) the model only says
   * which state the operation leads to. Must not mutate `state`: the search backtracks.
   */
  step(state: S, input: I, output: O | undefined): StepResult<S>
  /**
   * Equal for equal states, different for different ones: the memoization key. A key shared
   * by two different states would prune a configuration unexplored; different keys for
   * equal states only cost time.
   */
  stateKey(state: S): string
  /**
   * Splits a history into parts that are linearizable independently, such that the whole is
   * linearizable iff every part is; each part is searched on its own, which is exponentially
   * cheaper than the whole. Without it the history is one partition.
   */
  partition?(history: readonly Operation<I, O>[]): Partition<I, O>[]
  /** Renders an operation for messages; `output` undefined means unknown. Default: JSON. */
  describeOperation?(input: I, output: O | undefined): string
  /** Renders a state for messages. Default: {@link Model.stateKey}. */
  describeState?(state: S): string
}

export interface CheckOptions {
  /**
   * Search steps (one model step or one backtrack each) allowed per partition before it is
   * given up as 'unknown'. A step count rather than a timeout so that a seeded fuzz run gets
   * the same verdict on every machine (and because the search is synchronous, a timer-driven
   * `AbortSignal` could not interrupt it anyway). Default {@link DEFAULT_MAX_STEPS}.
   */
  readonly maxSteps?: number
}

/**
 * A second or two of search and a few hundred megabytes of memo at most per partition; a fuzz
 * history checks in a few steps per operation, so hitting this means it is pathological.
 */
export const DEFAULT_MAX_STEPS = 1_000_000

export type Verdict = 'ok' | 'illegal' | 'unknown'

/** Why a partition is not linearizable, in terms of the deepest point the search reached. */
export interface Failure<I, O> {
  /** The longest linearizable prefix found, in linearization order. */
  readonly linearized: readonly Operation<I, O>[]
  /** The model state after that prefix, rendered by the model. */
  readonly state: string
  /** An operation that returned before it could be linearized after that prefix. */
  readonly blocked: Operation<I, O>
  /** The other operations already called but not linearized when `blocked` returned. */
  readonly pending: readonly Operation<I, O>[]
}

interface PartitionSummary {
  readonly label: string
  /** How many operations the partition holds. */
  readonly operations: number
  /** How many search steps it took (at most `maxSteps`). */
  readonly steps: number
}

export type PartitionResult<I, O> = PartitionSummary &
  (
    | { readonly result: 'ok' | 'unknown' }
    | { readonly result: 'illegal'; readonly failure: Failure<I, O> }
  )

export interface CheckResult<I, O> {
  /** 'illegal' if any partition is, else 'unknown' if any ran out of steps, else 'ok'. */
  readonly result: Verdict
  readonly partitions: readonly PartitionResult<I, O>[]
  /** A readable summary; for 'illegal', each failing partition's failure in detail. */
  readonly message: string
}

/** How many operations of the linearizable prefix a failure message shows. */
const PREFIX_SHOWN = 10

/**
 * Checks that `history` is linearizable with respect to `model`. Every partition is searched
 * (within its step budget) so that a failure message names every failing key.
 *
 * @throws TypeError if an operation's times are not numbers with `call <= return`, or a
 *   completed operation (finite `return`) has no output.
 */
export function check<S, I, O extends Defined>(
  history: readonly Operation<I, O>[],
  model: Model<S, I, O>,
  options: CheckOptions = {},
): CheckResult<I, O> {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS
  if (!(maxSteps > 0)) throw new RangeError(`maxSteps must be positive, got ${maxSteps}`)
  history.forEach(validate)
  const parts = model.partition?.(history) ?? [{ label: 'history', operations: history }]
  const partitions = parts.map(({ label, operations }): PartitionResult<I, O> => {
    const outcome = search(model, operations, maxSteps)
    const summary = { label, operations: operations.length, steps: outcome.steps }
    if (outcome.result !== 'illegal') return { ...summary, result: outcome.result }
    const at = (i: number): Operation<I, O> => operations[i]!
    const failure: Failure<I, O> = {
      linearized: outcome.linearized.map(at),
      state: model.describeState?.(outcome.state) ?? model.stateKey(outcome.state),
      blocked: at(outcome.blocked),
      pending: outcome.pending.map(at),
    }
    return { ...summary, result: 'illegal', failure }
  })
  const result = partitions.some((p) => p.result === 'illegal')
    ? 'illegal'
    : partitions.some((p) => p.result === 'unknown')
      ? 'unknown'
      : 'ok'
  return { result, partitions, message: render(result, partitions, history, model) }
}

function validate<I, O>(op: Operation<I, O>, index: number): void {
  const { call, return: ret } = op
  if (!Number.isFinite(call) || Number.isNaN(ret) || ret < call) {
    throw new TypeError(`operation #${index}: need finite call <= return, got [${call}, ${ret}]`)
  }
  if (ret !== Infinity && op.output === undefined) {
    throw new TypeError(`operation #${index} returned without an output: use return Infinity`)
  }
}

function render<S, I, O extends Defined>(
  result: Verdict,
  partitions: readonly PartitionResult<I, O>[],
  history: readonly Operation<I, O>[],
  model: Model<S, I, O>,
): string {
  const count = `${history.length} operations in ${partitions.length} partitions`
  if (result === 'ok') return `linearizable (${count})`
  const unknown = partitions.filter((p) => p.result === 'unknown').map((p) => p.label)
  const undecided = unknown.length
    ? `step budget exhausted, undecided: ${unknown.map((l) => JSON.stringify(l)).join(', ')}`
    : ''
  if (result === 'unknown') return `unknown (${count}): ${undecided}`

  const index = new Map(history.map((op, i) => [op, i]))
  const describe = model.describeOperation?.bind(model)
  const line = (op: Operation<I, O>): string =>
    `    ${formatOperation(op, index.get(op) ?? -1, describe)}`
  const lines = [`not linearizable (${count})`]
  for (const p of partitions) {
    if (p.result !== 'illegal') continue
    const { linearized, state, blocked, pending } = p.failure
    const shown = linearized.slice(-PREFIX_SHOWN)
    lines.push(
      `  partition ${JSON.stringify(p.label)}: ${p.operations} operations, ${p.steps} steps`,
      `  longest linearizable prefix: ${linearized.length} of ${p.operations} operations` +
        (shown.length < linearized.length ? `, the last ${shown.length}:` : ':'),
      ...shown.map(line),
      `  state after it: ${state}`,
      '  cannot be linearized next:',
      line(blocked),
      `  also pending when it returned:${pending.length ? '' : ' none'}`,
      ...pending.map(line),
    )
  }
  if (undecided) lines.push(`  ${undecided}`)
  return lines.join('\n')
}
