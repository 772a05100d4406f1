/**
 * The Raft protocol as a deterministic state machine, without timers, sockets, promises or
 * disk I/O (the design of etcd's raft package). The node wrapper drives it:
 *
 * - `tick()` on a clock (election and heartbeat timeouts are counted in ticks),
 * - `step(message)` for every message received,
 * - `propose`, `forward`, `proposeConfChange`, `readIndex`, `transferLeadership` for
 *   requests,
 * - `ready()` for the resulting batch of work, then `advance(ready)` once it is done (see
 *   {@link Ready} for the order),
 * - `compact(snapshot)` after the state machine made a snapshot.
 *
 * Same inputs, same outputs: with a seeded `random`, a simulation replays exactly.
 *
 * @module
 */

import type { Configuration, Snapshot, SnapshotMeta } from '../storage/types.js'
import {
  applyChange,
  type ConfChange,
  encodeConfiguration,
  findServer,
  isVoter,
  quorum,
} from './configuration.js'
import { campaign, handleVoteRequest, handleVoteResponse, tickElection } from './election.js'
import { handleAppendEntries, handleHeartbeat, handleInstallSnapshot } from './follower.js'
import type {
  AppendEntries,
  ForwardRefusal,
  Heartbeat,
  InstallSnapshot,
  Message,
  Propose,
} from './messages.js'
import { type RaftCoreOptions, resolveOptions } from './options.js'
import { onLeaderCommit, onReadAck, requestRead } from './read-index.js'
import { type Ready, ReadyTracker } from './ready.js'
import {
  bcastAppend,
  bcastHeartbeat,
  handleAppendResponse,
  handleHeartbeatResponse,
  handleSnapshotResponse,
  maybeCommit,
  sendAppend,
  sendTimeoutNow,
  tickReplication,
} from './replication.js'
import { RaftState } from './state.js'
import type { CoreRole, ProposeResult, Rejection, RequestResult } from './types.js'

export class RaftCore {
  readonly #s: RaftState
  readonly #ready: ReadyTracker
  /** Entries were proposed since the last broadcast: the next `ready()` sends them in one batch. */
  #unsent = false

  /** @throws RangeError naming an invalid option, or when the recovered log has a gap. */
  constructor(options: RaftCoreOptions) {
    this.#s = new RaftState(options, resolveOptions(options))
    this.#ready = new ReadyTracker(this.#s)
  }

  get id(): string {
    return this.#s.id
  }

  get role(): CoreRole {
    return this.#s.role
  }

  get term(): number {
    return this.#s.term
  }

  get leaderId(): string | undefined {
    return this.#s.leaderId
  }

  get commitIndex(): number {
    return this.#s.commitIndex
  }

  get lastIndex(): number {
    return this.#s.log.lastIndex
  }

  /** The last index the latest snapshot covers (0 without one): the log starts after it. */
  get snapshotIndex(): number {
    return this.#s.log.snapshotIndex
  }

  /** The configuration in force: the latest in the log, committed or not (thesis §4.1). */
  get configuration(): Configuration {
    return this.#s.config.current
  }

  /** Advances the logical clock by one tick. */
  tick(): void {
    const s = this.#s
    if (s.role !== 'leader') {
      tickElection(s)
      return
    }
    s.heartbeatElapsed++
    s.electionElapsed++
    tickReplication(s)
    if (s.electionElapsed >= s.opts.electionTicks) {
      s.electionElapsed = 0
      // Check-quorum (thesis §6.2): a leader that has not heard from a majority within an
      // election timeout steps down, so clients find the real leader and reads stay safe.
      if (s.opts.checkQuorum && !this.#quorumActive()) {
        s.becomeFollower(s.term, undefined)
        return
      }
      for (const [id, pr] of s.progress) pr.recentActive = id === s.id
      // A transfer that did not complete within an election timeout is abandoned (§3.10).
      s.transferee = undefined
    }
    // The commit index to followers that got no AppendEntries carrying it since it moved.
    for (const [id, pr] of s.progress) {
      if (id !== s.id && pr.commitSent < s.commitIndex) sendAppend(s, id, true)
    }
    if (s.heartbeatElapsed >= s.opts.heartbeatTicks) {
      s.heartbeatElapsed = 0
      bcastHeartbeat(s)
    }
  }

