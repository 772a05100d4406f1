/**
 * The clustered edge end to end in simulation: a replica set forms from gossip, replicated
 * handlers run on every replica in log order, followers forward, reads are linearizable,
 * re-sent requests apply once.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { SIM_TIMEOUT_MS } from './network.js'
import { Get, Incr, LocalGet, numberOf, Put, ReplicaSetSim, SimClient } from './replica-set.js'

describe('a replica set of whole edges (simulation)', { timeout: SIM_TIMEOUT_MS }, () => {
  let rs: ReplicaSetSim
  afterEach(async () => {
    await rs?.close()
  })

  async function threeNodes(
    seed: number,
    init: Partial<ConstructorParameters<typeof ReplicaSetSim>[0]> = {},
  ) {
    rs = new ReplicaSetSim({ seed, ...init })
    await Promise.all(['n1', 'n2', 'n3'].map((id) => rs.spawn(id)))
    const leader = await rs.waitForLeader()
    await rs.until(
      () =>
        [...rs.nodes.values()].every(
          (n) => n.edge.cluster?.consensus?.configuration().length === 3,
        ),
      30_000,
      'three voters',
    )
    return leader
  }

  it('forms one group of the three with bootstrapExpect 3, published through gossip', async () => {
    const leader = await threeNodes(1)
    const ids = leader.edge.cluster?.consensus?.configuration().map((s) => `${s.id} ${s.suffrage}`)
    expect(ids?.sort()).toEqual(['n1 voter', 'n2 voter', 'n3 voter'])
    await rs.until(
      () => [...rs.nodes.values()].every((n) => n.edge.cluster?.leader(1)?.id === leader.id),
      30_000,
      'the leader in every directory',
    )
  })

  it('a replicated request via the leader and via a follower runs on every replica once, answered by its origin', async () => {
    const leader = await threeNodes(2)
    const follower = [...rs.nodes.values()].find((n) => n !== leader)!
    const viaLeader = new SimClient(leader.gateway)
    const viaFollower = new SimClient(follower.gateway)
    const a = await rs.whileRunning(viaLeader.call(Put, { key: 'a', value: '1' }))
    const b = await rs.whileRunning(viaFollower.call(Put, { key: 'b', value: '2' }))
    expect([a.found, b.found]).toEqual([false, false])
    await rs.until(() => [...rs.nodes.values()].every((n) => n.state.data.get('b') === '2'))
    for (const node of rs.nodes.values()) {
      expect([...node.state.data].sort()).toEqual([
        ['a', '1'],
        ['b', '2'],
      ])
    }
    // The leader stamped time and seed: every replica computed the same answer.
    expect(b.now).toBeGreaterThan(0)
    viaLeader.close()
    viaFollower.close()
  })

  it('a linearizable read on a follower sees a write acknowledged before it', async () => {
    const leader = await threeNodes(3)
    const follower = [...rs.nodes.values()].find((n) => n !== leader)!
    const writer = new SimClient(leader.gateway)
    const reader = new SimClient(follower.gateway)
    for (let i = 0; i < 5; i++) {
      await rs.whileRunning(writer.call(Put, { key: 'k', value: `v${i}` }))
      const read = await rs.whileRunning(reader.call(Get, { key: 'k' }))
      expect([read.value, read.server]).toEqual([`v${i}`, follower.id])
    }
    const local = await rs.whileRunning(reader.call(LocalGet, { key: 'k' }))
    expect(local.server).toBe(follower.id)
    writer.close()
    reader.close()
  })

  it('a request re-sent with its session and id applies once and gets its first answer', async () => {
    const leader = await threeNodes(4)
    const follower = [...rs.nodes.values()].find((n) => n !== leader)!
    const first = new SimClient(leader.gateway, 'session-1')
    const again = new SimClient(follower.gateway, 'session-1')
    const one = await rs.whileRunning(first.call(Incr, { key: 'c' }, 42n))
    const two = await rs.whileRunning(again.call(Incr, { key: 'c' }, 42n))
    expect([numberOf(one), numberOf(two)]).toEqual([1, 1])
    const next = await rs.whileRunning(again.call(Incr, { key: 'c' }, 43n))
    expect(numberOf(next)).toBe(2)
    await rs.until(() => [...rs.nodes.values()].every((n) => n.state.counters.get('c') === 2))
    first.close()
    again.close()
  })
})
