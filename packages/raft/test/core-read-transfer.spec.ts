import { describe, expect, it } from 'vitest'
import { Cluster } from './core-harness.js'

const three = ['a', 'b', 'c']
const five = ['a', 'b', 'c', 'd', 'e']

describe('RaftCore ReadIndex', () => {
  it('answers a leader read with its commit index, after a heartbeat round confirms it', () => {
    const c = new Cluster({ voters: three, seed: 51, delay: [2, 2] })
    const leader = c.waitLeader()
    const w = c.propose('write')
    if (!w.ok) throw new Error('rejected')
    c.waitApplied(w.index)
    expect(c.core(leader).readIndex('r1')).toEqual({ ok: true })
    c.tick(3) // less than the four-tick round trip
    expect(c.node(leader).readStates).toEqual([])
    c.tick(2)
    expect(c.node(leader).readStates).toEqual([{ context: 'r1', index: w.index }])
  })

  it('confirms every read queued in one batch with a single heartbeat round', () => {
    const c = new Cluster({ voters: three, seed: 51, delay: [2, 2] })
    const leader = c.waitLeader()
    const w = c.propose('write')
    if (!w.ok) throw new Error('rejected')
    c.waitApplied(w.index)
    const before = c.inFlight((m) => m.type === 'heartbeat').length
    for (let i = 0; i < 10; i++) expect(c.core(leader).readIndex(`r${i}`)).toEqual({ ok: true })
    c.tick(1)
    // The tick's own heartbeat round plus one for all ten reads, to each of two followers;
    // a round per read would be 22.
    expect(c.inFlight((m) => m.type === 'heartbeat').length - before).toBeLessThanOrEqual(4)
    c.tick(4)
    expect(c.node(leader).readStates.map((r) => r.context)).toEqual(
      Array.from({ length: 10 }, (_, i) => `r${i}`),
    )
  })

  it('holds reads until a new leader has committed an entry of its term', () => {
    const c = new Cluster({ voters: three, seed: 52, delay: [3, 3] })
    const old = c.waitLeader()
    const w = c.propose('write')
    if (!w.ok) throw new Error('rejected')
    c.waitApplied(w.index)
    c.crash(old)
    c.runUntil(() => c.leader() !== undefined, 300, 'a new leader')
    const leader = c.leader()!
    // Its commit index may lag what the old leader committed until its no-op commits.
    expect(c.core(leader).commitIndex).toBeLessThan(c.core(leader).lastIndex)
    c.core(leader).readIndex('early')
    c.runUntil(() => c.node(leader).readStates.length > 0, 50, 'the read')
    expect(c.node(leader).readStates).toEqual([{ context: 'early', index: w.index + 1 }])
  })

  it('serves follower and learner reads through the leader', () => {
    const c = new Cluster({ voters: three, seed: 53 })
    const leader = c.waitLeader()
    c.addNode('l')
    const change = c
      .core(leader)
      .proposeConfChange({ type: 'add-learner', server: { id: 'l', address: 'sim:l' } })
    expect(change.ok).toBe(true)
    const w = c.propose('write')
    if (!w.ok) throw new Error('rejected')
    c.waitApplied(w.index)
    const follower = three.find((id) => id !== leader)!
    expect(c.core(follower).readIndex('f')).toEqual({ ok: true })
    expect(c.core('l').readIndex('l')).toEqual({ ok: true })
    c.runUntil(
      () => c.node(follower).readStates.length > 0 && c.node('l').readStates.length > 0,
      30,
      'reads',
    )
    expect(c.node(follower).readStates).toEqual([{ context: 'f', index: w.index }])
    expect(c.node('l').readStates).toEqual([{ context: 'l', index: w.index }])
  })

  it('refuses a read where no leader is known', () => {
    const c = new Cluster({ voters: three, seed: 54 })
    expect(c.core('a').readIndex('x')).toEqual({
      ok: false,
      rejection: { code: 'not-leader', leaderId: undefined, leaderAddress: undefined },
    })
  })

  it('never lets a deposed leader serve a stale read', () => {
    // Without check-quorum the cut-off leader keeps believing it leads: only the heartbeat
    // round stands between it and a read that misses the new leader's write.
    const c = new Cluster({ voters: five, seed: 55, core: { checkQuorum: false, preVote: false } })
    const old = c.waitLeader()
    c.isolate(old)
    c.runUntil(() => c.leader() !== old, 300, 'a new leader')
    const w = c.propose('newer write')
    if (!w.ok) throw new Error('rejected')
    c.waitApplied(
      w.index,
      200,
      five.filter((id) => id !== old),
    )
    expect(c.core(old).role).toBe('leader')
    expect(c.core(old).readIndex('stale?')).toEqual({ ok: true })
    c.tick(100)
    expect(c.node(old).readStates).toEqual([])
    c.heal()
    c.converge()
    expect(c.node(old).readStates).toEqual([])
    expect(c.core(old).role).toBe('follower')
  })
})

