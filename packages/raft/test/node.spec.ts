import { isCodedError } from '@rony/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { NotLeaderError, raft } from '../src/index.js'
import { memoryStorage } from '../src/storage/memory-storage.js'
import { command, KvMachine, SimCluster } from './node-harness.js'

let cluster: SimCluster | undefined
afterEach(async () => {
  await cluster?.stop()
  cluster = undefined
})

async function started(size = 3, options: { snapshotThreshold?: number; seed?: number } = {}) {
  cluster = new SimCluster({ size, ...options })
  await cluster.startAll()
  return cluster
}

describe('raft node (simulated network and clock)', () => {
  it('elects one leader and replicates commands in the same order everywhere', async () => {
    const c = await started()
    const leader = await c.leader()
    const results = []
    for (let i = 0; i < 30; i++) {
      results.push(c.settle(leader.node.propose(command(`k${i % 3}`, `v${i}`))))
    }
    const settled = await Promise.all(results)
    // apply's result (the previous value) comes back to the proposer.
    expect(settled[3]?.result).toBe('v0')
    expect(settled.map((r) => r.index)).toEqual(
      [...settled.map((r) => r.index)].sort((a, b) => a - b),
    )
    await c.until(() => [...c.members.values()].every((m) => m.machine.applied.length === 30))
    const orders = [...c.members.values()].map((m) => m.machine.applied.join(','))
    expect(new Set(orders).size).toBe(1)
  })

  it('rejects proposals on a follower with NotLeaderError naming the leader', async () => {
    const c = await started()
    const leader = await c.leader()
    const follower = [...c.members.values()].find((m) => m !== leader)!
    const error = await follower.node.propose(command('a', '1')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotLeaderError)
    expect(error).toMatchObject({
      code: 'RONY_ERR_NOT_LEADER',
      leaderId: leader.id,
      leaderAddress: `memory:${leader.id}`,
    })
  })

  it('forwards a follower’s proposal with forward: true and answers with its own apply result', async () => {
    const c = await started()
    const leader = await c.leader()
    await c.settle(leader.node.propose(command('f', 'old')))
    const follower = [...c.members.values()].find((m) => m !== leader)!
    const forwarded = await c.settle(follower.node.propose(command('f', 'new'), { forward: true }))
    // apply's result (the previous value) on the follower itself, which has applied it.
    expect(forwarded).toMatchObject({ result: 'old', term: leader.node.term })
    expect(follower.node.appliedIndex).toBeGreaterThanOrEqual(forwarded.index)
    expect(follower.machine.data.get('f')).toBe('new')
    await c.until(() => leader.machine.data.get('f') === 'new')
    // On the leader, forward: true is an ordinary proposal.
    const local = await c.settle(leader.node.propose(command('f', 'newer'), { forward: true }))
    expect(local).toMatchObject({ index: forwarded.index + 1, result: 'new' })
  })

  it('rejects a forwarded proposal when no leader is known within its timeout, or when its leader is gone', async () => {
    const c = await started()
    const leader = await c.leader()
    const follower = [...c.members.values()].find((m) => m !== leader)!
    const lonely = await c.start('n9') // not a member yet: it knows no leader
    const proposal = lonely.node.propose(command('a', '1'), { forward: true })
    const error = await c.settle(proposal, 30_000).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotLeaderError)
    expect(error).toMatchObject({ leaderId: undefined })
    const aborted = new AbortController()
    const read = lonely.node.readIndex({ signal: aborted.signal })
    aborted.abort(new Error('gave up'))
    await expect(read).rejects.toThrow('gave up')
    // The leader crashes before the request reaches it: the call times out, outcome unknown.
    c.net.crash(`memory:${leader.id}`)
    const lost = follower.node.propose(command('a', '2'), { forward: true })
    await expect(c.settle(lost, 30_000)).rejects.toMatchObject({ code: 'RONY_ERR_TIMEOUT' })
  })

  it('propose and readIndex called before any leader is known wait for one (forward: true on every server)', async () => {
    cluster = new SimCluster({ size: 3 })
    await cluster.startAll()
    const c = cluster
    const members = [...c.members.values()]
    expect(members.every((m) => m.node.leaderId === undefined)).toBe(true)
    const writes = members.map((m) => m.node.propose(command(m.id, 'early'), { forward: true }))
    const reads = members.map((m) => m.node.readIndex())
    const written = await c.settle(Promise.all(writes))
    expect(new Set(written.map((w) => w.index)).size).toBe(3)
    await c.settle(Promise.all(reads))
  })

  it('without forward, a proposal made before any leader is known waits, then runs on the leader or names it', async () => {
    cluster = new SimCluster({ size: 3, seed: 5 })
    await cluster.startAll()
    const c = cluster
    const members = [...c.members.values()]
    const outcomes = await c.settle(
      Promise.allSettled(members.map((m) => m.node.propose(command(m.id, 'x')))),
    )
    const leader = await c.leader()
    outcomes.forEach((outcome, i) => {
      if (members[i] === leader) expect(outcome.status).toBe('fulfilled')
      else {
        expect(outcome).toMatchObject({ status: 'rejected', reason: { leaderId: leader.id } })
      }
    })
  })

  it('elects a new leader after the leader crashes; the old one catches up after restart', async () => {
    const c = await started()
    const first = await c.leader()
    await c.settle(first.node.propose(command('x', '1')))
    const crashed = await c.crash(first.id)
    const second = await c.leader()
    expect(second.id).not.toBe(first.id)
    expect(second.node.term).toBeGreaterThan(0)
    await c.settle(second.node.propose(command('x', '2')))
    const back = await c.start(first.id, crashed.storage)
    await c.until(() => back.machine.data.get('x') === '2')
    expect((await c.leader()).id).toBe(second.id)
  })

  it('serves linearizable reads on a follower with readIndex', async () => {
    const c = await started()
    const leader = await c.leader()
    const write = await c.settle(leader.node.propose(command('r', 'fresh')))
    const follower = [...c.members.values()].find((m) => m !== leader)!
    const index = await c.settle(follower.node.readIndex())
    expect(index).toBeGreaterThanOrEqual(write.index)
    expect(follower.node.appliedIndex).toBeGreaterThanOrEqual(index)
    expect(follower.machine.data.get('r')).toBe('fresh')
  })

  it('adds a learner, catches it up from a snapshot, then promotes it', async () => {
    const c = await started(3, { snapshotThreshold: 10 })
    const leader = await c.leader()
    for (let i = 0; i < 25; i++) await c.settle(leader.node.propose(command(`s${i}`, `${i}`)))
    const learner = await c.start('n4')
    await c.settle(leader.node.addLearner('n4', 'memory:n4'))
    await c.until(() => learner.machine.data.get('s24') === '24')
    expect(learner.machine.restores).toBeGreaterThan(0) // the log before the snapshot is gone
    expect(learner.node.role).toBe('learner')
    await c.settle(leader.node.addVoter('n4', 'memory:n4'))
    expect(leader.node.configuration().find((s) => s.id === 'n4')?.suffrage).toBe('voter')
    await c.until(() => learner.node.role === 'follower')
  })

  it('transfers leadership, and a removed leader steps down', async () => {
    const c = await started()
    const leader = await c.leader()
    const target = [...c.members.values()].find((m) => m !== leader)!
    await c.settle(leader.node.transferLeadership(target.id))
    expect((await c.leader()).id).toBe(target.id)
    await c.settle(target.node.removeServer(target.id))
    await c.until(() => {
      const l = c.leaders()
      return l.length === 1 && l[0]!.id !== target.id
    })
    expect(
      c
        .leaders()[0]!
        .node.configuration()
        .map((s) => s.id),
    ).not.toContain(target.id)
  })

  it('rejects calls before start and in-flight calls on stop, with coded errors', async () => {
    const idle = raft({
      id: 'solo',
      bind: '127.0.0.1:0',
      storage: memoryStorage(),
      stateMachine: new KvMachine(),
    })
    await expect(idle.propose(command('a', '1'))).rejects.toMatchObject({
      code: 'RONY_ERR_NOT_STARTED',
    })
    const c = await started()
    const leader = await c.leader()
    // Cut the leader off, so its proposal cannot commit, then stop it.
    c.net.isolate(`memory:${leader.id}`)
    const pending = leader.node.propose(command('p', '1'))
    await leader.node.stop()
    const error = await pending.catch((e: unknown) => e)
    expect(isCodedError(error, 'RONY_ERR_STOPPED')).toBe(true)
  })

  it('validates its options', () => {
    const base = {
      id: 'v',
      bind: 'memory:v',
      storage: memoryStorage(),
      stateMachine: new KvMachine(),
    }
    expect(() => raft({ ...base, id: '' })).toThrow(TypeError)
    expect(() => raft({ ...base, storage: undefined })).toThrow(/dataDir/)
    expect(() => raft({ ...base, heartbeatInterval: 500 })).toThrow(/heartbeatInterval/)
    expect(() => raft({ ...base, electionTimeout: 5 })).toThrow(/electionTimeout/)
  })
})
