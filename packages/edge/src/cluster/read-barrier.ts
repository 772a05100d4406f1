import type { Consensus } from '@rony/interface'

/**
 * Linearizable reads share ReadIndex barriers: the reads that arrive together (in one task,
 * such as the frames of one socket read) wait on one `readIndex()` call, started in a
 * microtask once they are all in, instead of one call each. On a follower that is one round
 * trip to the leader for the lot, as etcd's server batches its reads. Sound because the call
 * starts after every read it serves arrived: its index is confirmed current after each of
 * them began.
 */
export class ReadBarrier {
  /** The call the reads arriving now will share, until it starts. */
  private gathering: { consensus: Consensus; call: Promise<number> } | undefined

  /** Resolves once `consensus` may serve a read that arrived now (as `readIndex()`). */
  wait(consensus: Consensus): Promise<number> {
    const gathering = this.gathering
    if (gathering?.consensus === consensus) return gathering.call
    const call = Promise.resolve().then(() => {
      if (this.gathering?.call === call) this.gathering = undefined
      return consensus.readIndex()
    })
    this.gathering = { consensus, call }
    return call
  }
}
