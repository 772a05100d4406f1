/**
 * What a follower does with a replicated request: `onFollower: 'redirect'` answers a
 * `Redirect` naming the leader and its gateways; with no leader (the follower cut off) it
 * waits `leaderWait`, then answers `E02/LEADER`, in either policy.
 */
import { C_Redirect, RonyError, rony } from '@rony/envelope'
import { afterEach, describe, expect, it } from 'vitest'
import { SIM_TIMEOUT_MS } from './network.js'
import { decodeValue, Put, ReplicaSetSim, type SimEdge } from './replica-set.js'
import { classify, isNoLeader } from './schedule.js'

const ids = ['n1', 'n2', 'n3']

describe('a follower and replicated requests (simulation)', { timeout: SIM_TIMEOUT_MS }, () => {
  let rs: ReplicaSetSim
  afterEach(async () => {
    await rs?.close()
  })

  async function formed(init: Omit<ConstructorParameters<typeof ReplicaSetSim>[0], 'seed'>) {
    rs = new ReplicaSetSim({ seed: 31, ...init })
    await rs.whileRunning(Promise.all(ids.map((id) => rs.launch(id))))
    await rs.untilConfiguration(ids.map((id) => `${id} voter`))
    const leader = await rs.waitForLeader()
    await rs.until(() => ids.every((id) => rs.node(id).edge.cluster?.leader(1)?.id === leader.id))
    return { leader, follower: rs.node(ids.find((id) => id !== leader.id) as string) }
  }

  /** Puts through `via`; returns the answer's envelope and the simulated ms it took. */
  async function put(via: SimEdge) {
    const started = rs.clock.now()
    const answer = await rs.whileRunning(
      rs.client(via.id).send(Put, { key: 'k', value: 'v' }, 77n),
      10_000,
    )
    return { answer, took: rs.clock.now() - started }
  }

  it("onFollower: 'redirect' answers a Redirect naming the leader and its gateway addresses", async () => {
    const { leader, follower } = await formed({ onFollower: 'redirect' })
    const { answer } = await put(follower)
    expect([answer.ctor, answer.requestId]).toEqual([C_Redirect, 77n])
    const redirect = rony.Redirect.decode(answer.message)
    expect(redirect.Edges).toHaveLength(1)
    expect(redirect.Edges[0]?.ServerID).toBe(leader.id)
    expect(redirect.Edges[0]?.HostPorts).toEqual(leader.edge.addresses())
    expect(leader.edge.addresses().length).toBeGreaterThan(0)
    expect(follower.state.data.has('k')).toBe(false)
  })

  it("onFollower: 'forward' runs it on the leader, whose handler sees the follower in ctx.receivedBy", async () => {
    const { leader, follower } = await formed({})
    const { answer } = await put(follower)
    const value = decodeValue(answer)
    expect([value.server, value.origin]).toEqual([leader.id, follower.id])
    // On the leader itself, the edge that received it is the leader.
    const direct = decodeValue((await put(leader)).answer)
    expect([direct.server, direct.origin]).toEqual([leader.id, leader.id])
  })

  for (const onFollower of ['forward', 'redirect'] as const) {
    it(`with no leader (the follower cut off), '${onFollower}' answers E02/LEADER after leaderWait`, async () => {
      const { follower } = await formed({ onFollower })
      rs.isolate(follower.id)
      // Until the follower's election timer gives its leader up, it still names one.
      await rs.until(() => follower.edge.cluster?.consensus?.leaderId === undefined, 10_000)
      const { answer, took } = await put(follower)
      let error: unknown
      try {
        decodeValue(answer)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(RonyError)
      expect(isNoLeader(error as RonyError), String(error)).toBe(true)
      expect(took).toBeGreaterThanOrEqual(3000)
      expect(took).toBeLessThan(3000 + 200)
    })
  }

  it('a request forwarded to a leader that just crashed is answered within leaderWait: retried on the next leader with a session, else of unknown outcome', async () => {
    const { leader, follower } = await formed({})
    const withSession = rs.client(follower.id, 'session-f')
    const without = rs.client(follower.id)
    rs.crash(leader.id)
    const started = rs.clock.now()
    const [retried, unknown] = await rs.whileRunning(
      Promise.all([
        withSession.send(Put, { key: 'k', value: 'v' }, 5n),
        without.send(Put, { key: 'j', value: 'w' }, 6n),
      ]),
      20_000,
    )
    expect(rs.clock.now() - started).toBeLessThanOrEqual(3000)
    expect(classify(retried).kind).toBe('ok')
    const outcome = classify(unknown)
    expect(outcome.kind === 'ok' || /^E06:/.test((outcome as { why: string }).why)).toBe(true)
  })

  it('a leaderWait of its own bounds the wait', async () => {
    const { follower } = await formed({ leaderWait: 500 })
    rs.isolate(follower.id)
    await rs.until(() => follower.edge.cluster?.consensus?.leaderId === undefined, 10_000)
    const { answer, took } = await put(follower)
    expect(() => decodeValue(answer)).toThrow(/E02:LEADER/)
    expect(took).toBeGreaterThanOrEqual(500)
    expect(took).toBeLessThan(700)
  })
})
