/**
 * The leader's side of log replication (Raft paper §5.3, §7): what to send each follower
 * given its {@link Progress}, what its answers mean, and when an entry is committed.
 *
 * @module
 */

import { quorumIndex } from './configuration.js'
import { entryBytes } from './log.js'
import type { AppendResponse, HeartbeatResponse, InstallSnapshotResponse } from './messages.js'
import type { Progress } from './progress.js'
import type { RaftState } from './state.js'

/**
 * Sends `to` the entries after its `next` index, or a snapshot chunk when they are
 * compacted.
 *
 * @param allowEmpty - Send even without entries (a probe, or to carry the commit index).
 * @returns Whether a message was sent.
 */
export function sendAppend(s: RaftState, to: string, allowEmpty: boolean): boolean {
  const pr = s.progress.get(to)
  if (pr === undefined || to === s.id || pr.paused()) return false
  const prevIndex = pr.next - 1
  const prevTerm = s.log.term(prevIndex)
  const entries =
    prevTerm === undefined ? undefined : s.log.slice(pr.next, s.log.lastIndex, s.opts.maxBatchBytes)
  if (prevTerm === undefined || entries === undefined) return sendSnapshot(s, to, pr)
  if (entries.length === 0 && !allowEmpty) return false
  s.send({
    type: 'append-entries',
    from: s.id,
    to,
    term: s.term,
    prevIndex,
    prevTerm,
    entries,
    commit: s.commitIndex,
  })
  pr.commitSent = s.commitIndex
  const last = entries.at(-1)
  if (pr.state === 'probe') pr.waiting = true
  else if (last !== undefined) {
    // Pipelining: assume the batch arrives and send the next one without waiting.
    pr.next = last.index + 1
    pr.inflights.add(
      last.index,
      entries.reduce((n, e) => n + entryBytes(e), 0),
    )
  }
  return true
}

/** Sends every follower what it lacks, or an empty AppendEntries that carries the commit index. */
export function bcastAppend(s: RaftState): void {
  for (const id of s.progress.keys()) sendAppend(s, id, true)
}

/**
 * Heartbeats (Raft paper §5.2). The commit index is capped at what the follower is known to
 * hold, since a heartbeat does not check log consistency.
 */
export function bcastHeartbeat(s: RaftState): void {
  for (const [to, pr] of s.progress) {
    if (to === s.id) continue
    s.send({
      type: 'heartbeat',
      from: s.id,
      to,
      term: s.term,
      commit: Math.min(pr.match, s.commitIndex),
      context: s.reads.lastSeq,
    })
  }
}

/**
 * Starts (or restarts) sending the latest snapshot to a follower that needs compacted
 * entries. Only to a follower heard from recently: a snapshot is large, and a dead follower
 * would waste it.
 */
function sendSnapshot(s: RaftState, to: string, pr: Progress): boolean {
  const snapshot = s.snapshot
  if (!pr.recentActive || snapshot === undefined) return false
  pr.becomeSnapshot(snapshot.meta.index)
  return sendChunk(s, to, pr)
}

/**
 * Sends the chunk at the follower's offset. One chunk per round trip: snapshot transfers are
 * rare, and a larger `snapshotChunkBytes` buys throughput without any reordering logic.
 */
function sendChunk(s: RaftState, to: string, pr: Progress): boolean {
  const snapshot = s.snapshot!
  // The leader compacted again: send the newer snapshot from the start.
  if (snapshot.meta.index !== pr.pendingSnapshot) pr.becomeSnapshot(snapshot.meta.index)
  const offset = pr.snapshotOffset
  const end = Math.min(offset + s.opts.snapshotChunkBytes, snapshot.data.byteLength)
  s.send({
    type: 'install-snapshot',
    from: s.id,
    to,
    term: s.term,
    meta: snapshot.meta,
    offset,
    data: snapshot.data.slice(offset, end),
    done: end === snapshot.data.byteLength,
  })
  pr.waiting = true
  return true
}