describe('RaftCore leadership transfer', () => {
  it('brings a lagging target up to date, then hands it leadership; proposals wait meanwhile', () => {
    const c = new Cluster({ voters: three, seed: 56 })
    const leader = c.waitLeader()
    const target = three.find((id) => id !== leader)!
    c.crash(target)
    for (let i = 0; i < 10; i++) c.propose(`while-down-${i}`)
    c.waitApplied(
      c.core(leader).lastIndex,
      100,
      three.filter((id) => id !== target),
    )
    c.restart(target)
    const term = c.core(leader).term
    expect(c.core(leader).transferLeadership(target)).toEqual({ ok: true })
    expect(c.propose('during')).toEqual({
      ok: false,
      rejection: { code: 'transferring', to: target },
    })
    c.runUntil(() => c.leader() === target, 30, 'the transfer')
    expect(c.core(target).term).toBe(term + 1)
    expect(c.durableCommands(target)).toContain('while-down-9')
    c.tick(50)
    expect(c.leader()).toBe(target)
  })

  it('picks the most up-to-date voter by default', () => {
    const c = new Cluster({ voters: three, seed: 57 })
    const leader = c.waitLeader()
    const [slow, fast] = three.filter((id) => id !== leader) as [string, string]
    c.crash(slow)
    c.propose('only on fast')
    c.tick(5)
    c.restart(slow)
    c.filter = (m) => m.to !== slow // keep it behind
    expect(c.core(leader).transferLeadership()).toEqual({ ok: true })
    c.runUntil(() => c.leader() === fast, 30, 'the transfer')
  })

  it('gives up after an election timeout when the target does not take over', () => {
    const c = new Cluster({ voters: three, seed: 58 })
    const leader = c.waitLeader()
    const target = three.find((id) => id !== leader)!
    c.crash(target)
    expect(c.core(leader).transferLeadership(target)).toEqual({ ok: true })
    c.tick(5)
    expect(c.propose('during').ok).toBe(false)
    c.tick(10)
    expect(c.leader()).toBe(leader)
    expect(c.propose('after').ok).toBe(true)
  })

  it('refuses targets that are not other voters', () => {
    const c = new Cluster({ voters: three, seed: 59 })
    const leader = c.waitLeader()
    expect(c.core(leader).transferLeadership('zz')).toEqual({
      ok: false,
      rejection: { code: 'unknown-server', id: 'zz' },
    })
    expect(c.core(leader).transferLeadership(leader)).toEqual({
      ok: false,
      rejection: { code: 'invalid', reason: 'already the leader' },
    })
    const solo = new Cluster({ voters: ['solo'], seed: 60 })
    solo.waitLeader()
    expect(solo.core('solo').transferLeadership()).toEqual({
      ok: false,
      rejection: { code: 'invalid', reason: 'no other voter to transfer to' },
    })
  })
})
