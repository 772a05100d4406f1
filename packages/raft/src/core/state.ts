/**
 * The state one Raft server keeps (Raft paper Figure 2, plus the thesis' extensions) and its
 * role transitions. The protocol's handlers (election, replication, follower, read-index)
 * are functions over this state; {@link RaftCore} is the public face.
 *
 * @module
 */

import type { EntryKind, LogEntry, Snapshot } from '../storage/types.js'
import {
  ConfigurationTracker,
  EMPTY_CONFIGURATION,
  encodeConfiguration,
  isMember,
  isVoter,
} from './configuration.js'
import { SnapshotReceiver } from './follower.js'
import { RaftLog } from './log.js'
import type { Message } from './messages.js'
import type { RaftCoreOptions, ResolvedOptions } from './options.js'
import { Inflights, Progress } from './progress.js'
import { ReadQueue } from './read-index.js'
import type { CoreRole, ForwardState, ReadState } from './types.js'

/** How many forwarded proposals a leader remembers, to recognize duplicated requests. */
const FORWARDS_REMEMBERED = 4096

export class RaftState {
  readonly id: string
  readonly opts: ResolvedOptions
  readonly random: () => number
  readonly log: RaftLog
  readonly config: ConfigurationTracker
  /** Latest term seen; durable (Figure 2). */
  term: number
  /** Candidate voted for in `term`; durable (Figure 2). */
  votedFor: string | undefined
  role: CoreRole = 'follower'
  leaderId: string | undefined
  /** Highest index known committed; volatile, so 0 (or the snapshot's index) after a restart. */
  commitIndex: number
  /** Highest index handed to the state machine (entries, or a snapshot, in a Ready). */
  applied: number
  /** Votes received in the current (pre-)election. */
  readonly votes = new Map<string, boolean>()
  /** The leader's view of every member's log, itself included. */
  readonly progress = new Map<string, Progress>()
  /** Ticks since the last heartbeat from the leader (follower), or since the last quorum check (leader). */
  electionElapsed = 0
  heartbeatElapsed = 0
  randomizedElectionTimeout = 0
  /** Target of a leadership transfer in progress. */
  transferee: string | undefined
  /** Payload bytes the leader appended (or holds) in its term and has not committed yet. */
  uncommittedBytes = 0
  /** Proposals the leader holds until the group's first entry is on every founder. */
  #held: Uint8Array[] = []
  /** The latest snapshot: the base of the log, sent to followers that need compacted entries. */
  snapshot: Snapshot | undefined
  /** A snapshot received from the leader, to be handed to storage in the next Ready. */
  pendingSnapshot: Snapshot | undefined
  readonly receiver = new SnapshotReceiver()
  readonly reads = new ReadQueue()
  /** ReadIndex requests queued since the last heartbeat round: the next Ready starts one. */
  readHeartbeatDue = false
  readStates: ReadState[] = []
  forwardStates: ForwardState[] = []
  /** The contexts of the latest {@link FORWARDS_REMEMBERED} forwarded proposals received. */
  readonly #forwarded = new Set<string>()
  /**
   * The term this server may have led before its restart (it had voted for itself in it):
   * the forwarded proposals it received then are forgotten.
   */
  readonly #termLedBeforeRestart: number | undefined
  msgs: Message[] = []

  constructor(o: RaftCoreOptions, opts: ResolvedOptions) {
    this.id = o.id
    this.opts = opts
    this.random = o.random
    const { hardState, snapshot, entries } = o.recovered
    const base = snapshot?.meta ?? { index: 0, term: 0 }
    this.log = new RaftLog(base, entries)
    this.config = new ConfigurationTracker(
      {
        index: base.index,
        configuration: snapshot?.meta.configuration ?? o.bootstrap ?? EMPTY_CONFIGURATION,
      },
      entries,
    )
    this.term = hardState.term
    this.votedFor = hardState.votedFor
    this.#termLedBeforeRestart = hardState.votedFor === o.id ? hardState.term : undefined
    this.commitIndex = base.index
    this.applied = base.index
    this.snapshot = snapshot
    this.becomeFollower(this.term, undefined)
  }

  send(m: Message): void {
    this.msgs.push(m)
  }

  /**
   * Whether the group's founding is not known to be over here: the configuration in force
   * is a bootstrap one (empty log), or the log holds nothing but the group's first entry
   * and that entry is not known committed. A founding leader appends nothing after the first
   * entry until every founder holds it, so this follows from the durable log and survives a
   * restart (with the commit index forgotten, a founder waits for every founder again).
   * Founding elections and the first entry's commit need every founder (see `election.ts`).
   */
  founding(): boolean {
    return (
      this.config.index <= 1 &&
      this.log.lastIndex <= 1 &&
      this.commitIndex === 0 &&
      this.config.current.voters.length > 0
    )
  }

  /** Whether this server may campaign: only voters do (learners and removed servers never). */
  promotable(): boolean {
    return isVoter(this.config.current, this.id)
  }

  /**
   * Leader stickiness (thesis §4.2.3): a server that heard from a leader within the minimum
   * election timeout ignores vote requests, so a server that cannot see the leader (a
   * partitioned or removed one) cannot depose it.
   */
  inLease(): boolean {
    return (
      (this.opts.checkQuorum || this.opts.preVote) &&
      this.leaderId !== undefined &&
      this.electionElapsed < this.opts.electionTicks
    )
  }

