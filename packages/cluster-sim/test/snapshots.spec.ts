/**
 * Snapshots on whole edges: with a small Raft snapshot threshold, an edge that was down
 * while the log was compacted, and an edge new to the set, catch up from a snapshot; their
 * key-value state and their session table (a re-send of an old request gets its first
 * answer and applies nowhere again) match the others'.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { SIM_TIMEOUT_MS } from './network.js'
import { Incr, numberOf, Put, ReplicaSetSim, type SimClient } from './replica-set.js'

const voters = (ids: readonly string[]): string[] => ids.map((id) => `${id} voter`)

describe('catching up from a snapshot (simulation)', { timeout: SIM_TIMEOUT_MS }, () => {
  let rs: ReplicaSetSim
  afterEach(async () => {
    await rs?.close()
  })

  const states = () =>
    [...rs.nodes.values()].map((n) => JSON.stringify([[...n.state.data], [...n.state.counters]]))

  /** Writes `count` puts and session increments (request ids `from`…) through `client`. */
  async function write(client: SimClient, from: number, count: number): Promise<number[]> {
    const answers: number[] = []
    for (let i = 0; i < count; i++) {
      const put = { key: `k${(from + i) % 7}`, value: `v${from + i}` }
      // Request ids name a request within the session: the puts take their own range.
      await rs.whileRunning(client.call(Put, put, BigInt(10_000 + from + i)))
      const v = await rs.whileRunning(client.call(Incr, { key: 'c' }, BigInt(from + i)))
      answers.push(numberOf(v))
    }
    return answers
  }

  it('an edge down while the log was compacted, and a new edge, restore a snapshot with the session table', async () => {
    rs = new ReplicaSetSim({ seed: 21, snapshotThreshold: 16 })
    await rs.whileRunning(Promise.all(['n1', 'n2', 'n3'].map((id) => rs.launch(id))))
    await rs.untilConfiguration(voters(['n1', 'n2', 'n3']))
    const leader = await rs.waitForLeader()
    const down = ['n1', 'n2', 'n3'].find((id) => id !== leader.id) as string
    const client = rs.client(leader.id, 'session-s')
    await write(client, 1, 10)
    rs.crash(down)
    // Far past the threshold while `down` is away: the others compact their logs.
    const first = await write(client, 11, 40)
    await rs.spawn(down)
    await rs.spawn('n4')
    await rs.untilConfiguration(voters(['n1', 'n2', 'n3', 'n4']))
    await write(client, 51, 2)
    await rs.until(() => new Set(states()).size === 1, 30_000, 'every replica equal')
    expect(rs.node(down).state.restores).toBeGreaterThan(0)
    expect(rs.node('n4').state.restores).toBeGreaterThan(0)

    // Request 20 ran while `down` was away: only the snapshot told it. Re-sent through the
    // edges that restored it (forwarded to the leader, applied on every replica), it gets
    // its first answer, and no replica counts it again.
    const counted = rs.node(leader.id).state.counters.get('c')
    for (const via of [down, 'n4']) {
      const again = rs.client(via, 'session-s')
      const answer = await rs.whileRunning(again.call(Incr, { key: 'c' }, 20n))
      expect(numberOf(answer)).toBe(first[20 - 11])
    }
    await write(client, 53, 1)
    await rs.until(() => new Set(states()).size === 1, 30_000, 'every replica equal')
    expect(rs.node(down).state.counters.get('c')).toBe((counted ?? 0) + 1)
  })
})
