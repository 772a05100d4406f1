/**
 * A follower's (or learner's) handling of the leader's AppendEntries, heartbeats and
 * snapshot chunks (Raft paper §5.3, Figure 2, Figure 13), and its reassembly of a chunked
 * snapshot. Every answer is sent only after the Ready that holds the entries or snapshot it
 * acknowledges is durable.
 *
 * @module
 */

import type { Snapshot, SnapshotMeta } from '../storage/types.js'
import type { AppendEntries, Heartbeat, InstallSnapshot } from './messages.js'
import type { RaftState } from './state.js'

export function handleAppendEntries(s: RaftState, m: AppendEntries): void {
  const reply = { type: 'append-response', from: s.id, to: m.from, term: s.term } as const
  if (m.prevIndex < s.commitIndex) {
    // A delayed or duplicated batch: everything up to the commit index already matches.
    s.send({ ...reply, success: true, matchIndex: s.commitIndex })
    return
  }
  const result = s.log.tryAppend(m.prevIndex, m.prevTerm, m.entries)
  if (result === undefined) {
    const hintIndex = s.log.lastIndexWithTermAtMost(m.prevIndex, m.prevTerm)
    s.send({
      ...reply,
      success: false,
      rejectedIndex: m.prevIndex,
      hintIndex,
      hintTerm: s.log.term(hintIndex)!,
    })
    return
  }
  const first = result.written[0]
  if (first !== undefined) {
    if (first.index <= s.commitIndex) {
      throw new Error(`raft: leader ${m.from} overwrote committed entry ${first.index}`)
    }
    s.onWritten(result.written)
  }
  // Only entries this batch proved to match may be committed (Figure 2, receiver step 5).
  s.commitTo(Math.min(m.commit, result.lastNew))
  s.send({ ...reply, success: true, matchIndex: result.lastNew })
}

export function handleHeartbeat(s: RaftState, m: Heartbeat): void {
  s.commitTo(Math.min(m.commit, s.log.lastIndex))
  s.send({ type: 'heartbeat-response', from: s.id, to: m.from, term: s.term, context: m.context })
}

export function handleInstallSnapshot(s: RaftState, m: InstallSnapshot): void {
  const reply = { type: 'install-snapshot-response', from: s.id, to: m.from, term: s.term } as const
  if (m.meta.index <= s.commitIndex) {
    // Already covered by committed entries (or installed, and this is a duplicate chunk).
    s.send({ ...reply, done: true, matchIndex: s.commitIndex })
    return
  }
  const received = s.receiver.receive(m)
  if ('nextOffset' in received) {
    s.send({
      ...reply,
      done: false,
      snapshotIndex: m.meta.index,
      snapshotTerm: m.meta.term,
      nextOffset: received.nextOffset,
    })
    return
  }
  restore(s, received)
  s.send({ ...reply, done: true, matchIndex: s.commitIndex })
}

/**
 * Installs a snapshot from the leader (Figure 13, steps 6–8). When the log already holds the
 * snapshot's last entry, the entries after it are kept and only the commit index moves;
 * otherwise the whole log is replaced.
 */
function restore(s: RaftState, snapshot: Snapshot): void {
  const { meta } = snapshot
  if (s.log.matches(meta.index, meta.term)) {
    s.commitTo(meta.index)
    return
  }
  s.log.restore(meta)
  s.config.restore(meta)
  s.commitIndex = meta.index
  s.snapshot = snapshot
  s.pendingSnapshot = snapshot
}

/**
 * The follower's reassembly of a chunked InstallSnapshot (Raft paper Figure 13, steps 2–5):
 * chunks must arrive in order; a duplicate or a gap is answered with the offset the follower
 * needs next, so the leader resumes from there after a lost, duplicated or reordered chunk.
 */
export class SnapshotReceiver {
  #meta: SnapshotMeta | undefined
  #chunks: Uint8Array[] = []
  #received = 0

  /**
   * Takes one chunk.
   *
   * @returns The whole snapshot once its last chunk arrived in order; otherwise the offset
   * the follower needs next.
   */
  receive(m: InstallSnapshot): Snapshot | { readonly nextOffset: number } {
    const current = this.#meta
    if (current === undefined || current.index !== m.meta.index || current.term !== m.meta.term) {
      // A new snapshot (the leader compacted again, or a new leader): start over.
      this.#reset()
      if (m.offset !== 0) return { nextOffset: 0 }
      this.#meta = m.meta
    }
    if (m.offset !== this.#received) return { nextOffset: this.#received }
    this.#chunks.push(m.data)
    this.#received += m.data.byteLength
    if (!m.done) return { nextOffset: this.#received }
    const data = new Uint8Array(this.#received)
    let at = 0
    for (const chunk of this.#chunks) {
      data.set(chunk, at)
      at += chunk.byteLength
    }
    this.#reset()
    return { meta: m.meta, data }
  }

  #reset(): void {
    this.#meta = undefined
    this.#chunks = []
    this.#received = 0
  }
}
