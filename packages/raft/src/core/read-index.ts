/**
 * Linearizable reads without writing to the log: ReadIndex (Raft thesis §6.4).
 *
 * 1. The leader must have committed an entry of its current term (its no-op), so that its
 *    commit index is at least every entry committed by earlier leaders; requests arriving
 *    before that wait.
 * 2. It records its commit index as the request's read index.
 * 3. It confirms it is still the leader: a heartbeat round acknowledged by a majority after
 *    the request arrived. Requests get increasing sequence numbers and heartbeats carry the
 *    latest one, so one round confirms every request queued before it, and a lost heartbeat
 *    is made up by the next periodic one.
 * 4. The read may then be served once the state machine has applied the read index.
 *
 * A deposed leader cannot confirm (a majority follows a newer leader), so it never answers
 * with a stale index. Followers and learners forward their requests to the leader.
 *
 * @module
 */

import { quorum } from './configuration.js'
import type { RaftState } from './state.js'
import type { Rejection } from './types.js'

interface PendingRead {
  readonly seq: number
  readonly index: number
  readonly context: string
  /** The server that asked: the leader itself, or a follower to answer. */
  readonly from: string
}

/** The leader's queue of reads waiting for step 1 or 3. */
export class ReadQueue {
  #seq = 0
  #pending: PendingRead[] = []
  #awaitingCommit: { readonly context: string; readonly from: string }[] = []

  /** The sequence number of the latest request, which heartbeats carry. */
  get lastSeq(): number {
    return this.#seq
  }

  /** Leadership changed: requests in the queue are dropped (their callers time out or retry). */
  reset(): void {
    this.#seq = 0
    this.#pending = []
    this.#awaitingCommit = []
  }

  awaitCommit(context: string, from: string): void {
    this.#awaitingCommit.push({ context, from })
  }

  /** Moves the requests waiting for step 1 to step 3, at read index `index`. */
  startAwaiting(index: number): boolean {
    const waiting = this.#awaitingCommit
    this.#awaitingCommit = []
    for (const r of waiting) this.add(index, r.context, r.from)
    return waiting.length > 0
  }

  add(index: number, context: string, from: string): void {
    this.#pending.push({ seq: ++this.#seq, index, context, from })
  }

  /** Removes and returns the requests, in order, whose sequence number is confirmed. */
  takeConfirmed(confirmed: (seq: number) => boolean): PendingRead[] {
    const n = this.#pending.findIndex((r) => !confirmed(r.seq))
    return this.#pending.splice(0, n < 0 ? this.#pending.length : n)
  }
}

/** Whether the leader has committed an entry of its term (step 1). */
function committedInTerm(s: RaftState): boolean {
  return s.log.term(s.commitIndex) === s.term
}

/**
 * A ReadIndex request for `context`, made locally (`from` is this server) or forwarded by a
 * follower.
 *
 * @returns A rejection when no leader is known to forward a local request to.
 */
export function requestRead(s: RaftState, context: string, from: string): Rejection | undefined {
  if (s.role !== 'leader') {
    if (from !== s.id) return undefined
    if (s.leaderId === undefined) {
      return { code: 'not-leader', leaderId: undefined, leaderAddress: undefined }
    }
    s.send({ type: 'read-index', from: s.id, to: s.leaderId, term: s.term, context })
    return undefined
  }
  if (!committedInTerm(s)) {
    s.reads.awaitCommit(context, from)
    return undefined
  }
  s.reads.add(s.commitIndex, context, from)
  // One heartbeat round confirms every request queued before it: the next Ready broadcasts
  // one for all the requests that arrived meanwhile, instead of one round per request.
  s.readHeartbeatDue = true
  releaseReads(s)
  return undefined
}

/** The commit index advanced on the leader: requests waiting for step 1 move on. */
export function onLeaderCommit(s: RaftState): void {
  if (committedInTerm(s) && s.reads.startAwaiting(s.commitIndex)) {
    s.readHeartbeatDue = true
    releaseReads(s)
  }
}

/** A follower echoed read sequence number `context` in a heartbeat response. */
export function onReadAck(s: RaftState, from: string, context: number): void {
  const pr = s.progress.get(from)
  if (pr === undefined || context <= pr.readContext) return
  pr.readContext = context
  releaseReads(s)
}

/** Answers every request a majority of voters has confirmed (step 3). */
function releaseReads(s: RaftState): void {
  const config = s.config.current
  const confirmed = (seq: number) =>
    config.voters.filter((v) => v.id === s.id || (s.progress.get(v.id)?.readContext ?? 0) >= seq)
      .length >= quorum(config)
  for (const r of s.reads.takeConfirmed(confirmed)) {
    if (r.from === s.id) s.readStates.push({ context: r.context, index: r.index })
    else {
      s.send({
        type: 'read-index-response',
        from: s.id,
        to: r.from,
        term: s.term,
        context: r.context,
        index: r.index,
      })
    }
  }
}
