/**
 * @packageDocumentation
 *
 * `@rony/raft/testing`: what Raft's own tests use, for yours: a simulated disk that loses
 * unsynced writes on `crash()`, and a linearizability checker (Porcupine style) with a
 * key-value model and a history recorder.
 */

export {
  type DescribeOperation,
  formatHistory,
  formatOperation,
  HistoryRecorder,
} from './history.js'
export { type KvInput, type KvOutput, type KvState, kv, kvModel } from './kv-model.js'
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
} from './linearizability.js'
export {
  type SimulatedDisk,
  type SimulatedDiskInit,
  type SimulatedDiskOp,
  type SimulatedDiskStats,
  simulatedDisk,
} from './sim-disk.js'
