import type { MemberState, RaftRole } from '@rony/interface'
import { describe, expect, it } from 'vitest'
import { type ClusterMember, leaderOf } from '../src/cluster/index.js'

/** `id:role@term` with an optional `>leader` and `!state`: `n2:follower@3>n1!suspect`. */
function m(spec: string): ClusterMember {
  const match = /^(\w+):(\w+)@(\d+)(?:>(\w+))?(?:!(\w+))?$/.exec(spec)
  if (!match) throw new Error(`bad spec ${spec}`)
  const [, id, role, term, leader, state] = match
  return {
    id: id!,
    role: role as RaftRole,
    term: Number(term),
    leader,
    state: (state ?? 'alive') as MemberState,
    replicaSet: 1,
    gateways: [],
    incarnation: 1,
    address: `memory:${id}`,
    local: false,
  }
}

const leader = (...specs: string[]) => leaderOf(specs.map(m))

describe('leader of a replica set', () => {
  it('is the member that claims it in the highest term', () => {
    expect(leader('n1:leader@3', 'n2:follower@3>n1', 'n3:follower@3>n1')).toEqual({
      leaderId: 'n1',
      term: 3,
    })
  })

  it('ignores a stale claim from a lower term', () => {
    // n1 led term 3 and has not heard that n2 won term 4.
    expect(leader('n1:leader@3', 'n2:leader@4', 'n3:follower@4>n2')).toEqual({
      leaderId: 'n2',
      term: 4,
    })
    // An election is under way in term 5: nobody leads, whatever term 4 said.
    expect(leader('n1:leader@4', 'n2:candidate@5', 'n3:follower@4>n1')).toEqual({
      leaderId: undefined,
      term: 5,
    })
  })

  it('believes a follower that names the leader before the leader’s own record arrives', () => {
    expect(leader('n1:candidate@6', 'n2:follower@6>n1', 'n3:follower@5>n9')).toEqual({
      leaderId: 'n1',
      term: 6,
    })
  })

  it('counts only live members, and names only a live one', () => {
    expect(leader('n1:leader@3!dead', 'n2:follower@3>n1', 'n3:follower@3>n1')).toEqual({
      leaderId: undefined,
      term: 3,
    })
    expect(leader('n1:leader@3!suspect', 'n2:follower@3>n1')).toEqual({ leaderId: 'n1', term: 3 })
    expect(leader('n1:candidate@9!left', 'n2:leader@3')).toEqual({ leaderId: 'n2', term: 3 })
    // A follower naming a member outside the set (or unknown) names nobody.
    expect(leader('n2:follower@3>x7', 'n3:follower@3>x7')).toEqual({ leaderId: undefined, term: 3 })
  })

  it('gives a stable answer to an impossible double claim, and none for an empty set', () => {
    expect(leader('n2:leader@3', 'n1:leader@3').leaderId).toBe('n1')
    expect(leader('n3:leader@3', 'n2:leader@3', 'n1:leader@2').leaderId).toBe('n2')
    expect(leaderOf([])).toEqual({ leaderId: undefined, term: 0 })
  })
})
