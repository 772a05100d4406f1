/**
 * The leader's view of each follower's log (Raft paper §5.3: `nextIndex` and `matchIndex`),
 * with etcd's flow control on top:
 *
 * - `probe`: the leader does not know where the follower's log matches its own; it sends
 *   one AppendEntries at a time and waits for the answer (or the next heartbeat response)
 *   before sending another, backtracking with the follower's reject hints.
 * - `replicate`: the logs match up to `match`; the leader streams batches optimistically
 *   (advancing `next` as it sends), bounded by an inflight window of unacknowledged batches,
 *   capped by count and by bytes, so a slow follower does not buffer the whole log.
 * - `snapshot`: the entries the follower needs are compacted; the leader sends the snapshot
 *   one chunk per round trip and nothing else until it is installed.
 *
 * @module
 */

export type ProgressState = 'probe' | 'replicate' | 'snapshot'

/** A FIFO of unacknowledged AppendEntries batches: their last index and size. */
export class Inflights {
  readonly #maxCount: number
  readonly #maxBytes: number
  #batches: { last: number; bytes: number }[] = []
  #bytes = 0

  constructor(maxCount: number, maxBytes: number) {
    this.#maxCount = maxCount
    this.#maxBytes = maxBytes
  }

  get count(): number {
    return this.#batches.length
  }

  full(): boolean {
    return this.#batches.length >= this.#maxCount || this.#bytes >= this.#maxBytes
  }

  add(last: number, bytes: number): void {
    this.#batches.push({ last, bytes })
    this.#bytes += bytes
  }

  /** The follower acknowledged everything up to `index`: batches ending there are done. */
  freeTo(index: number): void {
    while (this.#batches.length > 0 && this.#batches[0]!.last <= index) {
      this.#bytes -= this.#batches.shift()!.bytes
    }
  }

  reset(): void {
    this.#batches = []
    this.#bytes = 0
  }
}

export class Progress {
  /** The highest index known to match the leader's log (Figure 2's `matchIndex`). */
  match = 0
  /** The next index to send (Figure 2's `nextIndex`). */
  next: number
  state: ProgressState = 'probe'
  /**
   * In `probe`, an AppendEntries is outstanding; in `snapshot`, a chunk is. Nothing more is
   * sent until it is answered or presumed lost (at a heartbeat response for a probe, by
   * {@link tickStalled} for a chunk).
   */
  waiting = false
  /** In `snapshot`: the index of the snapshot being sent, and the bytes the follower holds. */
  pendingSnapshot = 0
  snapshotOffset = 0
  /** Heard from since the last check-quorum round (thesis §6.2). */
  recentActive = false
  /** The highest ReadIndex sequence number this follower has echoed in this term. */
  readContext = 0
  /** The highest commit index sent to this follower (in AppendEntries) in this term. */
  commitSent = 0
  readonly inflights: Inflights
  /** Leader ticks with data outstanding to this follower and no acknowledgement. */
  #stalledTicks = 0

  constructor(next: number, inflights: Inflights) {
    this.next = next
    this.inflights = inflights
  }

  /** Whether the leader must not send this follower more entries now. */
  paused(): boolean {
    if (this.state === 'probe') return this.waiting
    return this.state === 'snapshot' || this.inflights.full()
  }

  becomeProbe(): void {
    this.#reset('probe')
    this.next = this.match + 1
  }

  becomeReplicate(): void {
    this.#reset('replicate')
    this.next = this.match + 1
  }

  becomeSnapshot(index: number): void {
    this.#reset('snapshot')
    this.pendingSnapshot = index
  }

  #reset(state: ProgressState): void {
    this.state = state
    this.waiting = false
    this.pendingSnapshot = 0
    this.snapshotOffset = 0
    this.#stalledTicks = 0
    this.inflights.reset()
  }

  /**
   * The follower acknowledged entries up to `index`.
   *
   * @returns Whether `match` advanced (an old, reordered acknowledgement does not).
   */
  acknowledge(index: number): boolean {
    this.next = Math.max(this.next, index + 1)
    if (index <= this.match) return false
    this.match = index
    // An answered probe; in `snapshot`, a late acknowledgement says nothing about the chunk.
    if (this.state === 'probe') this.waiting = false
    this.#stalledTicks = 0
    this.inflights.freeTo(index)
    return true
  }

  /**
   * The follower rejected an AppendEntries at `rejected`; `probeFrom` is the leader's index
   * computed from the follower's hint.
   *
   * @returns Whether the rejection is current (stale ones, for an index the leader has
   * already moved past, are ignored).
   */
  reject(rejected: number, probeFrom: number): boolean {
    if (this.state === 'replicate') {
      // Batches after `match` were sent optimistically; the follower lost them (a restart
      // with an unsynced tail, or reordering). Resume probing just after the known match.
      if (rejected <= this.match) return false
      this.becomeProbe()
      return true
    }
    if (this.state !== 'probe' || rejected !== this.next - 1) return false
    this.next = Math.max(Math.min(rejected, probeFrom + 1), this.match + 1)
    this.waiting = false
    return true
  }

  /** The follower holds the snapshot's first `offset` bytes. */
  snapshotReceived(offset: number): void {
    this.snapshotOffset = offset
    this.waiting = false
    this.#stalledTicks = 0
  }

  /**
   * A heartbeat response arrived: an outstanding probe may have been lost, so another may
   * be sent (as etcd does; a duplicate probe is harmless).
   */
  onHeartbeatResponse(): void {
    if (this.state === 'probe') this.waiting = false
  }

  /**
   * One leader tick. Batches or a snapshot chunk outstanding without any acknowledgement
   * for `limit` ticks (an election timeout, far above a round trip) are presumed lost, or
   * the follower restarted without them: fall back to probing, or resend the chunk. Without
   * this, a pipeline whose last batches were lost would stall until the next proposal.
   *
   * @returns Whether something should be sent again.
   */
  tickStalled(limit: number): boolean {
    const outstanding =
      this.state === 'replicate'
        ? this.inflights.count > 0
        : this.state === 'snapshot' && this.waiting
    if (!outstanding) {
      this.#stalledTicks = 0
      return false
    }
    if (++this.#stalledTicks < limit) return false
    if (this.state === 'replicate') this.becomeProbe()
    else this.snapshotReceived(this.snapshotOffset)
    return true
  }
}
