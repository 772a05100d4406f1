/**
 * The messages Raft servers exchange. Plain objects discriminated by `type`, holding only
 * numbers, strings, booleans, `Uint8Array`s and arrays or objects of those, so that a codec
 * can serialize them field by field. Every message names its sender, its recipient and the
 * sender's term: Raft's term rule (§5.1 of the Raft paper) is applied to all of them before
 * anything else.
 *
 * @module
 */

import type { LogEntry, SnapshotMeta } from '../storage/types.js'
import type { Rejection } from './types.js'

/** Fields every message has. */
interface Envelope {
  readonly from: string
  readonly to: string
  /**
   * The sender's current term; for a {@link PreVote}, the term it would campaign in; for a
   * granted {@link PreVoteResponse}, the term of the request it answers.
   */
  readonly term: number
}

/**
 * Pre-vote (Raft thesis §9.6): "would you vote for me in `term`?", asked before a server
 * increments its term, so that a server that cannot win (partitioned, or with a stale log)
 * never raises the cluster's term and never deposes a working leader.
 */
export interface PreVote extends Envelope {
  readonly type: 'pre-vote'
  readonly lastIndex: number
  readonly lastTerm: number
}

export interface PreVoteResponse extends Envelope {
  readonly type: 'pre-vote-response'
  readonly granted: boolean
}

/** RequestVote RPC (Raft paper §5.2, Figure 2). */
export interface RequestVote extends Envelope {
  readonly type: 'request-vote'
  readonly lastIndex: number
  readonly lastTerm: number
  /**
   * The election was started by a {@link TimeoutNow} (leadership transfer, thesis §3.10):
   * voters must not ignore it because they heard from the leader recently (§4.2.3).
   */
  readonly transfer: boolean
}

export interface RequestVoteResponse extends Envelope {
  readonly type: 'request-vote-response'
  readonly granted: boolean
}

/** AppendEntries RPC (Raft paper §5.3, Figure 2), carrying a batch of entries. */
export interface AppendEntries extends Envelope {
  readonly type: 'append-entries'
  /** Index of the entry just before `entries`. */
  readonly prevIndex: number
  /** Term of the entry at `prevIndex`. */
  readonly prevTerm: number
  readonly entries: readonly LogEntry[]
  /** The leader's commit index. */
  readonly commit: number
}

/** The follower's log holds the entries up to `matchIndex`, which match the leader's. */
export interface AppendAccepted extends Envelope {
  readonly type: 'append-response'
  readonly success: true
  readonly matchIndex: number
}

/**
 * The follower's log does not hold `rejectedIndex` with the leader's term. The hint lets the
 * leader skip a whole term of conflicting entries per round trip instead of one entry (Raft
 * paper §5.3, "the follower can include the term of the conflicting entry and the first index
 * it stores for that term"), in etcd's refined form: `hintIndex` is the follower's last entry
 * whose term is at or below the leader's `prevTerm`, and `hintTerm` that entry's term. The
 * leader then probes at its own last entry at or below `hintIndex` whose term is at or below
 * `hintTerm`, which skips divergent terms on both sides at once.
 */
export interface AppendRejected extends Envelope {
  readonly type: 'append-response'
  readonly success: false
  readonly rejectedIndex: number
  readonly hintIndex: number
  readonly hintTerm: number
}

export type AppendResponse = AppendAccepted | AppendRejected

/**
 * The leader's periodic heartbeat (Raft paper §5.2). It carries no entries, so it is never
 * rejected for a log mismatch; `commit` is capped at what the recipient is known to hold, so
 * that it never commits entries the leader has not confirmed in its log.
 */
export interface Heartbeat extends Envelope {
  readonly type: 'heartbeat'
  readonly commit: number
  /**
   * The leader's latest ReadIndex sequence number (thesis §6.4): a response echoing it
   * confirms that the responder still followed this leader after every read request up to
   * that number arrived.
   */
  readonly context: number
}

export interface HeartbeatResponse extends Envelope {
  readonly type: 'heartbeat-response'
  readonly context: number
}

/**
 * One chunk of the InstallSnapshot RPC (Raft paper §7, Figure 13): the leader sends the
 * snapshot in order, one chunk per round trip, to a follower whose next entry it has
 * compacted.
 */
export interface InstallSnapshot extends Envelope {
  readonly type: 'install-snapshot'
  readonly meta: SnapshotMeta
  /** Byte offset of `data` in the snapshot. */
  readonly offset: number
  readonly data: Uint8Array
  /** This is the last chunk. */
  readonly done: boolean
}

/** The follower holds the snapshot's first `nextOffset` bytes and wants the rest. */
export interface SnapshotChunkAccepted extends Envelope {
  readonly type: 'install-snapshot-response'
  readonly done: false
  readonly snapshotIndex: number
  readonly snapshotTerm: number
  readonly nextOffset: number
}

/** The follower installed the snapshot (or already had it): its log matches up to `matchIndex`. */
export interface SnapshotInstalled extends Envelope {
  readonly type: 'install-snapshot-response'
  readonly done: true
  readonly matchIndex: number
}

export type InstallSnapshotResponse = SnapshotChunkAccepted | SnapshotInstalled

/** Leadership transfer (thesis §3.10): "start an election now", to an up-to-date voter. */
export interface TimeoutNow extends Envelope {
  readonly type: 'timeout-now'
}

/** A follower's or learner's ReadIndex request, forwarded to the leader (thesis §6.4). */
export interface ReadIndex extends Envelope {
  readonly type: 'read-index'
  readonly context: string
}

/** The leader's answer: reads for `context` may be served once `index` is applied. */
export interface ReadIndexResponse extends Envelope {
  readonly type: 'read-index-response'
  readonly context: string
  readonly index: number
}

/** A command a follower or learner forwards to the leader to propose (`forward`). */
export interface Propose extends Envelope {
  readonly type: 'propose'
  readonly context: string
  readonly data: Uint8Array
}

/**
 * The answer to a {@link Propose}: the command was appended at `index` in the sender's
 * `term`, or, with `index` 0, refused. A server that does not lead refuses with
 * `not-leader` (naming the leader it knows, if any).
 */
export interface ProposeResponse extends Envelope {
  readonly type: 'propose-response'
  readonly context: string
  readonly index: number
  readonly refused: ForwardRefusal | undefined
}

/** Why a forwarded proposal was refused: a `propose` rejection. */
export type ForwardRefusal = Extract<
  Rejection,
  { code: 'not-leader' | 'transferring' | 'uncommitted-limit' }
>

export type Message =
  | PreVote
  | PreVoteResponse
  | RequestVote
  | RequestVoteResponse
  | AppendEntries
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | InstallSnapshot
  | InstallSnapshotResponse
  | TimeoutNow
  | ReadIndex
  | ReadIndexResponse
  | Propose
  | ProposeResponse

export type MessageType = Message['type']

/**
 * Messages that need not wait for the sender's disk when its term and vote are already
 * durable: a leader's (thesis §10.2.1: the leader counts its own log in the commit quorum
 * only once its entries are durable, so it may replicate them while its own write is in
 * progress), and answers to forwarded proposals, which promise nothing durable.
 */
export function isLeaderMessage(m: Message): boolean {
  return (
    m.type === 'append-entries' ||
    m.type === 'heartbeat' ||
    m.type === 'install-snapshot' ||
    m.type === 'timeout-now' ||
    m.type === 'read-index-response' ||
    m.type === 'propose-response'
  )
}
