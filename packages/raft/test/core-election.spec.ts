import { describe, expect, it } from 'vitest'
import type { Message } from '../src/core/index.js'
import { Cluster } from './core-harness.js'

const five = ['a', 'b', 'c', 'd', 'e']
const three = ['a', 'b', 'c']

describe('RaftCore elections', () => {
  it('elects exactly one leader, which every node follows', () => {
    const c = new Cluster({ voters: three, seed: 1 })
    const leader = c.waitLeader()
    c.tick(30)
    expect(c.leader()).toBe(leader)
    for (const id of three) expect(c.core(id).leaderId).toBe(leader)
    // Its first entry (the bootstrap configuration) is committed and applied everywhere.
    c.waitApplied(1)
    expect(new Set(three.map((id) => c.core(id).term)).size).toBe(1)
  })

  it('elects a single-node cluster at its first election timeout', () => {
    const c = new Cluster({ voters: ['solo'], seed: 2 })
    c.runUntil(() => c.leader() === 'solo', 25, 'solo leader')
    c.waitApplied(1)
    expect(c.propose('x').ok).toBe(true)
    c.waitApplied(2)
  })

  it('elects a new leader after the leader is lost, and the old one follows when it returns', () => {
    const c = new Cluster({ voters: three, seed: 3 })
    const first = c.waitLeader()
    const firstTerm = c.core(first).term
    c.isolate(first)
    c.runUntil(() => c.leader() !== undefined && c.leader() !== first, 200, 're-election')
    const second = c.leader()!
    expect(c.core(second).term).toBeGreaterThan(firstTerm)
    c.heal()
    c.runUntil(() => c.core(first).role === 'follower', 50, 'old leader steps down')
    c.tick(30)
    expect(c.leader()).toBe(second)
    expect(c.core(first).leaderId).toBe(second)
  })

  it('keeps electing leaders through many leader failures', () => {
    const c = new Cluster({ voters: five, seed: 4 })
    const terms: number[] = []
    for (let round = 0; round < 12; round++) {
      const leader = c.waitLeader()
      terms.push(c.core(leader).term)
      expect(c.propose(`round-${round}`).ok).toBe(true)
      c.crash(leader)
      c.runUntil(() => c.leader() !== undefined, 200, `leader after round ${round}`)
      c.restart(leader)
    }
    expect(terms).toEqual([...terms].sort((a, b) => a - b))
    expect(new Set(terms).size).toBe(terms.length)
    c.converge()
  })

  it('does not elect a leader without a majority, and does so once it is back', () => {
    const c = new Cluster({ voters: five, seed: 5 })
    c.waitLeader()
    c.partition(['a', 'b'], ['c'], ['d'], ['e'])
    c.tick(20)
    c.runUntil(() => c.leader() === undefined, 50, 'old leader stepping down')
    c.tick(200)
    expect(c.leader()).toBeUndefined()
    c.heal()
    c.waitLeader()
  })

  it('with pre-vote, a partitioned node rejoins without raising the term or deposing the leader', () => {
    const c = new Cluster({ voters: five, seed: 6 })
    const leader = c.waitLeader()
    const term = c.core(leader).term
    const loner = five.find((id) => id !== leader)!
    c.isolate(loner)
    c.tick(150) // many election timeouts
    expect(c.core(loner).term).toBe(term)
    c.heal()
    c.tick(100)
    expect(c.leader()).toBe(leader)
    expect(five.map((id) => c.core(id).term)).toEqual(five.map(() => term))
  })

  it('a restarted former leader that does not hear the new leader yet does not depose it', () => {
    // What a playground run suspected: the old leader restarts (stale term, log behind) and
    // times out again and again before the new leader's messages reach it.
    const c = new Cluster({ voters: three, seed: 9 })
    const first = c.waitLeader()
    c.crash(first)
    c.runUntil(() => c.leader() !== undefined && c.leader() !== first, 200, 're-election')
    const second = c.leader()!
    const term = c.core(second).term
    const proposed = c.propose('after-crash')
    const cutFromLeader = (m: Message) => !(m.from === second && m.to === first)
    // Behind and on a stale term: the others refuse it for its log, and pre-vote keeps
    // their terms.
    c.filter = cutFromLeader
    c.restart(first)
    c.tick(150) // many election timeouts of the restarted node
    c.filter = undefined
    c.waitApplied(proposed.ok ? proposed.index : 0, 50, [first])
    // Caught up: only leader stickiness keeps the follower from granting its pre-votes.
    c.filter = cutFromLeader
    c.tick(150)
    c.filter = undefined
    c.tick(50)
    expect(c.leader()).toBe(second)
    expect(three.map((id) => c.core(id).term)).toEqual(three.map(() => term))
    expect(c.core(first).leaderId).toBe(second)
  })

  it('without pre-vote, the same rejoin deposes the leader (what pre-vote prevents)', () => {
    const c = new Cluster({ voters: five, seed: 6, core: { preVote: false } })
    const leader = c.waitLeader()
    const term = c.core(leader).term
    const loner = five.find((id) => id !== leader)!
    c.isolate(loner)
    c.tick(150)
    expect(c.core(loner).term).toBeGreaterThan(term + 3)
    c.heal()
    c.runUntil(() => c.core(leader).term > term, 50, 'the leader hearing the higher term')
    c.waitLeader()
  })

  it('with check-quorum, a leader cut off from a majority steps down within two election timeouts', () => {
    const c = new Cluster({ voters: five, seed: 7 })
    const leader = c.waitLeader()
    c.isolate(leader)
    c.tick(20)
    expect(c.core(leader).role).toBe('follower')
    expect(c.core(leader).leaderId).toBeUndefined()
  })

  it('without check-quorum, the cut-off leader keeps believing it leads', () => {
    const c = new Cluster({ voters: five, seed: 7, core: { checkQuorum: false, preVote: false } })
    const leader = c.waitLeader()
    c.isolate(leader)
    c.tick(200)
    expect(c.core(leader).role).toBe('leader')
  })

  it('ignores vote requests while the leader is alive (leader stickiness)', () => {
    // The loner stops hearing the leader but still reaches everyone else; a majority still
    // hears the leader, so nobody grants it anything.
    const c = new Cluster({ voters: five, seed: 8 })
    const leader = c.waitLeader()
    const term = c.core(leader).term
    const loner = five.find((id) => id !== leader)!
    const count = (type: 'pre-vote' | 'pre-vote-response') => c.delivered.get(type) ?? 0
    const [asked, answered] = [count('pre-vote'), count('pre-vote-response')]
    c.filter = (m) => !(m.from === leader && m.to === loner)
    c.tick(200)
    expect(c.leader()).toBe(leader)
    expect(c.core(leader).term).toBe(term)
    expect(count('pre-vote')).toBeGreaterThan(asked)
    expect(count('pre-vote-response')).toBe(answered)
  })
})
