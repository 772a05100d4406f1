/**
 * Fault layers under a simulated edge that the memory network does not give: Raft messages
 * dropped and duplicated (its streams are reliable; its `loss` and `duplicate` faults apply
 * to packets, that is gossip, only), and a node's storage cut off at a crash, so that work
 * its dead lifetime leaves in flight cannot write into what its next lifetime reads.
 */
import type { Random } from '@rony/interface'
import type { LogStorage, RaftTransport } from '@rony/raft'

/** Fault settings read at every Raft message; the schedule changes them as it runs. */
export interface Chaos {
  /** Probability that a Raft message is dropped. */
  loss: number
  /** Probability that a Raft message is sent twice. */
  duplicate: number
}

export const calm = (): Chaos => ({ loss: 0, duplicate: 0 })

const chance = (random: Random, p: number): boolean => p > 0 && random.next() < p

/** Drops and duplicates the messages `inner` sends, as `chaos` says at the moment. */
export function faultyRaftTransport(
  inner: RaftTransport,
  random: Random,
  chaos: Chaos,
): RaftTransport {
  return {
    get address() {
      return inner.address
    },
    start: (onMessage) => inner.start(onMessage),
    send(to, message) {
      if (chance(random, chaos.loss)) return
      inner.send(to, message)
      if (chance(random, chaos.duplicate)) inner.send(to, message)
    },
    stop: () => inner.stop(),
    stats: () => inner.stats(),
  }
}

/** One lifetime's handle on a node's kept storage. */
export interface LifetimeStorage {
  readonly storage: LogStorage
  /**
   * The process died: what was written so far stays (memory storage writes at once, as a
   * synced disk would), nothing written later reaches the kept storage, which is closed so
   * the next lifetime can open it.
   */
  crash(): void
}

export function lifetimeStorage(kept: LogStorage): LifetimeStorage {
  let dead = false
  const write =
    <A extends unknown[]>(op: (...args: A) => Promise<void>) =>
    (...args: A): Promise<void> =>
      dead ? Promise.resolve() : op(...args)
  return {
    storage: {
      open: () => kept.open(),
      setHardState: write((s) => kept.setHardState(s)),
      append: write((e) => kept.append(e)),
      saveSnapshot: write((s) => kept.saveSnapshot(s)),
      close: () => (dead ? Promise.resolve() : kept.close()),
    },
    crash() {
      if (dead) return
      dead = true
      void kept.close()
    },
  }
}