/**
 * Commits the highest index a majority of voters hold, but only when it is an entry of the
 * current term (Raft paper §5.4.2, Figure 8): a majority holding an older-term entry does
 * not stop a server without it from being elected and overwriting it.
 *
 * @returns Whether the commit index advanced.
 */
export function maybeCommit(s: RaftState): boolean {
  if (s.founding()) return commitFounding(s)
  const index = quorumIndex(s.config.current, (id) => s.progress.get(id)?.match ?? 0)
  if (index <= s.commitIndex || s.log.term(index) !== s.term) return false
  s.commitTo(index)
  return true
}

/**
 * The group's first entry commits once every founder holds it, not a majority (see
 * `election.ts`), whatever its term: no server without it can be elected then, since a
 * founding election needs every founder and each refuses an empty log or another first
 * entry. The leader then appends a no-op (the one a leader of a later term deferred) and the
 * proposals it held: the no-op tells the followers, and ends the founding in their durable
 * logs, which a commit index would not (it is forgotten on restart).
 */
function commitFounding(s: RaftState): boolean {
  if (s.log.lastIndex < 1) return false
  const everyone = s.config.current.voters.every((v) => (s.progress.get(v.id)?.match ?? 0) >= 1)
  if (!everyone) return false
  s.endFounding()
  return true
}

/**
 * A follower's answer to AppendEntries.
 *
 * @returns Whether the commit index advanced.
 */
export function handleAppendResponse(s: RaftState, m: AppendResponse): boolean {
  const pr = s.progress.get(m.from)
  if (pr === undefined) return false
  pr.recentActive = true
  if (!m.success) {
    const probeFrom = s.log.lastIndexWithTermAtMost(m.hintIndex, m.hintTerm)
    if (pr.reject(m.rejectedIndex, probeFrom)) sendAppend(s, m.from, true)
    return false
  }
  if (!pr.acknowledge(m.matchIndex)) return false
  if (pr.state === 'probe' || (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot)) {
    pr.becomeReplicate()
  }
  const committed = maybeCommit(s)
  // Fill the pipeline (a commit's broadcast is the caller's).
  if (!committed) while (sendAppend(s, m.from, false));
  if (m.from === s.transferee && pr.match === s.log.lastIndex) sendTimeoutNow(s, m.from)
  return committed
}

/** A heartbeat answer: proof of life, and a chance to resend a probe that may have been lost. */
export function handleHeartbeatResponse(s: RaftState, m: HeartbeatResponse): void {
  const pr = s.progress.get(m.from)
  if (pr === undefined) return
  pr.recentActive = true
  pr.onHeartbeatResponse()
  if (pr.match < s.log.lastIndex) sendAppend(s, m.from, pr.state === 'probe')
}

/** One leader tick: resends what the {@link Progress.tickStalled} timer presumes lost. */
export function tickReplication(s: RaftState): void {
  for (const [id, pr] of s.progress) {
    if (id === s.id || !pr.tickStalled(s.opts.electionTicks)) continue
    if (pr.state === 'snapshot') sendChunk(s, id, pr)
    else sendAppend(s, id, true)
  }
}

/** A follower's answer to a snapshot chunk. */
export function handleSnapshotResponse(s: RaftState, m: InstallSnapshotResponse): void {
  const pr = s.progress.get(m.from)
  if (pr === undefined) return
  pr.recentActive = true
  if (m.done) {
    pr.acknowledge(m.matchIndex)
    if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe()
      sendAppend(s, m.from, true)
    }
    return
  }
  if (pr.state !== 'snapshot' || m.snapshotIndex !== pr.pendingSnapshot) return
  pr.snapshotReceived(m.nextOffset)
  sendChunk(s, m.from, pr)
}

/** Leadership transfer (thesis §3.10): the target is up to date, so it may start an election. */
export function sendTimeoutNow(s: RaftState, to: string): void {
  s.send({ type: 'timeout-now', from: s.id, to, term: s.term })
}
