import { describe, expect, it } from 'vitest'
import type { ConfChange } from '../src/core/index.js'
import { Cluster } from './core-harness.js'

const three = ['a', 'b', 'c']
const five = ['a', 'b', 'c', 'd', 'e']
const server = (id: string) => ({ id, address: `sim:${id}` })
const ids = (list: readonly { id: string }[]) => list.map((s) => s.id).sort()

/** Proposes a change at the leader once its log is committed, and waits until the change is. */
function change(c: Cluster, leader: string, conf: ConfChange): number {
  const core = c.core(leader)
  c.runUntil(() => core.commitIndex === core.lastIndex, 100, 'the previous entries committing')
  const r = core.proposeConfChange(conf)
  if (!r.ok) throw new Error(`change refused: ${JSON.stringify(r.rejection)}`)
  c.runUntil(() => c.core(leader).commitIndex >= r.index, 200, 'the change committing')
  return r.index
}

describe('RaftCore membership changes', () => {
  it('a learner catches up without voting, then counts once promoted', () => {
    const c = new Cluster({ voters: three, seed: 31, snapshotEvery: 8 })
    const leader = c.waitLeader()
    for (let i = 0; i < 20; i++) c.propose(`before-${i}`)
    c.waitApplied(c.core(leader).lastIndex)
    // The learner starts only after the leader compacted past the entry that added it, so
    // it learns the configuration from the snapshot.
    c.addNode('l')
    c.crash('l')
    change(c, leader, { type: 'add-learner', server: server('l') })
    for (let i = 0; i < 20; i++) c.propose(`after-${i}`)
    c.waitApplied(c.core(leader).lastIndex, 200, three)
    c.restart('l')
    c.waitApplied(c.core(leader).commitIndex)
    expect(c.node('l').snapshotIndex).toBeGreaterThan(0)
    expect(ids(c.core('l').configuration.voters)).toEqual(three)
    expect(ids(c.core('l').configuration.learners)).toEqual(['l'])
    // It does not count: with both other voters down, nothing commits.
    const [f1, f2] = three.filter((id) => id !== leader) as [string, string]
    c.crash(f1)
    c.crash(f2)
    const pending = c.propose('needs a voter')
    if (!pending.ok) throw new Error('rejected')
    c.tick(8)
    expect(c.core(leader).commitIndex).toBeLessThan(pending.index)
    c.restart(f1)
    c.restart(f2)
    const promoted = change(c, c.waitLeader(), { type: 'add-voter', server: server('l') })
    c.waitApplied(promoted)
    expect(ids(c.core('l').configuration.voters)).toEqual([...three, 'l'].sort())
    // Four voters need three: the leader, the promoted learner and one more.
    const now = c.leader()!
    const others = three.filter((id) => id !== now)
    c.crash(others[0]!)
    const r = c.propose('counted with l')
    if (!r.ok) throw new Error('rejected')
    c.waitApplied(r.index, 200, [now, 'l', others[1]!])
    expect(c.core('l').role).toBe('follower')
  })

  it('removes the leader: it leads until the change commits, then steps down for good', () => {
    const c = new Cluster({ voters: five, seed: 32 })
    const leader = c.waitLeader()
    const index = change(c, leader, { type: 'remove', id: leader })
    expect(c.core(leader).role).toBe('follower')
    expect(c.core(leader).commitIndex).toBeGreaterThanOrEqual(index)
    c.runUntil(() => c.leader() !== undefined, 200, 'a new leader')
    const next = c.leader()!
    expect(next).not.toBe(leader)
    expect(ids(c.core(next).configuration.voters)).toEqual(five.filter((id) => id !== leader))
    const term = c.core(next).term
    c.tick(300)
    // The removed server never campaigns, so the cluster's term does not move.
    expect(c.leader()).toBe(next)
    expect(c.core(next).term).toBe(term)
    expect(c.core(leader).role).toBe('follower')
  })

  it('a removed server that never heard of its removal does not disrupt the cluster', () => {
    const c = new Cluster({ voters: five, seed: 33 })
    const leader = c.waitLeader()
    const victim = five.find((id) => id !== leader)!
    c.isolate(victim)
    change(c, leader, { type: 'remove', id: victim })
    c.heal()
    const term = c.core(leader).term
    c.tick(300)
    expect(ids(c.core(victim).configuration.voters)).toContain(victim)
    expect(c.leader()).toBe(leader)
    expect(c.core(leader).term).toBe(term)
  })

  it('rolls back an uncommitted change when a new leader overwrites it', () => {
    const c = new Cluster({ voters: five, seed: 34 })
    const stale = c.waitLeader()
    const buddy = five.find((id) => id !== stale)!
    c.partition(
      [stale, buddy],
      five.filter((id) => id !== stale && id !== buddy),
    )
    const r = c.core(stale).proposeConfChange({ type: 'add-learner', server: server('x') })
    expect(r.ok).toBe(true)
    c.tick(3)
    // In force at once, on the stale leader and on the follower that appended it.
    expect(ids(c.core(stale).configuration.learners)).toEqual(['x'])
    expect(ids(c.core(buddy).configuration.learners)).toEqual(['x'])
    c.runUntil(
      () => {
        const l = c.leader()
        return l !== undefined && l !== stale && l !== buddy
      },
      300,
      'a leader in the majority',
    )
    const fresh = c.leader()!
    for (let i = 0; i < 3; i++) c.propose(`fresh-${i}`, fresh)
    c.heal()
    c.converge()
    // The entry that added x is gone, and with it the configuration it put in force.
    for (const id of five) {
      expect(c.core(id).configuration.learners).toEqual([])
      expect(ids(c.core(id).configuration.voters)).toEqual(five)
    }
  })

  it('takes one change at a time, and refuses changes that change nothing or cannot be made', () => {
    const c = new Cluster({ voters: three, seed: 35 })
    const leader = c.waitLeader()
    const core = c.core(leader)
    const follower = three.find((id) => id !== leader)!
    c.addNode('d')
    expect(core.proposeConfChange({ type: 'add-learner', server: server('d') }).ok).toBe(true)
    expect(core.proposeConfChange({ type: 'add-voter', server: server('d') })).toEqual({
      ok: false,
      rejection: { code: 'change-in-progress' },
    })
    c.runUntil(() => core.commitIndex === core.lastIndex, 100, 'the change committing')
    expect(core.proposeConfChange({ type: 'add-voter', server: server(follower) })).toEqual({
      ok: false,
      rejection: { code: 'unchanged' },
    })
    expect(core.proposeConfChange({ type: 'remove', id: 'nobody' })).toEqual({
      ok: false,
      rejection: { code: 'unknown-server', id: 'nobody' },
    })
    expect(c.core(follower).proposeConfChange({ type: 'remove', id: 'd' })).toEqual({
      ok: false,
      rejection: { code: 'not-leader', leaderId: leader, leaderAddress: `sim:${leader}` },
    })
    expect(core.proposeConfChange({ type: 'add-voter', server: server('d') }).ok).toBe(true)
  })

  it('refuses to remove the last voter', () => {
    const c = new Cluster({ voters: ['solo'], seed: 36 })
    c.waitLeader()
    expect(c.core('solo').proposeConfChange({ type: 'remove', id: 'solo' })).toEqual({
      ok: false,
      rejection: { code: 'invalid', reason: 'no voter would remain' },
    })
  })

  it('makes a new leader commit an entry of its term before it takes a change', () => {
    const c = new Cluster({ voters: three, seed: 37, delay: [3, 3] })
    const old = c.waitLeader()
    const r = c.propose('committed everywhere')
    if (!r.ok) throw new Error('rejected')
    c.waitApplied(r.index)
    c.tick(10) // every follower learns the commit index
    c.crash(old)
    c.runUntil(() => c.leader() !== undefined, 300, 'a new leader')
    const leader = c.leader()!
    // Elected, its configuration committed, but not its no-op yet (a round trip is six ticks).
    expect(c.core(leader).commitIndex).toBe(r.index)
    expect(c.core(leader).lastIndex).toBe(r.index + 1)
    expect(c.core(leader).proposeConfChange({ type: 'remove', id: old })).toEqual({
      ok: false,
      rejection: { code: 'change-in-progress' },
    })
    c.runUntil(() => c.core(leader).commitIndex === c.core(leader).lastIndex, 50, 'the no-op')
    expect(c.core(leader).proposeConfChange({ type: 'remove', id: old }).ok).toBe(true)
  })
})
