import type { Member, MemberState } from '@rony/interface'
import type { EdgeMeta } from './meta.js'

/**
 * One edge as the local node knows it: what it publishes, plus what the membership says
 * about it. Immutable: a change produces a new object.
 */
export interface ClusterMember extends EdgeMeta {
  /** The edge's server id (its membership id). */
  readonly id: string
  /** What the local node believes about it (see `MemberState` of `@rony/interface`). */
  readonly state: MemberState
  /** Its membership incarnation; higher is newer. */
  readonly incarnation: number
  /** Where the membership reaches it, such as `10.0.0.1:7946`. */
  readonly address: string
  /** Whether this is the local edge. */
  readonly local: boolean
}

/** A leader as a replica set believes it to be. */
export interface LeaderView {
  /** Server id of the leader, `undefined` when the set knows none (an election, or no set). */
  readonly leaderId: string | undefined
  /** The highest term advertised by a live member of the set (0 when none). */
  readonly term: number
}

/** Alive or suspect: it may still answer, and its word counts. */
export function isLive(member: Pick<ClusterMember, 'state'>): boolean {
  return member.state === 'alive' || member.state === 'suspect'
}

export function toClusterMember(member: Member, meta: EdgeMeta, local: boolean): ClusterMember {
  return Object.freeze({
    ...meta,
    id: member.id,
    state: member.state,
    incarnation: member.incarnation,
    address: member.address,
    local,
  })
}

/**
 * Who leads a replica set, from what its members advertise. Only live members count (a dead
 * edge neither leads nor votes). Raft elects at most one leader per term, so the highest
 * term wins: a member that claims leadership, or names a leader, in a lower term is stale
 * and ignored; when nobody at the highest term names a leader, an election is under way
 * and the answer is none. The named leader must be a live member of the set.
 *
 * @param members - The edges of one replica set, in any state.
 */
export function leaderOf(members: Iterable<ClusterMember>): LeaderView {
  const live = new Map<string, ClusterMember>()
  let term = 0
  for (const m of members) {
    if (!isLive(m)) continue
    live.set(m.id, m)
    if (m.term > term) term = m.term
  }
  let claimed: string | undefined
  let named: string | undefined
  for (const m of live.values()) {
    if (m.term !== term) continue
    // Two claims in one term cannot both be true; the lowest id keeps the answer stable.
    if (m.role === 'leader') claimed = lowest(claimed, m.id)
    else if (m.leader !== undefined && live.has(m.leader)) named = lowest(named, m.leader)
  }
  return { leaderId: claimed ?? named, term }
}

function lowest(a: string | undefined, b: string): string {
  return a === undefined || b < a ? b : a
}
