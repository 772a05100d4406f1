import { describe, expect, it } from 'vitest'
import { type ClusterMember, Directory, type EdgeMeta } from '../src/cluster/index.js'
import { ScriptedMembership } from './cluster-membership.js'

const follower = (replicaSet: number, term: number, leader?: string): EdgeMeta => ({
  replicaSet,
  gateways: [`ws://rs${replicaSet}/`],
  role: 'follower',
  term,
  ...(leader === undefined ? {} : { leader }),
})
const leading = (replicaSet: number, term: number, id: string): EdgeMeta => ({
  ...follower(replicaSet, term, id),
  role: 'leader',
})

/** A started directory on a scripted membership, recording its events. */
function setup(localId = 'n0') {
  const membership = new ScriptedMembership(localId)
  const directory = new Directory({ membership })
  const events: string[] = []
  directory.on('cluster:member', (m, previous) =>
    events.push(`member ${m.id} ${m.state}${previous ? '' : ' new'}`),
  )
  directory.on('cluster:leader', (set, leaderId, term) =>
    events.push(`leader ${set} ${leaderId ?? '-'} ${term}`),
  )
  directory.on('cluster:ignored', (id, reason) => events.push(`ignored ${id} ${reason}`))
  directory.on('cluster:error', (error) => events.push(`error ${(error as Error).message}`))
  directory.start()
  return { membership, directory, events }
}

const ids = (members: ClusterMember[]) => members.map((m) => `${m.id}@${m.state}`)

