/**
 * @packageDocumentation
 *
 * `@rony/raft/testing`: what Raft's own tests use, for yours: a simulated disk that loses
 * unsynced writes on `crash()`. The linearizability checker the Raft fuzzer uses is
 * `@rony/testing/linearizability`.
 */

export {
  type SimulatedDisk,
  type SimulatedDiskInit,
  type SimulatedDiskOp,
  type SimulatedDiskStats,
  simulatedDisk,
} from './sim-disk.js'
