/**
 * Recording a client history for the linearizability checker, and printing one.
 *
 * A test harness calls {@link HistoryRecorder.invoke} when a client sends a request and
 * {@link HistoryRecorder.complete} when it sees the reply, or {@link HistoryRecorder.unknown}
 * when it gives up without knowing whether the request took effect (timeout, crashed client,
 * lost connection). Times come from an injected clock, the simulation's virtual one. Events
 * at the same instant are ordered by the checker's tie rule (a reply at t before a request at
 * t), which is right as long as no request takes effect at the very instant it is sent.
 */
import type { Defined, Operation } from './check.js'

/** Renders an operation's input and output; `output` undefined means the outcome is unknown. */
export type DescribeOperation<I, O> = (input: I, output: O | undefined) => string

/** JSON for both sides, `?` for an unknown output: the fallback when a model has no describer. */
const describeJson: DescribeOperation<unknown, unknown> = (input, output) =>
  `${JSON.stringify(input)} -> ${output === undefined ? '?' : JSON.stringify(output)}`

interface Recorded<I, O> {
  client: number
  input: I
  output: O | undefined
  call: number
  return: number
  resolved: boolean
}

/**
 * Records operations in the order the harness reports them. An operation still in flight
 * when {@link HistoryRecorder.history} is read has an unknown outcome: the run ended before
 * anyone learned whether it took effect.
 */
export class HistoryRecorder<I, O extends Defined> {
  readonly #now: () => number
  readonly #ops: Recorded<I, O>[] = []
  #last = -Infinity

  /** @param now - The clock read at every call and return (monotone, e.g. a virtual clock). */
  constructor(now: () => number) {
    this.#now = now
  }

  /** Records that `client` issued `input` now; returns the handle for `complete`/`unknown`. */
  invoke(client: number, input: I): number {
    this.#ops.push({
      client,
      input,
      output: undefined,
      call: this.#time(),
      return: Infinity,
      resolved: false,
    })
    return this.#ops.length - 1
  }

  /** Records that the client saw `output` for operation `op` now. */
  complete(op: number, output: O): void {
    // Also a runtime check: undefined is how the checker marks an unknown outcome.
    if (output === undefined) throw new TypeError('complete() needs an output: use unknown()')
    const recorded = this.#resolve(op)
    recorded.output = output
    recorded.return = this.#time()
  }

  /**
   * Records that the client gave up on `op` without knowing whether it took effect. It stays
   * concurrent with everything after its call; the checker lets it take effect anywhere
   * after that, or never. A reply that arrives later anyway is dropped by the harness.
   */
  unknown(op: number): void {
    this.#resolve(op)
  }

  /** The operations so far, in invocation order (a copy; the recorder can go on). */
  history(): Operation<I, O>[] {
    return this.#ops.map(({ client, input, output, call, return: ret }) => ({
      client,
      input,
      output,
      call,
      return: ret,
    }))
  }

  /** Marks `op` resolved; a harness resolving one twice has lost track of its requests. */
  #resolve(op: number): Recorded<I, O> {
    const recorded = this.#ops[op]
    if (!recorded) throw new RangeError(`no operation ${op}`)
    if (recorded.resolved) throw new Error(`operation ${op} was already completed or given up`)
    recorded.resolved = true
    return recorded
  }

  #time(): number {
    const now = this.#now()
    if (!(now >= this.#last))
      throw new RangeError(`clock went backwards: ${now} after ${this.#last}`)
    this.#last = now
    return now
  }
}

/**
 * One operation as a line: `#index c<client> [call, return] description`, with `inf` for
 * the return of an unknown outcome.
 */
export function formatOperation<I, O>(
  op: Operation<I, O>,
  index: number,
  describe: DescribeOperation<I, O> = describeJson,
): string {
  const ret = op.return === Infinity ? 'inf' : String(op.return)
  const output = op.return === Infinity ? undefined : op.output
  return `#${index} c${op.client} [${op.call}, ${ret}] ${describe(op.input, output)}`
}

/** A history one operation a line, ordered by call time, numbered by position in `history`. */
export function formatHistory<I, O>(
  history: readonly Operation<I, O>[],
  describe: DescribeOperation<I, O> = describeJson,
): string {
  return history
    .map((op, index) => ({ op, index }))
    .sort((a, b) => a.op.call - b.op.call || a.index - b.index)
    .map(({ op, index }) => formatOperation(op, index, describe))
    .join('\n')
}