describe('cluster directory', () => {
  it('indexes edges by id and by replica set, including those known before start', () => {
    const membership = new ScriptedMembership('n0')
    membership.putEdge('n3', follower(2, 1))
    membership.putEdge('n1', follower(1, 1))
    const directory = new Directory({ membership })
    directory.start()
    membership.putEdge('n2', follower(1, 1))
    expect(ids(directory.members())).toEqual(['n1@alive', 'n2@alive', 'n3@alive'])
    expect(directory.replicaSets()).toEqual([1, 2])
    expect(ids(directory.replicaSet(1))).toEqual(['n1@alive', 'n2@alive'])
    expect(directory.replicaSet(7)).toEqual([])
    expect(directory.member('n3')).toMatchObject({
      id: 'n3',
      replicaSet: 2,
      gateways: ['ws://rs2/'],
      role: 'follower',
      term: 1,
      address: 'memory:n3',
      local: false,
    })
    expect(directory.self).toBeUndefined() // it has not published yet
  })

  it('reports a member once per change, with what it was before', () => {
    const { membership, directory, events } = setup()
    const joined = membership.putEdge('n1', follower(1, 1))
    const before = directory.member('n1')
    membership.emit('member:update', joined) // the same snapshot again: nothing new
    membership.putEdge('n1', follower(1, 2))
    membership.putEdge('n1', follower(1, 2), 'suspect')
    expect(events).toEqual([
      'member n1 alive new',
      'leader 1 - 1',
      'member n1 alive',
      'leader 1 - 2',
      'member n1 suspect',
    ])
    const previous: (ClusterMember | undefined)[] = []
    directory.on('cluster:member', (_, p) => previous.push(p))
    membership.putEdge('n1', follower(1, 3))
    expect(previous[0]).toMatchObject({ state: 'suspect', term: 2 })
    expect(before).toMatchObject({ term: 1 }) // snapshots never change
    expect(Object.isFrozen(before)).toBe(true)
  })

  it('follows a replica set’s leader through an election and ignores a stale claim', () => {
    const { membership, directory, events } = setup()
    membership.putEdge('n1', leading(1, 1, 'n1'))
    membership.putEdge('n2', follower(1, 1, 'n1'))
    membership.putEdge('n3', follower(1, 1, 'n1'))
    expect(directory.leader(1)?.id).toBe('n1')
    events.length = 0
    // n2 starts an election in term 2 and wins it; n1 still claims term 1 for a while.
    membership.putEdge('n2', { ...follower(1, 2), role: 'candidate' })
    expect(directory.leader(1)).toBeUndefined()
    membership.putEdge('n3', follower(1, 2, 'n2'))
    expect(directory.leader(1)?.id).toBe('n2')
    membership.putEdge('n2', leading(1, 2, 'n2'))
    membership.putEdge('n1', leading(1, 1, 'n1')) // stale, heard again
    expect(directory.leader(1)?.id).toBe('n2')
    membership.putEdge('n1', follower(1, 2, 'n2'))
    expect(events.filter((e) => e.startsWith('leader'))).toEqual(['leader 1 - 2', 'leader 1 n2 2'])
    expect(ids(directory.replicaSet(1))).toEqual(['n2@alive', 'n1@alive', 'n3@alive'])
  })

  it('keeps a failed edge as dead, without its leadership, until the membership forgets it', () => {
    const { membership, directory, events } = setup()
    membership.putEdge('n1', leading(1, 4, 'n1'))
    membership.putEdge('n2', follower(1, 4, 'n1'))
    events.length = 0
    membership.depart('n1', 'failed')
    expect(events).toEqual(['member n1 dead', 'leader 1 - 4'])
    expect(ids(directory.replicaSet(1))).toEqual(['n1@dead', 'n2@alive'])
    membership.forget('n1')
    expect(directory.member('n1')).toBeUndefined()
    expect(ids(directory.members())).toEqual(['n2@alive'])
    membership.putEdge('n3', follower(3, 1))
    membership.depart('n3', 'left')
    expect(directory.member('n3')?.state).toBe('left')
    membership.forget('n3')
    expect(directory.replicaSets()).toEqual([1])
    expect(events.slice(2)).toEqual([
      'member n3 alive new',
      'leader 3 - 1',
      'member n3 left',
      'leader 3 - 0',
    ])
  })

  it('moves an edge that changes replica set, and re-elects both sets', () => {
    const { membership, directory, events } = setup()
    membership.putEdge('n1', leading(1, 2, 'n1'))
    events.length = 0
    membership.putEdge('n1', leading(2, 5, 'n1'))
    expect(directory.replicaSets()).toEqual([2])
    expect(directory.leader(1)).toBeUndefined()
    expect(directory.leader(2)?.id).toBe('n1')
    expect(events).toEqual(['member n1 alive', 'leader 1 - 0', 'leader 2 n1 5'])
  })

  it('ignores members that are not readable edges, and drops an edge whose record turns unreadable', () => {
    const { membership, directory, events } = setup()
    membership.put('g1', { role: 'raft', addr: '10.0.0.1:9001' })
    membership.putEdge('n1', leading(1, 1, 'n1'))
    membership.put('n1', { rony: '2', rs: '1', role: 'leader' })
    membership.put('n2', { rony: '1', rs: 'x', gw: '', role: 'follower', term: '1' })
    expect(directory.members()).toEqual([])
    expect(directory.leader(1)).toBeUndefined()
    expect(events).toEqual([
      'ignored g1 not-an-edge',
      'member n1 alive new',
      'leader 1 n1 1',
      'leader 1 - 0',
      'ignored n1 version',
      'ignored n2 invalid',
    ])
  })

  it('keeps the membership’s loop safe from a listener that throws', () => {
    const { membership, directory, events } = setup()
    directory.on('cluster:member', () => {
      throw new Error('listener bug')
    })
    expect(() => membership.putEdge('n1', leading(1, 1, 'n1'))).not.toThrow()
    expect(events).toEqual(['member n1 alive new', 'leader 1 n1 1'])
    expect(directory.leader(1)?.id).toBe('n1')
  })

  it('stops following the membership on stop(), and starts over on start()', async () => {
    const { membership, directory } = setup()
    membership.putEdge('n1', follower(1, 1))
    await directory.stop()
    await directory.stop()
    membership.putEdge('n2', follower(1, 1))
    expect(ids(directory.members())).toEqual(['n1@alive'])
    directory.start()
    directory.start()
    expect(ids(directory.members())).toEqual(['n1@alive', 'n2@alive'])
    expect(membership.listenerCount('member:join')).toBe(1)
  })
})

