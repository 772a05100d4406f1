/**
 * The sans-IO Raft core: the protocol as a deterministic state machine that the node wrapper
 * drives with ticks, messages and requests, and that answers with {@link Ready} batches.
 *
 * @module
 */

export type { ConfChange } from './configuration.js'
export { decodeConfiguration, encodeConfiguration } from './configuration.js'
export type {
  AppendAccepted,
  AppendEntries,
  AppendRejected,
  AppendResponse,
  ForwardRefusal,
  Heartbeat,
  HeartbeatResponse,
  InstallSnapshot,
  InstallSnapshotResponse,
  Message,
  MessageType,
  PreVote,
  PreVoteResponse,
  Propose,
  ProposeResponse,
  ReadIndex,
  ReadIndexResponse,
  RequestVote,
  RequestVoteResponse,
  SnapshotChunkAccepted,
  SnapshotInstalled,
  TimeoutNow,
} from './messages.js'
export type { RaftCoreOptions } from './options.js'
export { RaftCore } from './raft.js'
export type { Ready } from './ready.js'
export type {
  CoreRole,
  ForwardState,
  ProposeResult,
  ReadState,
  Rejection,
  RequestResult,
  SoftState,
} from './types.js'
