/**
 * What a {@link RaftCore} is built from: the recovered durable state, the bootstrap
 * configuration, and the protocol's timing and flow-control knobs.
 *
 * @module
 */

import { integerOption } from '@rony/interface'
import type { Configuration, RecoveredState } from '../storage/types.js'

export interface RaftCoreOptions {
  /** This server's id, as in the configuration. */
  readonly id: string
  /** What `LogStorage.open()` returned (a fresh node: term 0, no snapshot, no entries). */
  readonly recovered: RecoveredState
  /**
   * The initial configuration of a new cluster; used only while neither the log nor the
   * snapshot holds one, so pass the same value on every start. Omit it on a server that
   * joins an existing cluster: it waits for the leader to replicate the configuration.
   */
  readonly bootstrap?: Configuration
  /**
   * Draws in `[0, 1)` that randomize election timeouts (Raft paper §5.2). Inject a seeded
   * generator to make a simulation reproducible.
   */
  readonly random: () => number
  /**
   * Minimum election timeout, in ticks: a follower that hears nothing from a leader for a
   * random time in `[electionTicks, 2 × electionTicks)` starts an election. It is also the
   * leader's check-quorum period and the leadership-transfer deadline. Default 10.
   */
  readonly electionTicks?: number
  /** Ticks between the leader's heartbeats; below `electionTicks`. Default 1. */
  readonly heartbeatTicks?: number
  /** Most AppendEntries batches in flight to one follower (pipelining). Default 256. */
  readonly maxInflight?: number
  /** Most bytes of entries in flight to one follower. Default 32 MiB. */
  readonly maxInflightBytes?: number
  /** Most bytes of entries per AppendEntries (one entry is always sent). Default 1 MiB. */
  readonly maxBatchBytes?: number
  /**
   * Most payload bytes the leader holds uncommitted before refusing proposals (the first
   * proposal after a commit is always taken), so a leader cut off from its quorum does not
   * grow without bound. Default 64 MiB.
   */
  readonly maxUncommittedBytes?: number
  /** Bytes per InstallSnapshot chunk. Default 1 MiB. */
  readonly snapshotChunkBytes?: number
  /** Pre-vote (thesis §9.6). Default true. */
  readonly preVote?: boolean
  /** Check-quorum and leader stickiness (thesis §6.2, §4.2.3). Default true. */
  readonly checkQuorum?: boolean
}

export interface ResolvedOptions {
  readonly electionTicks: number
  readonly heartbeatTicks: number
  readonly maxInflight: number
  readonly maxInflightBytes: number
  readonly maxBatchBytes: number
  readonly maxUncommittedBytes: number
  readonly snapshotChunkBytes: number
  readonly preVote: boolean
  readonly checkQuorum: boolean
}

const MiB = 1024 * 1024

/** Applies defaults; throws a RangeError naming the first invalid option. */
export function resolveOptions(o: RaftCoreOptions): ResolvedOptions {
  if (o.id === '') throw new RangeError('id must be a non-empty string')
  const electionTicks = integerOption('electionTicks', o.electionTicks ?? 10, 2)
  return {
    electionTicks,
    heartbeatTicks: integerOption('heartbeatTicks', o.heartbeatTicks ?? 1, 1, electionTicks - 1),
    maxInflight: integerOption('maxInflight', o.maxInflight ?? 256, 1),
    maxInflightBytes: integerOption('maxInflightBytes', o.maxInflightBytes ?? 32 * MiB, 1),
    maxBatchBytes: integerOption('maxBatchBytes', o.maxBatchBytes ?? MiB, 1),
    maxUncommittedBytes: integerOption('maxUncommittedBytes', o.maxUncommittedBytes ?? 64 * MiB, 1),
    snapshotChunkBytes: integerOption('snapshotChunkBytes', o.snapshotChunkBytes ?? MiB, 1),
    preVote: o.preVote ?? true,
    checkQuorum: o.checkQuorum ?? true,
  }
}