describe('publishing the local edge’s record', () => {
  const tick = () => new Promise((resolve) => setImmediate(resolve))

  it('shows the published record as the local edge, leading its set', async () => {
    const { membership, directory, events } = setup('n0')
    membership.putEdge('n1', follower(1, 3, 'n0'))
    directory.publish({ ...leading(1, 3, 'n0'), raft: 'memory:raft-n0' })
    await directory.flush()
    expect(membership.local.meta).toMatchObject({
      rony: '1',
      role: 'leader',
      raft: 'memory:raft-n0',
    })
    expect(directory.self).toMatchObject({ id: 'n0', local: true, role: 'leader', term: 3 })
    expect(directory.leader(1)?.id).toBe('n0')
    expect(events).toContain('member n0 alive new')
  })

  it('coalesces a burst of changes into one update with the latest record', async () => {
    const { membership, directory } = setup()
    membership.manual = true
    for (let term = 1; term <= 5; term++) directory.publish(follower(1, term))
    await tick()
    expect(membership.calls.map((c) => c.meta.term)).toEqual(['5'])
    // While that one is in flight, more changes: one more call, with the last of them.
    directory.publish({ ...follower(1, 6), role: 'candidate' })
    directory.publish(leading(1, 6, 'n0'))
    await tick()
    expect(membership.calls).toHaveLength(1)
    membership.calls[0]!.resolve()
    await tick()
    expect(membership.calls.map((c) => c.meta.role)).toEqual(['follower', 'leader'])
    membership.calls[1]!.resolve()
    await directory.flush()
    expect(directory.self).toMatchObject({ role: 'leader', term: 6 })
    // The record already applied costs nothing.
    directory.publish(leading(1, 6, 'n0'))
    await tick()
    expect(membership.calls).toHaveLength(2)
  })

  it('reports a failed update, and the next publish tries again', async () => {
    const { membership, directory, events } = setup()
    membership.manual = true
    directory.publish(follower(1, 1))
    await tick()
    membership.calls[0]!.reject(new Error('no room'))
    await expect(directory.flush()).rejects.toThrow('no room')
    expect(events).toEqual(['error no room'])
    expect(directory.self).toBeUndefined()
    directory.publish(follower(1, 1))
    await tick()
    membership.calls[1]!.resolve()
    await directory.flush()
    expect(directory.self).toMatchObject({ term: 1 })
  })

  it('moves on to a newer record when an older one fails', async () => {
    const { membership, directory, events } = setup()
    membership.manual = true
    directory.publish(follower(1, 1))
    await tick()
    directory.publish(follower(1, 2))
    membership.calls[0]!.reject(new Error('stale'))
    await tick()
    membership.calls[1]!.resolve()
    await directory.flush()
    expect(events.filter((e) => e.startsWith('error'))).toEqual([])
    expect(directory.self).toMatchObject({ term: 2 })
  })

  it('checks the record at once, and refuses before start', async () => {
    const membership = new ScriptedMembership('n0')
    const directory = new Directory({ membership, maxMetaBytes: 128 })
    expect(() => directory.publish(follower(1, 1))).toThrow(
      expect.objectContaining({ code: 'RONY_ERR_NOT_STARTED' }),
    )
    directory.start()
    expect(() => directory.publish({ ...follower(1, 1), term: -1 })).toThrow(
      expect.objectContaining({ code: 'RONY_ERR_INVALID_META' }),
    )
    expect(() =>
      directory.publish({ ...follower(1, 1), gateways: ['ws://'.padEnd(80, 'x')] }),
    ).toThrow(expect.objectContaining({ code: 'RONY_ERR_MESSAGE_TOO_LARGE' }))
    expect(() => new Directory({ membership, maxMetaBytes: 0 })).toThrow(RangeError)
    await directory.stop()
    expect(() => directory.publish(follower(1, 1))).toThrow(
      expect.objectContaining({ code: 'RONY_ERR_NOT_STARTED' }),
    )
  })

  it('aborts the update in flight on stop()', async () => {
    const { membership, directory, events } = setup()
    membership.manual = true
    directory.publish(follower(1, 1))
    await tick()
    await directory.stop()
    expect(membership.calls[0]!.signal?.aborted).toBe(true)
    expect(events).toEqual([])
  })
})
