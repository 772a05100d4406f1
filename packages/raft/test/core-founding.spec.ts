/**
 * Founding a group (see election.ts): until every founder holds the group's first entry,
 * elections need every founder and the first entry does not commit, so servers that
 * bootstrap different, overlapping lists found at most one group.
 */
import { describe, expect, it } from 'vitest'
import { tally } from '../src/core/configuration.js'
import type { Message } from '../src/core/index.js'
import { Cluster } from './core-harness.js'

const votes = (granted: string[], refused: string[] = []) =>
  new Map([
    ...granted.map((id) => [id, true] as const),
    ...refused.map((id) => [id, false] as const),
  ])

const appendTo = (id: string, m: Message, fromIndex = 1): boolean =>
  m.type === 'append-entries' && m.to === id && m.entries.some((e) => e.index >= fromIndex)

describe('founding a group', () => {
  it('a founding election is won by every voter’s vote, not a majority, and lost by one refusal', () => {
    const abc = Cluster.founding(['a', 'b', 'c'])
    expect(tally(abc, votes(['a', 'b']))).toBe('won')
    expect(tally(abc, votes(['a', 'b']), true)).toBe('pending')
    expect(tally(abc, votes(['a', 'b', 'c']), true)).toBe('won')
    expect(tally(abc, votes(['a'], ['c']), true)).toBe('lost')
    expect(tally(abc, votes(['a'], ['c']))).toBe('pending')
    expect(tally(Cluster.founding(['solo']), votes(['solo']), true)).toBe('won')
  })

  it('while a founder is unreachable no leader is elected; once it is back one is', () => {
    const c = new Cluster({ voters: ['a', 'b', 'c'], seed: 11 })
    c.isolate('c')
    c.tick(300)
    expect(c.leader()).toBeUndefined()
    expect(['a', 'b'].map((id) => c.core(id).lastIndex)).toEqual([0, 0])
    c.heal()
    c.waitLeader()
    c.waitApplied(2) // the first entry, then the no-op that ends the founding
    // Founded: a majority elects again.
    const leader = c.leader()!
    c.isolate(leader)
    c.runUntil(() => c.leader() !== undefined && c.leader() !== leader, 300, 're-election')
  })

  it('one server bootstraps the list, the others are empty: they vote, and it founds the group', () => {
    const c = new Cluster({ voters: [], seed: 12 })
    for (const id of ['a', 'b', 'c']) c.addNode(id)
    c.bootstrap('a', ['a', 'b', 'c'])
    c.runUntil(() => c.core('a').role === 'leader', 300, 'a leading')
    c.waitApplied(2)
    for (const id of ['a', 'b', 'c']) {
      expect(c.core(id).configuration.voters.map((s) => s.id)).toEqual(['a', 'b', 'c'])
    }
  })

  it('a first entry on a majority of founders but not all commits nothing: a founder without it may found another group', () => {
    const c = new Cluster({ voters: [], seed: 13 })
    for (const id of ['p', 'q', 's']) c.addNode(id)
    // q founds {p, q, s} with every vote, but its first entry never reaches s.
    c.filter = (m) => !appendTo('s', m)
    c.bootstrap('q', ['p', 'q', 's'])
    c.runUntil(() => c.node('p').entries.length === 1, 300, 'p holding q’s first entry')
    // s, still with an empty log, founds {s} (a group of one, at once) out of q's reach.
    c.partition(['p', 'q'], ['s'])
    c.bootstrap('s', ['s'])
    c.runUntil(() => c.core('s').commitIndex >= 2, 300, 's founding {s}')
    c.filter = undefined
    c.heal()
    c.tick(500)
    // q's list never completes its founding (s refuses it): p and q commit nothing, so the
    // safety checker saw one group only.
    expect([c.core('p').commitIndex, c.core('q').commitIndex]).toEqual([0, 0])
    expect(c.node('s').smIndex).toBeGreaterThanOrEqual(2)
  })

  it('a server holding a first entry refuses a founding candidate whose log ends at another one', () => {
    const c = new Cluster({ voters: [], seed: 14 })
    for (const id of ['x', 'y', 'z']) c.addNode(id)
    // x founds {x, y} in term 1; its first entry does not reach y.
    c.partition(['x', 'y'], ['z'])
    c.filter = (m) => !appendTo('y', m)
    c.bootstrap('x', ['x', 'y'])
    c.runUntil(() => c.node('x').entries.length === 1, 300, 'x writing its first entry')
    // z founds {z, y} in a later term (y, still empty, votes for it); nor does its entry.
    c.partition(['z', 'y'], ['x'])
    c.bootstrap('z', ['z', 'y'])
    c.runUntil(() => c.node('z').entries.length === 1, 300, 'z writing its first entry')
    const [xTerm, zTerm] = [c.node('x').entries[0]!.term, c.node('z').entries[0]!.term]
    expect(zTerm).toBeGreaterThan(xTerm)
    // x leads again, with y, which takes x's first entry (only it): {x, y} is founded.
    c.partition(['x', 'y'], ['z'])
    c.filter = (m) => !appendTo('y', m, 2)
    c.runUntil(() => c.core('x').commitIndex >= 1, 300, 'x committing its first entry')
    expect(c.node('y').entries.map((e) => e.term)).toEqual([xTerm])
    // y's log ends at an older entry than z's, yet z must not win it: its first entry would
    // replace the committed one of {x, y} (the checker would see two groups at index 1).
    c.partition(['z', 'y'], ['x'])
    c.tick(500)
    expect(c.core('z').role).not.toBe('leader')
    expect(c.node('y').entries[0]!.term).toBe(xTerm)
  })
})
