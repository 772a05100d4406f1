/**
 * The errors a Raft node rejects with. Every one is a `CodedError`; match on `code`.
 *
 * | Code | Meaning | What to do |
 * | --- | --- | --- |
 * | `RONY_ERR_NOT_LEADER` | A leader-only call on another server (`NotLeaderError`: `leaderId`, `leaderAddress`), or no leader known within the call's timeout (`propose` and `readIndex` wait for one). | Retry on the leader, or pass `forward: true`. |
 * | `RONY_ERR_LEADERSHIP_LOST` | Leadership was lost after the command was appended. | The outcome is unknown: retry only idempotent commands. |
 * | `RONY_ERR_TRANSFERRING` | Leadership is being handed over; proposals wait for the new leader. | Retry shortly (on the new leader). |
 * | `RONY_ERR_OVERLOADED` | The leader holds `maxUncommittedBytes` of uncommitted commands (no quorum, or too much load). | Back off and retry. |
 * | `RONY_ERR_UNKNOWN_SERVER` | A membership or transfer call named a server that is not a member (or not a voter). | Check `configuration()`. |
 * | `RONY_ERR_INVALID_CHANGE` | The change would leave no voter, or a transfer targets the leader itself. | Fix the call. |
 * | `RONY_ERR_MESSAGE_TOO_LARGE` | A command over `maxCommandBytes`. | Send less, or raise the limit. |
 * | `RONY_ERR_TIMEOUT` | The call's default timeout elapsed (`requestTimeout`). | The side effect may or may not have happened. |
 * | `RONY_ERR_NOT_STARTED`, `RONY_ERR_STOPPED` | Called before `start()`, or cut short by `stop()` (also `start()` after `stop()`: a node does not restart). | Start the node / nothing (create a new node to restart). |
 * | `RONY_ERR_ALREADY_IN_GROUP` | `bootstrap()` on a server in a group already: its storage holds a configuration (a restart on its data directory), or this run bootstrapped another list. | Nothing: it is a member; `configuration()` shows of what. |
 * | `RONY_ERR_STATE_MACHINE` | `apply`, `snapshot` or `restore` threw: the node stopped (replicas must not diverge); pending and later calls reject with it, and `raft:error` fires. | Fix the state machine; its error is the `cause`. |
 *
 * Storage adds `RONY_ERR_WAL_CORRUPT`, `RONY_ERR_SNAPSHOT_CORRUPT`,
 * `RONY_ERR_DATA_DIR_LOCKED` and `RONY_ERR_STORAGE_FAILED` (see the storage module), the wire codec `RONY_ERR_RAFT_MESSAGE`.
 *
 * @module
 */
import { CodedError } from '@rony/interface'
import type { Rejection } from './core/types.js'

export type RaftErrorCode =
  | 'RONY_ERR_NOT_LEADER'
  | 'RONY_ERR_LEADERSHIP_LOST'
  | 'RONY_ERR_TRANSFERRING'
  | 'RONY_ERR_OVERLOADED'
  | 'RONY_ERR_UNKNOWN_SERVER'
  | 'RONY_ERR_INVALID_CHANGE'
  | 'RONY_ERR_MESSAGE_TOO_LARGE'
  | 'RONY_ERR_TIMEOUT'
  | 'RONY_ERR_NOT_STARTED'
  | 'RONY_ERR_STOPPED'
  | 'RONY_ERR_STATE_MACHINE'
  | 'RONY_ERR_ALREADY_IN_GROUP'

/** A leader-only call reached another server. */
export class NotLeaderError extends CodedError<'RONY_ERR_NOT_LEADER'> {
  /**
   * @param leaderId - The leader this server knows of, if any.
   * @param leaderAddress - Its Raft address, when known.
   */
  constructor(
    readonly leaderId: string | undefined,
    readonly leaderAddress: string | undefined,
  ) {
    super(
      leaderId === undefined ? 'no leader is known' : `not the leader; the leader is ${leaderId}`,
      'RONY_ERR_NOT_LEADER',
    )
  }
}

export function raftError(
  code: RaftErrorCode,
  message: string,
  options?: ErrorOptions,
): CodedError {
  return new CodedError(message, code, options)
}

/**
 * The error for a request the core refused. (The node waits out `change-in-progress` and
 * takes `unchanged` as success for membership changes; neither reaches its callers.)
 */
export function rejectionError(rejection: Rejection): CodedError {
  switch (rejection.code) {
    case 'not-leader':
      return new NotLeaderError(rejection.leaderId, rejection.leaderAddress)
    case 'transferring':
      return raftError('RONY_ERR_TRANSFERRING', `leadership is moving to ${rejection.to}`)
    case 'uncommitted-limit':
      return raftError(
        'RONY_ERR_OVERLOADED',
        `${rejection.uncommittedBytes} bytes are uncommitted (limit ${rejection.limit})`,
      )
    case 'unknown-server':
      return raftError('RONY_ERR_UNKNOWN_SERVER', `${rejection.id} is not a member`)
    case 'invalid':
      return raftError('RONY_ERR_INVALID_CHANGE', rejection.reason)
    case 'change-in-progress':
      return raftError('RONY_ERR_INVALID_CHANGE', 'another configuration change is pending')
    case 'unchanged':
      return raftError('RONY_ERR_INVALID_CHANGE', 'the configuration already is that')
  }
}
