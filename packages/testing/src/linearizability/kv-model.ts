/**
 * The sequential specification of a replicated key-value store (the Raft fuzzer's), as a
 * {@link Model} for the linearizability checker. Keys are independent objects, so the history
 * is checked one key at a time (P-compositionality); the state is the whole map anyway, so the
 * model is also correct on an unpartitioned history. Harnesses should write unique values
 * (client and sequence number): a read then names the write it saw, which keeps the search
 * small and failure messages unambiguous.
 */
import type { Model, Operation, Partition, StepResult } from './check.js'

/**
 * A key-value operation. A missing key reads as `null`; `append` to a missing key appends to
 * the empty string; `cas` with `expected: null` creates the key only if it is missing.
 */
export type KvInput =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'append'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string }
  | {
      readonly op: 'cas'
      readonly key: string
      readonly expected: string | null
      readonly next: string
    }

/**
 * What the client saw: for `get`, the value or `null` (missing; `undefined` is reserved for
 * an unknown outcome); for `cas`, whether it swapped. A `put`, `append` or `delete` reply is
 * an acknowledgement and is not checked (a write known to have failed belongs nowhere in the
 * history; one that may have been applied is an unknown outcome).
 */
export type KvOutput = string | boolean | null

/** Key to value; a deleted key is absent, so "deleted" and "never written" are the same state. */
export type KvState = ReadonlyMap<string, string>

/** Input constructors, for harnesses and hand-written histories. */
export const kv = {
  get: (key: string): KvInput => ({ op: 'get', key }),
  put: (key: string, value: string): KvInput => ({ op: 'put', key, value }),
  append: (key: string, value: string): KvInput => ({ op: 'append', key, value }),
  delete: (key: string): KvInput => ({ op: 'delete', key }),
  cas: (key: string, expected: string | null, next: string): KvInput => ({
    op: 'cas',
    key,
    expected,
    next,
  }),
}

function assign(state: KvState, key: string, value: string | null): KvState {
  const next = new Map(state)
  if (value === null) next.delete(key)
  else next.set(key, value)
  return next
}

function step(state: KvState, input: KvInput, output: KvOutput | undefined): StepResult<KvState> {
  const current = state.get(input.key) ?? null
  switch (input.op) {
    case 'get':
      return { ok: output === undefined || output === current, state }
    case 'put':
      return { ok: true, state: assign(state, input.key, input.value) }
    case 'append':
      return { ok: true, state: assign(state, input.key, (current ?? '') + input.value) }
    case 'delete':
      return { ok: true, state: assign(state, input.key, null) }
    case 'cas': {
      const swapped = current === input.expected
      if (output !== undefined && output !== swapped) return { ok: false, state }
      return { ok: true, state: swapped ? assign(state, input.key, input.next) : state }
    }
  }
}

/**
 * One partition per key, in order of first appearance. A `get` with an unknown outcome is
 * dropped: nobody saw its result and it changes nothing, so it constrains nothing, while
 * keeping it would double the configurations the search may visit for each such read.
 */
function partition(
  history: readonly Operation<KvInput, KvOutput>[],
): Partition<KvInput, KvOutput>[] {
  const byKey = new Map<string, Operation<KvInput, KvOutput>[]>()
  for (const op of history) {
    if (op.input.op === 'get' && op.return === Infinity) continue
    const ops = byKey.get(op.input.key)
    if (ops) ops.push(op)
    else byKey.set(op.input.key, [op])
  }
  return Array.from(byKey, ([label, operations]) => ({ label, operations }))
}

/** An output as the client saw it, `?` if unknown. */
const seen = (output: KvOutput | undefined): string =>
  output === undefined ? '?' : JSON.stringify(output)

function describeOperation(input: KvInput, output: KvOutput | undefined): string {
  const unknown = output === undefined ? ' -> ?' : ''
  switch (input.op) {
    case 'get':
      return `get(${input.key}) -> ${seen(output)}`
    case 'put':
      return `put(${input.key}, ${JSON.stringify(input.value)})${unknown}`
    case 'append':
      return `append(${input.key}, ${JSON.stringify(input.value)})${unknown}`
    case 'delete':
      return `delete(${input.key})${unknown}`
    case 'cas': {
      const swap = `${JSON.stringify(input.expected)} => ${JSON.stringify(input.next)}`
      return `cas(${input.key}, ${swap}) -> ${seen(output)}`
    }
  }
}

/** The entries in key order; partitioned by key, a state has at most one, so skip the sort. */
const sorted = (state: KvState): [string, string][] =>
  state.size < 2 ? [...state] : [...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

/** Entries sorted by key: one string per state, for memoization. */
const stateKey = (state: KvState): string => JSON.stringify(sorted(state))

const describeState = (state: KvState): string =>
  `{${sorted(state)
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
    .join(', ')}}`

/** The key-value model: partitioned by key, states compared by value. */
export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => new Map(),
  step,
  stateKey,
  partition,
  describeOperation,
  describeState,
}
