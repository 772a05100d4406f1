/**
 * Linearizable reads that arrive together share one ReadIndex barrier (on a follower, one
 * round trip to the leader for the lot), and each still sees every write acknowledged before
 * it was sent.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { SIM_TIMEOUT_MS } from './network.js'
import { Get, Put, ReplicaSetSim, SimClient } from './replica-set.js'

describe('linearizable reads on a follower (simulation)', { timeout: SIM_TIMEOUT_MS }, () => {
  let rs: ReplicaSetSim
  afterEach(async () => {
    await rs?.close()
  })

  it('share one ReadIndex call per batch that arrives together, and see the writes before them', async () => {
    rs = new ReplicaSetSim({ seed: 11 })
    await Promise.all(['n1', 'n2', 'n3'].map((id) => rs.spawn(id)))
    const leader = await rs.waitForLeader()
    const follower = [...rs.nodes.values()].find((n) => n !== leader)!
    await rs.until(() => follower.edge.cluster?.leader(1)?.id === leader.id)
    const writer = new SimClient(leader.gateway)
    const reader = new SimClient(follower.gateway)
    await rs.whileRunning(writer.call(Put, { key: 'k', value: 'v1' }))

    const consensus = follower.edge.cluster!.consensus!
    const readIndex = vi.spyOn(consensus, 'readIndex')
    const reads = Array.from({ length: 20 }, () => reader.call(Get, { key: 'k' }))
    const values = await rs.whileRunning(Promise.all(reads))
    expect(values.map((v) => v.value)).toEqual(Array(20).fill('v1'))
    expect(readIndex).toHaveBeenCalledTimes(1)

    // A read sent after a write was acknowledged starts a barrier of its own, so sees it.
    await rs.whileRunning(writer.call(Put, { key: 'k', value: 'v2' }))
    const after = await rs.whileRunning(reader.call(Get, { key: 'k' }))
    expect(after.value).toBe('v2')
    expect(readIndex).toHaveBeenCalledTimes(2)
    writer.close()
    reader.close()
  })
})
