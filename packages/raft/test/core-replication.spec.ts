import { describe, expect, it } from 'vitest'
import { RaftCore } from '../src/core/index.js'
import type { LogEntry } from '../src/storage/types.js'
import { bytes, Cluster } from './core-harness.js'

const three = ['a', 'b', 'c']
const five = ['a', 'b', 'c', 'd', 'e']

describe('RaftCore log replication', () => {
  it('agrees on every proposal, in order, at the index the leader returned', () => {
    const c = new Cluster({ voters: three, seed: 11 })
    c.waitLeader()
    const placed = new Map<number, string>()
    for (let i = 0; i < 10; i++) {
      const r = c.propose(`cmd-${i}`)
      if (!r.ok) throw new Error('rejected')
      placed.set(r.index, `cmd-${i}`)
      c.waitApplied(r.index)
    }
    for (const [index, command] of placed) expect(c.committed.get(index)).toBe(command)
    for (const id of three) expect(c.durableCommands(id)).toEqual([...placed.values()])
  })

  it('commits with a follower down, stops without a majority, and resumes when one returns', () => {
    const c = new Cluster({ voters: three, seed: 12 })
    const leader = c.waitLeader()
    const [f1, f2] = three.filter((id) => id !== leader) as [string, string]
    c.crash(f1)
    const one = c.propose('with one follower')
    if (!one.ok) throw new Error('rejected')
    c.waitApplied(one.index, 100, [leader, f2])
    c.crash(f2)
    const two = c.propose('without a majority')
    if (!two.ok) throw new Error('rejected')
    c.tick(8) // less than an election timeout: the leader is still leader
    expect(c.core(leader).commitIndex).toBeLessThan(two.index)
    expect(c.committed.has(two.index)).toBe(false)
    c.restart(f1)
    c.restart(f2)
    c.converge()
    expect(c.committed.get(one.index)).toBe('with one follower')
  })

  it('survives the loss of the leader: committed entries stay, the old leader catches up', () => {
    const c = new Cluster({ voters: five, seed: 13 })
    const first = c.waitLeader()
    const r = c.propose('before the crash')
    if (!r.ok) throw new Error('rejected')
    c.waitApplied(r.index)
    c.crash(first)
    c.runUntil(() => c.leader() !== undefined, 200, 'new leader')
    const after = c.propose('after the crash')
    if (!after.ok) throw new Error('rejected')
    c.waitApplied(
      after.index,
      200,
      five.filter((id) => id !== first),
    )
    c.restart(first)
    c.waitApplied(after.index)
    expect(c.durableCommands(first)).toEqual(['before the crash', 'after the crash'])
  })

  it('commits many concurrent proposals in one batch each, in proposal order', () => {
    const c = new Cluster({ voters: five, seed: 14 })
    const leader = c.waitLeader()
    // Count from a quiet cluster: every follower has learned the leader's first commit.
    c.waitApplied(c.core(leader).commitIndex)
    const before = c.delivered.get('append-entries') ?? 0
    const indexes: number[] = []
    for (let i = 0; i < 50; i++) {
      const r = c.core(leader).propose(bytes(`p${i}`))
      if (!r.ok) throw new Error('rejected')
      indexes.push(r.index)
    }
    c.waitApplied(indexes.at(-1)!)
    expect(indexes.map((index) => c.committed.get(index))).toEqual(indexes.map((_, i) => `p${i}`))
    // All 50 went out in one AppendEntries per follower, plus one commit notice each.
    expect((c.delivered.get('append-entries') ?? 0) - before).toBeLessThanOrEqual(4 * 2)
  })

  it('pipelines batches to a follower, never more than maxInflight at once', () => {
    const c = new Cluster({
      voters: three,
      seed: 15,
      delay: [4, 4],
      core: { maxInflight: 3, maxBatchBytes: 1, electionTicks: 30 },
    })
    const leader = c.waitLeader(500)
    const follower = three.find((id) => id !== leader)!
    let most = 0
    let last = 0
    for (let i = 0; i < 20; i++) {
      const r = c.propose(`x${i}`)
      if (r.ok) last = r.index
      c.tick()
      const flying = c.inFlight(
        (m) => m.type === 'append-entries' && m.to === follower && m.entries.length > 0,
      )
      most = Math.max(most, flying.length)
    }
    c.waitApplied(last)
    expect(most).toBe(3)
  })

  it('makes a rejoining stale leader step down and overwrites its uncommitted entries', () => {
    const c = new Cluster({ voters: five, seed: 16 })
    const stale = c.waitLeader()
    c.isolate(stale)
    for (let i = 0; i < 5; i++) c.propose(`stale-${i}`, stale)
    c.runUntil(() => c.leader() !== undefined && c.leader() !== stale, 200, 'new leader')
    const fresh = c.leader()!
    for (let i = 0; i < 5; i++) c.propose(`fresh-${i}`, fresh)
    c.heal()
    c.converge()
    expect(c.core(stale).role).not.toBe('leader')
    for (const id of five) {
      const commands = c.durableCommands(id)
      expect(commands.filter((x) => x.startsWith('stale'))).toEqual([])
      expect(commands).toContain('fresh-4')
    }
    expect([...c.committed.values()].some((x) => x.startsWith('stale'))).toBe(false)
  })

  it('backs up over long divergent logs in a few round trips (reject hints)', () => {
    // The Raft paper's §5.3 optimization, as in MIT 6.824's TestBackup: logs that diverge
    // by 50 entries per follower over several terms, one entry per AppendEntries.
    const c = new Cluster({ voters: five, seed: 17, core: { maxBatchBytes: 1, electionTicks: 20 } })
    const l1 = c.waitLeader()
    const [f1, x, y, z] = five.filter((id) => id !== l1) as [string, string, string, string]
    let rejections = 0
    c.filter = (m) => {
      if (m.type === 'append-response' && !m.success && m.rejectedIndex > 0) rejections++
      return true
    }
    c.partition([l1, f1], [x, y, z])
    for (let i = 0; i < 50; i++) c.propose(`lost-${i}`, l1)
    c.tick(5)
    c.forceElection(x)
    for (let i = 0; i < 50; i++) c.propose(`kept-${i}`, x)
    c.waitApplied(c.core(x).lastIndex, 300, [x, y, z])
    c.partition([x, y], [l1, f1, z])
    for (let i = 0; i < 50; i++) c.propose(`lost-again-${i}`, x)
    c.tick(5)
    c.forceElection(z) // l1 and f1 back up over their 50 divergent entries
    for (let i = 0; i < 50; i++) c.propose(`kept-again-${i}`, z)
    c.heal() // x and y back up over theirs
    const last = c.propose('last', z)
    if (!last.ok) throw new Error('rejected')
    c.waitApplied(last.index, 500)
    for (const id of five) {
      expect(c.durableCommands(id).filter((cmd) => cmd.startsWith('lost'))).toEqual([])
      expect(c.durableCommands(id)).toHaveLength(101)
    }
    // Backing up one entry per round trip would take 50 rejections for each stale log.
    expect(rejections).toBeGreaterThan(0)
    expect(rejections).toBeLessThanOrEqual(12)
  })

  it('never commits a previous-term entry by counting replicas (Figure 8)', () => {
    const c = new Cluster({ voters: five, seed: 18, core: { maxBatchBytes: 1, electionTicks: 50 } })
    c.waitLeader(500)
    // (a) a leads and replicates x2 to b only.
    c.forceElection('a')
    c.waitApplied(c.core('a').lastIndex)
    c.partition(['a', 'b'], ['c', 'd', 'e'])
    const x2 = c.propose('x2', 'a')
    if (!x2.ok) throw new Error('rejected')
    c.runUntil(() => c.durableCommands('b').includes('x2'), 50, 'b holding x2')
    // (b) a crashes; e is elected by c, d, e, but nothing it appends leaves it.
    c.crash('a')
    c.partition(['c', 'd', 'e'])
    c.filter = (m) => !(m.from === 'e' && m.type === 'append-entries')
    c.forceElection('e')
    expect(c.node('e').entries.at(-1)?.index).toBe(x2.index)
    c.crash('e')
    // (c) a returns and is elected; x2 reaches c, so a majority holds it, but a's own
    // entry of the new term (its no-op) reaches nobody: its batches arrive cut short.
    c.filter = (m) => {
      if (m.from === 'e') return false // still in flight from before its crash
      if (m.from !== 'a' || m.type !== 'append-entries') return true
      return { ...m, entries: m.entries.filter((e) => e.index <= x2.index) }
    }
    c.heal()
    c.restart('a')
    c.forceElection('a')
    c.runUntil(() => c.durableCommands('c').includes('x2'), 100, 'c holding x2')
    c.tick(20)
    expect(['a', 'b', 'c'].filter((id) => c.durableCommands(id).includes('x2'))).toHaveLength(3)
    expect(c.core('a').commitIndex).toBeLessThan(x2.index)
    expect(c.committed.has(x2.index)).toBe(false)
    // (d) a crashes; e returns and wins with c and d, and replaces x2 with its own entry.
    c.crash('a')
    c.filter = undefined
    c.restart('e')
    c.forceElection('e')
    c.converge()
    expect(c.committed.get(x2.index)).toBe('noop')
    expect([...c.committed.values()]).not.toContain('x2')
  })

  it('keeps every safety property in Figure 8 schedules with an unreliable network', () => {
    // MIT 6.824's TestFigure8Unreliable: leaders crash soon after proposing, the network
    // drops, delays and reorders messages.
    for (let seed = 1; seed <= 8; seed++) {
      const c = new Cluster({ voters: five, seed: 1800 + seed, delay: [1, 8], dropRate: 0.1 })
      for (let round = 0; round < 60; round++) {
        const leader = c.leader()
        if (leader !== undefined) {
          c.propose(`r${round}`, leader)
          if (c.rng() < 0.3) c.crash(leader)
        }
        const down = five.filter((id) => !c.node(id).up)
        if (down.length > 2 || (down.length > 0 && c.rng() < 0.3)) c.restart(down[0]!)
        c.tick(1 + Math.floor(c.rng() * 12))
      }
      c.converge(2000)
    }
  })

  it('lets a follower commit only entries the batch proved to match the leader', () => {
    // Entries 2 and 3 are left over from term 1; the term-2 leader has only proved index 1.
    const stale = (index: number): LogEntry => ({
      index,
      term: 1,
      kind: 'noop',
      data: new Uint8Array(0),
    })
    const core = new RaftCore({
      id: 'b',
      random: () => 0.5,
      recovered: {
        hardState: { term: 1, votedFor: undefined },
        snapshot: undefined,
        entries: [1, 2, 3].map(stale),
      },
      bootstrap: {
        voters: [
          { id: 'a', address: '' },
          { id: 'b', address: '' },
        ],
        learners: [],
      },
    })
    core.step({
      type: 'append-entries',
      from: 'a',
      to: 'b',
      term: 2,
      prevIndex: 1,
      prevTerm: 1,
      entries: [],
      commit: 5,
    })
    expect(core.commitIndex).toBe(1)
    const rd = core.ready()
    expect(rd.messages).toEqual([
      expect.objectContaining({ type: 'append-response', success: true, matchIndex: 1 }),
    ])
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1])
  })

  it('refuses proposals past maxUncommittedBytes, and takes them again once they commit', () => {
    const c = new Cluster({ voters: three, seed: 19, core: { maxUncommittedBytes: 1000 } })
    const leader = c.waitLeader()
    c.isolate(leader)
    const payload = 'x'.repeat(100)
    const results = Array.from({ length: 30 }, () => c.core(leader).propose(bytes(payload)))
    expect(results.filter((r) => r.ok)).toHaveLength(10)
    expect(results.at(-1)).toEqual({
      ok: false,
      rejection: { code: 'uncommitted-limit', uncommittedBytes: 1000, limit: 1000 },
    })
    c.heal()
    const last = results.filter((r) => r.ok).at(-1)
    c.waitApplied(last!.ok ? last!.index : 0)
    expect(c.core(leader).propose(bytes(payload)).ok).toBe(true)
  })
})