  #reset(term: number): void {
    if (term !== this.term) {
      this.term = term
      this.votedFor = undefined
    }
    this.leaderId = undefined
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    // Randomized timeouts make split votes rare (Raft paper §5.2).
    this.randomizedElectionTimeout =
      this.opts.electionTicks + Math.floor(this.random() * this.opts.electionTicks)
    this.votes.clear()
    this.transferee = undefined
    this.uncommittedBytes = 0
    this.#held = []
    this.progress.clear()
    this.reads.reset()
  }

  becomeFollower(term: number, leaderId: string | undefined): void {
    this.#reset(term)
    this.role = 'follower'
    this.leaderId = leaderId
  }

  /** Pre-vote (thesis §9.6): neither the term nor the vote changes until the pre-vote is won. */
  becomePreCandidate(): void {
    this.role = 'pre-candidate'
    this.leaderId = undefined
    this.votes.clear()
  }

  becomeCandidate(): void {
    this.#reset(this.term + 1)
    this.role = 'candidate'
    this.votedFor = this.id
  }

  /**
   * Takes over in the current term. The first entry of the term is a no-op (thesis §6.4):
   * committing it commits every earlier entry, which a leader may not do by counting
   * replicas of older-term entries (Figure 8). While the configuration in force is only the
   * bootstrap one, that first entry is the configuration itself, so the cluster's membership
   * is in the log from the first term on, and a server that joins later learns it. A leader
   * whose log holds only a first entry not yet on every founder appends nothing: its no-op
   * follows once it is (see `commitFounding`).
   */
  becomeLeader(): void {
    this.#reset(this.term)
    this.role = 'leader'
    this.leaderId = this.id
    this.syncProgress()
    if (this.config.fromBootstrap) {
      this.appendAsLeader('configuration', encodeConfiguration(this.config.current))
    } else if (!this.founding()) {
      this.appendAsLeader('noop', new Uint8Array(0))
    }
  }

  /**
   * Whether a forwarded proposal, sent in the current term, is new, remembering it (in any
   * role and across terms: a copy delayed until this server leads must not be proposed
   * either). One sent in a term this server may have led before a restart may be a copy of
   * one it appended then: not new.
   */
  firstForward(context: string): boolean {
    if (this.#forwarded.has(context) || this.term === this.#termLedBeforeRestart) return false
    this.#forwarded.add(context)
    if (this.#forwarded.size > FORWARDS_REMEMBERED) {
      this.#forwarded.delete(this.#forwarded.values().next().value!)
    }
    return true
  }

  /**
   * Holds a proposal of a founding leader (see {@link founding}) and returns the index it
   * will take: after the first entry and the no-op that ends the founding.
   */
  holdUntilFounded(data: Uint8Array): number {
    this.#held.push(data)
    this.uncommittedBytes += data.byteLength
    return this.log.lastIndex + 1 + this.#held.length
  }

  /** The group's first entry is on every founder: the no-op, then the proposals held. */
  endFounding(): void {
    this.commitTo(1)
    this.appendAsLeader('noop', new Uint8Array(0))
    for (const data of this.#held.splice(0)) {
      this.uncommittedBytes -= data.byteLength
      this.appendAsLeader('command', data)
    }
  }

  /** Appends a new entry of the current term to the leader's log. */
  appendAsLeader(kind: EntryKind, data: Uint8Array): LogEntry {
    const entry: LogEntry = { index: this.log.lastIndex + 1, term: this.term, kind, data }
    this.log.append([entry])
    this.uncommittedBytes += data.byteLength
    this.onWritten([entry])
    return entry
  }

  /**
   * Entries were written to the log: a configuration entry takes effect at once (thesis
   * §4.1), and a truncated one is rolled back.
   */
  onWritten(entries: readonly LogEntry[]): void {
    if (this.config.onAppend(entries) && this.role === 'leader') this.syncProgress()
  }

  /** Gives the leader a progress for every member of the configuration, and only them. */
  syncProgress(): void {
    const config = this.config.current
    for (const id of this.progress.keys()) {
      if (!isMember(config, id)) this.progress.delete(id)
    }
    for (const s of [...config.voters, ...config.learners]) {
      if (this.progress.has(s.id)) continue
      const pr = new Progress(
        this.log.lastIndex + 1,
        new Inflights(this.opts.maxInflight, this.opts.maxInflightBytes),
      )
      if (s.id === this.id) {
        pr.match = this.log.persisted
        pr.recentActive = true
      }
      this.progress.set(s.id, pr)
    }
    if (this.transferee !== undefined && !isVoter(config, this.transferee)) {
      this.transferee = undefined
    }
  }

  /** Raises the commit index; on the leader, releases the uncommitted budget of its entries. */
  commitTo(index: number): void {
    if (index <= this.commitIndex) return
    if (this.role === 'leader') {
      for (const e of this.log.slice(this.commitIndex + 1, index) ?? []) {
        if (e.term === this.term) this.uncommittedBytes -= e.data.byteLength
      }
    }
    this.commitIndex = index
  }
}
