/**
 * @packageDocumentation
 *
 * `@rony/testing/linearizability`: a linearizability checker for recorded client histories
 * (Porcupine style: Wing & Gong's search with Lowe's memoization, per partition), a
 * key-value model, and a history recorder. It depends on nothing: no vitest, no other Rony
 * package, no Node built-in. `@rony/raft`'s fuzzer and the clustered edge's simulations
 * check their client histories with it.
 *
 * @example
 * ```ts
 * import { check, HistoryRecorder, type KvInput, type KvOutput, kv, kvModel } from '@rony/testing/linearizability'
 *
 * let now = 0
 * const history = new HistoryRecorder<KvInput, KvOutput>(() => now)
 * const put = history.invoke(1, kv.put('x', 'a'))
 * now = 5
 * history.complete(put, true)
 * const get = history.invoke(2, kv.get('x'))
 * now = 8
 * history.complete(get, 'a')
 * console.log(check(history.history(), kvModel).result) // 'ok'
 * ```
 */

export {
  type CheckOptions,
  type CheckResult,
  check,
  DEFAULT_MAX_STEPS,
  type Defined,
  type Failure,
  type Model,
  type Operation,
  type Partition,
  type PartitionResult,
  type StepResult,
  type Verdict,
} from './check.js'
export {
  type DescribeOperation,
  formatHistory,
  formatOperation,
  HistoryRecorder,
} from './history.js'
export { type KvInput, type KvOutput, type KvState, kv, kvModel } from './kv-model.js'
