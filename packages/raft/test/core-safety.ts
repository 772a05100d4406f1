/**
 * Raft's safety properties (Raft paper §5.2–§5.4, Figure 3), checked by the simulated
 * cluster after every step from what the nodes made durable and applied:
 *
 * - Election Safety: at most one leader per term.
 * - Log Matching: two durable logs holding an entry with the same index and term hold the
 *   same entries up to it. Every durable entry gets a hash of the whole prefix it ends, so
 *   the check is one map lookup per write: (index, term) must always map to one prefix.
 * - Leader Completeness: a leader of term t holds everything committed in earlier terms
 *   (the highest commit index observed on any earlier leader, with its prefix hash).
 * - Committed entries are durable on a majority of voters when the leader reports them.
 * - State Machine Safety: every node applies, at each index, the same prefix (the state
 *   machine state is the prefix hash), in order and exactly once per incarnation.
 * - Terms never decrease on disk, and a durable vote never changes within a term.
 */

import type { Configuration, HardState, LogEntry } from '../src/storage/types.js'

/** The empty log's (and empty state machine's) hash. */
export const EMPTY_HASH = 0x811c9dc5

const KIND_CODE = { command: 1, configuration: 2, noop: 3 } as const

/** The hash of a prefix extended by `e`; also the state machine's transition. */
export function fold(h: number, e: LogEntry): number {
  let x = h ^ Math.imul(e.index, 0x9e3779b1) ^ Math.imul(e.term + KIND_CODE[e.kind], 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d)
  for (const b of e.data) x = Math.imul(x ^ b, 0x01000193)
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b)
  return (x ^ (x >>> 16)) >>> 0
}

/** What the checker needs to see of a node. */
export interface NodeView {
  readonly id: string
  readonly up: boolean
  /** The prefix hash of the node's durable log (or snapshot) at `index`, if it holds it. */
  prefixAt(index: number): number | undefined
  /** The durable snapshot's index (0 if none). */
  readonly snapshotIndex: number
}

export class SafetyViolation extends Error {}

function fail(message: string): never {
  throw new SafetyViolation(message)
}

export class SafetyChecker {
  readonly #leaders = new Map<number, string>()
  readonly #prefixByKey = new Map<string, number>()
  /** Index → the prefix hash every node must reach by applying it. */
  readonly #applied = new Map<number, number>()
  /** Term → the highest commit its leader was seen with, and the prefix there. */
  readonly #commits = new Map<number, { index: number; hash: number }>()
  #maxApplied = 0

  get maxApplied(): number {
    return this.#maxApplied
  }

  /** The prefix hash of applied index `index`, if anyone applied it. */
  appliedHash(index: number): number | undefined {
    return this.#applied.get(index)
  }

  durableEntry(node: string, index: number, term: number, prefix: number): void {
    const key = `${index}:${term}`
    const known = this.#prefixByKey.get(key)
    if (known === undefined) this.#prefixByKey.set(key, prefix)
    else if (known !== prefix) fail(`log matching: ${node} holds a different prefix at ${key}`)
  }

  hardState(node: string, before: HardState, after: HardState): void {
    if (after.term < before.term)
      fail(`${node}: durable term went from ${before.term} to ${after.term}`)
    if (
      after.term === before.term &&
      before.votedFor !== undefined &&
      after.votedFor !== before.votedFor
    ) {
      fail(
        `${node}: vote in term ${after.term} changed from ${before.votedFor} to ${after.votedFor}`,
      )
    }
  }

  /** `node` reached state `hash` by applying (or restoring a snapshot) up to `index`. */
  applied(node: string, index: number, hash: number): void {
    const known = this.#applied.get(index)
    if (known === undefined) this.#applied.set(index, hash)
    else if (known !== hash)
      fail(`state machine safety: ${node} applied a different entry at ${index}`)
    this.#maxApplied = Math.max(this.#maxApplied, index)
  }

  /**
   * `leader` is leader of `term` with `commitIndex`. Checks Election Safety; the first time,
   * Leader Completeness; and that what it reports committed is durable on a majority.
   */
  leader(
    leader: NodeView,
    term: number,
    commitIndex: number,
    config: Configuration,
    nodes: readonly NodeView[],
  ): void {
    const known = this.#leaders.get(term)
    if (known !== undefined && known !== leader.id) {
      fail(`election safety: ${known} and ${leader.id} are both leaders of term ${term}`)
    }
    this.#leaders.set(term, leader.id)
    const seen = this.#commits.get(term)
    if (seen === undefined) {
      let required: { index: number; hash: number } | undefined
      for (const [t, c] of this.#commits) {
        if (t < term && (required === undefined || c.index > required.index)) required = c
      }
      if (required !== undefined && !holds(leader, required.index, required.hash)) {
        fail(
          `leader completeness: ${leader.id} (term ${term}) lacks committed index ${required.index}`,
        )
      }
      // What it knew committed when elected was checked under the configuration then.
      const hash = leader.prefixAt(commitIndex)
      if (hash !== undefined) this.#commits.set(term, { index: commitIndex, hash })
      return
    }
    if (seen.index >= commitIndex) return
    // A leader only commits by counting an entry of its own term (Figure 8), so the commit
    // point is (commitIndex, term), whose prefix some durable log must hold. The one
    // exception is the group's first entry, committed whatever its term once every founder
    // holds it (see election.ts): then it must be durable on every voter.
    const own = this.#prefixByKey.get(`${commitIndex}:${term}`)
    const hash = own ?? (commitIndex === 1 ? leader.prefixAt(1) : undefined)
    if (hash === undefined)
      fail(`${leader.id} committed ${commitIndex} in term ${term}, durable nowhere`)
    this.#commits.set(term, { index: commitIndex, hash })
    const holders = config.voters.filter((v) => {
      const node = nodes.find((n) => n.id === v.id)
      return node !== undefined && holds(node, commitIndex, hash)
    })
    const needed =
      own === undefined ? config.voters.length : Math.floor(config.voters.length / 2) + 1
    if (holders.length < needed) {
      fail(
        `${leader.id} committed ${commitIndex} in term ${term}, durable on ${holders.length} voters`,
      )
    }
  }
}

/** Whether `node`'s durable log or snapshot covers `index` with prefix `hash`. */
function holds(node: NodeView, index: number, hash: number): boolean {
  const own = node.prefixAt(index)
  if (own !== undefined) return own === hash
  // Compacted: the snapshot covers it; its own prefix was checked when it was saved.
  return node.snapshotIndex > index
}
