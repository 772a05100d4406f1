/**
 * The core's output batch (etcd raft's `Ready`): what to persist, send and apply. The node
 * wrapper handles one Ready at a time, in this order:
 *
 * 1. Send `eagerMessages` at once.
 * 2. Persist `snapshot` (restoring the state machine from it), then `entries`, and
 *    `hardState`, and wait until they are durable.
 * 3. Send `messages`.
 * 4. Take `forwardStates` (where forwarded proposals went), apply `committedEntries` in
 *    order, serve `readStates` once their index is applied.
 * 5. Call `advance(ready)`.
 *
 * Step 4 need not wait for step 2: committed entries are durable on a majority already, so
 * a node may apply them while its own write of newer (or the same) entries is in progress,
 * as etcd does. Step 3 waits for step 2 because answers promise durability: a vote must
 * not be forgotten by a crash, and an acknowledged entry counts toward commitment. The
 * leader's replication messages are the exception (thesis §10.2.1): the leader counts its
 * own log in the commit quorum only after `advance()` reports it durable, so it may
 * replicate entries while its own write is in progress. They are only eager when this
 * Ready does not change the term or vote, which must be durable before any message of the
 * term leaves.
 *
 * @module
 */

import type { Configuration, HardState, LogEntry, Snapshot } from '../storage/types.js'
import { isLeaderMessage, type Message } from './messages.js'
import type { RaftState } from './state.js'
import type { ForwardState, ReadState, SoftState } from './types.js'

export interface Ready {
  /** Role, leader or term changed since the previous Ready (for events). */
  readonly softState: SoftState | undefined
  /** Term or vote changed: persist before sending `messages`. */
  readonly hardState: HardState | undefined
  /**
   * A snapshot received from the leader: persist it (`LogStorage.saveSnapshot`) and restore
   * the state machine from it, before `entries` and before `committedEntries`.
   */
  readonly snapshot: Snapshot | undefined
  /**
   * Entries to append (`LogStorage.append`). The first may be at or below the last stored
   * index: storage then discards its entries from there (a follower's log conflict).
   */
  readonly entries: readonly LogEntry[]
  /** May be sent before this Ready is durable. */
  readonly eagerMessages: readonly Message[]
  /** Send only once this Ready's snapshot, entries and hard state are durable. */
  readonly messages: readonly Message[]
  /** Committed entries to apply, in order; each appears in exactly one Ready. */
  readonly committedEntries: readonly LogEntry[]
  /** Confirmed ReadIndex requests of this server. */
  readonly readStates: readonly ReadState[]
  /** The leader's answers to this server's forwarded proposals. */
  readonly forwardStates: readonly ForwardState[]
  /** The configuration in force changed (appended, installed or rolled back). */
  readonly configuration: Configuration | undefined
}

/** Remembers what previous Readys reported, so that each Ready holds only changes. */
export class ReadyTracker {
  #softState: SoftState
  #hardState: HardState
  #configuration: Configuration
  #inFlight: Ready | undefined

  constructor(s: RaftState) {
    this.#softState = softState(s)
    this.#hardState = { term: s.term, votedFor: s.votedFor }
    this.#configuration = s.config.current
  }

  get inFlight(): Ready | undefined {
    return this.#inFlight
  }

  /** Whether there is anything for a Ready (always false while one is in flight). */
  hasReady(s: RaftState): boolean {
    if (this.#inFlight !== undefined) return false
    return (
      s.readHeartbeatDue ||
      s.msgs.length > 0 ||
      s.readStates.length > 0 ||
      s.forwardStates.length > 0 ||
      s.pendingSnapshot !== undefined ||
      s.log.hasUnstable() ||
      s.commitIndex > s.applied ||
      s.term !== this.#hardState.term ||
      s.votedFor !== this.#hardState.votedFor ||
      s.config.current !== this.#configuration ||
      !sameSoftState(softState(s), this.#softState)
    )
  }

  /** Builds the next Ready and takes its contents out of the state. */
  take(s: RaftState): Ready {
    if (this.#inFlight !== undefined) throw new Error('raft: advance() the previous Ready first')
    const soft = softState(s)
    const hardChanged = s.term !== this.#hardState.term || s.votedFor !== this.#hardState.votedFor
    const snapshot = s.pendingSnapshot
    s.pendingSnapshot = undefined
    // After a snapshot, entries from its index on are applied by restoring it.
    if (snapshot !== undefined) s.applied = snapshot.meta.index
    const committedEntries =
      s.commitIndex > s.applied ? s.log.slice(s.applied + 1, s.commitIndex)! : []
    s.applied = Math.max(s.applied, s.commitIndex)
    const eager: Message[] = []
    const later: Message[] = []
    for (const m of s.msgs) (!hardChanged && isLeaderMessage(m) ? eager : later).push(m)
    const ready: Ready = {
      softState: sameSoftState(soft, this.#softState) ? undefined : soft,
      hardState: hardChanged ? { term: s.term, votedFor: s.votedFor } : undefined,
      snapshot,
      entries: s.log.takeUnstable(),
      eagerMessages: eager,
      messages: later,
      committedEntries,
      readStates: s.readStates,
      forwardStates: s.forwardStates,
      configuration: s.config.current === this.#configuration ? undefined : s.config.current,
    }
    s.msgs = []
    s.readStates = []
    s.forwardStates = []
    this.#softState = soft
    if (ready.hardState !== undefined) this.#hardState = ready.hardState
    this.#configuration = s.config.current
    this.#inFlight = ready
    return ready
  }

  /** The wrapper is done with `ready`: the next one may be taken. */
  finish(ready: Ready): void {
    if (ready !== this.#inFlight) throw new Error('raft: advance() with a Ready not from ready()')
    this.#inFlight = undefined
  }
}

function softState(s: RaftState): SoftState {
  return { role: s.role, leaderId: s.leaderId, term: s.term }
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leaderId === b.leaderId && a.term === b.term
}