  #quorumActive(): boolean {
    const s = this.#s
    const config = s.config.current
    const active = config.voters.filter((v) => s.progress.get(v.id)?.recentActive === true)
    return active.length >= quorum(config)
  }

  /** Handles one received message. */
  step(m: Message): void {
    const s = this.#s
    if (m.term > s.term) {
      const vote = m.type === 'pre-vote' || m.type === 'request-vote'
      // Leader stickiness (§4.2.3), except for elections a leader asked for.
      if (vote && !(m.type === 'request-vote' && m.transfer) && s.inLease()) return
      // Pre-vote messages carry the term the sender might campaign in, not its own.
      const future = m.type === 'pre-vote' || (m.type === 'pre-vote-response' && m.granted)
      if (!future) s.becomeFollower(m.term, fromLeader(m) ? m.from : undefined)
    } else if (m.term < s.term) {
      this.#answerStale(m)
      return
    }
    switch (m.type) {
      case 'pre-vote':
      case 'request-vote':
        handleVoteRequest(s, m)
        break
      case 'pre-vote-response':
      case 'request-vote-response':
        handleVoteResponse(s, m)
        break
      case 'append-entries':
      case 'heartbeat':
      case 'install-snapshot':
        this.#stepFromLeader(m)
        break
      case 'append-response':
        if (s.role === 'leader' && handleAppendResponse(s, m)) this.#onCommit()
        break
      case 'heartbeat-response':
        if (s.role !== 'leader') break
        handleHeartbeatResponse(s, m)
        onReadAck(s, m.from, m.context)
        // A lost TimeoutNow is sent again while the transfer lasts.
        if (m.from === s.transferee && s.progress.get(m.from)?.match === s.log.lastIndex) {
          sendTimeoutNow(s, m.from)
        }
        break
      case 'install-snapshot-response':
        if (s.role === 'leader') handleSnapshotResponse(s, m)
        break
      case 'timeout-now':
        if (s.role !== 'leader' && s.promotable()) campaign(s, 'transfer')
        break
      case 'read-index':
        if (s.role === 'leader') requestRead(s, m.context, m.from)
        break
      case 'read-index-response':
        if (s.role === 'follower') s.readStates.push({ context: m.context, index: m.index })
        break
      case 'propose':
        this.#proposeForwarded(m)
        break
      case 'propose-response':
        s.forwardStates.push(
          m.refused === undefined
            ? { context: m.context, ok: true, index: m.index, term: m.term }
            : { context: m.context, ok: false, rejection: this.#withAddress(m.refused) },
        )
        break
    }
  }

  /**
   * A follower's forwarded command: proposed here, answered with where it went. A copy of a
   * request seen before (a duplicated message) is dropped: the first was answered, and
   * proposing the copy would apply the command twice, or after the sender was told it was
   * refused. So is one this server may have seen before a restart: refusing it would tell
   * the sender "no effect" of a command that may be committed; the sender times out instead.
   */
  #proposeForwarded(m: Propose): void {
    const s = this.#s
    if (!s.firstForward(m.context)) return
    const result = this.propose(m.data)
    s.send({
      type: 'propose-response',
      from: s.id,
      to: m.from,
      term: s.term,
      context: m.context,
      index: result.ok ? result.index : 0,
      refused: result.ok ? undefined : (result.rejection as ForwardRefusal),
    })
  }

  /** A refusal from the wire names the leader; its address is in this server's configuration. */
  #withAddress(refused: ForwardRefusal): Rejection {
    if (refused.code !== 'not-leader') return refused
    const leaderAddress = findServer(this.#s.config.current, refused.leaderId)?.address
    return { code: 'not-leader', leaderId: refused.leaderId, leaderAddress }
  }

  /** AppendEntries, heartbeat or snapshot chunk from the leader of the current term. */
  #stepFromLeader(m: AppendEntries | Heartbeat | InstallSnapshot): void {
    const s = this.#s
    if (s.role === 'leader') return
    // A (pre-)candidate hears from the leader of its term: it lost (§5.2).
    if (s.role !== 'follower') s.becomeFollower(s.term, m.from)
    s.leaderId = m.from
    s.electionElapsed = 0
    if (m.type === 'append-entries') handleAppendEntries(s, m)
    else if (m.type === 'heartbeat') handleHeartbeat(s, m)
    else handleInstallSnapshot(s, m)
  }

  /**
   * A message from an older term. A stale leader is told the newer term so it steps down
   * (Raft paper §5.1); a stale candidate is refused likewise. Anything else is dropped.
   */
  #answerStale(m: Message): void {
    const s = this.#s
    const common = { from: s.id, to: m.from, term: s.term }
    if (fromLeader(m)) {
      s.send({
        type: 'append-response',
        ...common,
        success: false,
        rejectedIndex: 0,
        hintIndex: 0,
        hintTerm: 0,
      })
    } else if (m.type === 'pre-vote' || m.type === 'request-vote') {
      const type = m.type === 'pre-vote' ? 'pre-vote-response' : 'request-vote-response'
      s.send({ type, ...common, granted: false })
    }
  }

  /** The leader's commit index advanced. */
  #onCommit(): void {
    const s = this.#s
    onLeaderCommit(s)
    // A leader removed from the configuration leads until the change commits (§4.2.2), and
    // tells the others it did before stepping down.
    if (!isVoter(s.config.current, s.id) && s.config.index <= s.commitIndex) {
      bcastAppend(s)
      s.becomeFollower(s.term, undefined)
      return
    }
    // Entries not sent yet carry the new commit index; followers that are up to date learn
    // it with their next entries or at the next tick (see `tick`), rather than from an empty
    // AppendEntries per commit that each of them would also answer: under a serial load
    // that halves the messages per write.
    for (const id of s.progress.keys()) sendAppend(s, id, false)
  }

  #notLeader(): Rejection | undefined {
    const s = this.#s
    if (s.role !== 'leader') {
      const leaderAddress = findServer(s.config.current, s.leaderId)?.address
      return { code: 'not-leader', leaderId: s.leaderId, leaderAddress }
    }
    if (s.transferee !== undefined) return { code: 'transferring', to: s.transferee }
    return undefined
  }

  /** Appends a command to the leader's log. Commitment shows in a later Ready. */
  propose(data: Uint8Array): ProposeResult {
    const s = this.#s
    const rejection = this.#notLeader()
    if (rejection !== undefined) return { ok: false, rejection }
    const limit = s.opts.maxUncommittedBytes
    if (s.uncommittedBytes > 0 && s.uncommittedBytes + data.byteLength > limit) {
      return {
        ok: false,
        rejection: { code: 'uncommitted-limit', uncommittedBytes: s.uncommittedBytes, limit },
      }
    }
    // Nothing follows the group's first entry before every founder holds it: held until then.
    if (s.founding()) return { ok: true, index: s.holdUntilFounded(data), term: s.term }
    const entry = s.appendAsLeader('command', data)
    this.#unsent = true
    return { ok: true, index: entry.index, term: entry.term }
  }

  /**
   * Sends a command to the leader to propose there (a follower's or learner's `propose`
   * with forwarding); where it went shows in a later Ready's `forwardStates`, under
   * `context`. Refused on the leader itself (it proposes) and when no leader is known. A
   * request or answer lost with a leader change is not retried: the caller times out.
   */
  forward(data: Uint8Array, context: string): RequestResult {
    const s = this.#s
    if (s.role === 'leader') {
      return { ok: false, rejection: { code: 'invalid', reason: 'the leader proposes itself' } }
    }
    if (s.leaderId === undefined) return { ok: false, rejection: this.#notLeader()! }
    s.send({ type: 'propose', from: s.id, to: s.leaderId, term: s.term, context, data })
    return { ok: true }
  }

  /**
   * Appends a single-server membership change (thesis §4.1). It takes effect at once, and
   * the next may be proposed once it is committed.
   */
  proposeConfChange(change: ConfChange): ProposeResult {
    const s = this.#s
    const rejection = this.#notLeader()
    if (rejection !== undefined) return { ok: false, rejection }
    if (s.config.index > s.commitIndex || s.log.term(s.commitIndex) !== s.term) {
      return { ok: false, rejection: { code: 'change-in-progress' } }
    }
    const next = applyChange(s.config.current, change)
    if (next === 'unchanged') return { ok: false, rejection: { code: 'unchanged' } }
    if (next === 'unknown-server') {
      const id = change.type === 'remove' ? change.id : change.server.id
      return { ok: false, rejection: { code: 'unknown-server', id } }
    }
    if (next === 'last-voter') {
      return { ok: false, rejection: { code: 'invalid', reason: 'no voter would remain' } }
    }
    const entry = s.appendAsLeader('configuration', encodeConfiguration(next))
    this.#unsent = true
    // A smaller quorum may already hold entries of this term.
    if (maybeCommit(s)) this.#onCommit()
    return { ok: true, index: entry.index, term: entry.term }
  }

  /**
   * Starts a ReadIndex request (thesis §6.4); its {@link ReadState} shows in a later Ready.
   * On a follower or learner it is forwarded to the leader. Requests are dropped when
   * leadership changes: retry them on a `softState` change.
   */
  readIndex(context: string): RequestResult {
    const rejection = requestRead(this.#s, context, this.#s.id)
    return rejection === undefined ? { ok: true } : { ok: false, rejection }
  }

  /**
   * Hands leadership to voter `to`, by default the most up-to-date other voter (thesis
   * §3.10): proposals are refused meanwhile, the target is brought up to date and told to
   * start an election at once. Abandoned after an election timeout.
   */
  transferLeadership(to?: string): RequestResult {
    const s = this.#s
    if (s.role !== 'leader') return { ok: false, rejection: this.#notLeader()! }
    const others = s.config.current.voters.filter((v) => v.id !== s.id)
    const target =
      to ??
      others
        .map((v) => v.id)
        .sort((a, b) => (s.progress.get(b)?.match ?? 0) - (s.progress.get(a)?.match ?? 0))[0]
    if (target === undefined) {
      return { ok: false, rejection: { code: 'invalid', reason: 'no other voter to transfer to' } }
    }
    if (target === s.id) {
      return { ok: false, rejection: { code: 'invalid', reason: 'already the leader' } }
    }
    if (!isVoter(s.config.current, target)) {
      return { ok: false, rejection: { code: 'unknown-server', id: target } }
    }
    s.transferee = target
    s.electionElapsed = 0
    if (s.progress.get(target)?.match === s.log.lastIndex) sendTimeoutNow(s, target)
    else sendAppend(s, target, true)
    return { ok: true }
  }

  /** Whether `ready()` has anything; false while a Ready is in flight. */
  hasReady(): boolean {
    return this.#ready.hasReady(this.#s)
  }

  /** The next batch of work; call `advance(ready)` before the next `ready()`. */
  ready(): Ready {
    const s = this.#s
    if (s.readHeartbeatDue && this.#ready.inFlight === undefined) {
      s.readHeartbeatDue = false
      if (s.role === 'leader') bcastHeartbeat(s)
    }
    if (this.#unsent && this.#ready.inFlight === undefined) {
      this.#unsent = false
      if (s.role === 'leader') bcastAppend(s)
    }
    return this.#ready.take(s)
  }

  /** `ready` was handled: its entries and snapshot are durable, its entries applied. */
  advance(ready: Ready): void {
    const s = this.#s
    this.#ready.finish(ready)
    const last = ready.entries.at(-1)
    if (last !== undefined) s.log.persistedTo(last.index, last.term)
    // The leader counts itself in the commit quorum only for durable entries (§10.2.1).
    if (s.role === 'leader' && s.progress.get(s.id)?.acknowledge(s.log.persisted) === true) {
      if (maybeCommit(s)) this.#onCommit()
    }
  }

  /**
   * The snapshot metadata for the state machine's state at `index` (at most the applied
   * index): its term and the configuration in force there.
   */
  snapshotMeta(index: number): SnapshotMeta {
    const s = this.#s
    const term = s.log.term(index)
    if (term === undefined || index > s.applied) {
      throw new RangeError(`no applied entry at ${index} (applied ${s.applied})`)
    }
    return { index, term, configuration: s.config.at(index) }
  }

  /**
   * The state machine's snapshot is durable: entries it covers are dropped from memory, and
   * followers that need them get this snapshot instead (Raft paper §7). An older snapshot
   * than the current base is ignored.
   */
  compact(snapshot: Snapshot): void {
    const s = this.#s
    const { meta } = snapshot
    if (meta.index <= s.log.snapshotIndex) return
    if (meta.index > s.applied || !s.log.matches(meta.index, meta.term)) {
      throw new RangeError(`snapshot at ${meta.index}/${meta.term} is not an applied entry`)
    }
    s.log.compact(meta.index)
    s.config.compact(meta.index)
    s.snapshot = snapshot
  }
}

/** Messages only a leader sends: a higher term in one of them names the new leader. */
function fromLeader(m: Message): boolean {
  return m.type === 'append-entries' || m.type === 'heartbeat' || m.type === 'install-snapshot'
}
