import { afterEach, describe, expect, it } from 'vitest'
import { PROFILES } from '../src/index.js'
import { addr, type Sim, sim } from './sim.js'

/**
 * Joins in numbers: a joiner gossips none of what its seed gave it, and the pairs gossip
 * misses are closed by one exchange per node once the joins settle. Periodic push-pull is
 * pushed out of the simulated window, so that exchange is the only one that can close them.
 */

const SIM_TIMEOUT_MS = 60_000
/** Periodic push-pull (and reconnects) years away. */
const NEVER = 1e12
/** The quiet a follow-up exchange waits for: 5 of the lan profile's gossip intervals. */
const SETTLE = 5 * PROFILES.lan.gossipInterval

const ids = (n: number, prefix = 'n') => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

describe('joins in numbers', { timeout: SIM_TIMEOUT_MS }, () => {
  let s: Sim
  afterEach(async () => {
    await s.close()
  })

  /** A settled cluster of `n` with no periodic push-pull; the dials made so far forgotten. */
  async function cluster(n: number, seed: number): Promise<void> {
    s = sim({ seed, base: { profile: 'lan', pushPullInterval: NEVER } })
    for (const id of ids(n)) await s.spawn(id)
    await s.run(30_000)
    s.dials.length = 0
  }

  const syncs = () => s.dials.filter((d) => d.kind === 'sync')

  it('a joining node gossips none of the member list it learns from its seed (the cluster has it)', async () => {
    await cluster(10, 6)
    expect(s.nodes.get('n0')!.stats().queued).toBe(0)
    const joiner = await s.spawn('n10')
    await s.run(30)
    expect(joiner.members()).toHaveLength(11)
    // Its own alive at most: the ten members it learned are news to it alone (memberlist
    // queues all ten).
    expect(joiner.stats().queued).toBeLessThanOrEqual(1)
  })

  it('after a burst of joins every node exchanges state once, when no join was heard for 5 rounds', async () => {
    await cluster(16, 3)
    const burstAt = s.clock.now()
    await Promise.all(ids(8, 'j').map((id) => s.spawn(id)))
    await s.run(SETTLE - 100)
    expect(syncs()).toEqual([])
    await s.run(3_000)
    // 8 joins is more than 1/16 of 24 members: each of the 24 follows up, unless a peer's
    // follow-up reached it first (it then has what that peer had); none does twice.
    const from = syncs().map((d) => d.from)
    expect(new Set(from).size).toBe(from.length)
    const involved = new Set([...from, ...syncs().map((d) => d.to.slice('memory:'.length))])
    expect([...involved].sort()).toEqual([...ids(16), ...ids(8, 'j')].sort())
    // (A member a follow-up brought late restarts the quiet of those that hear it.)
    for (const d of syncs()) expect(d.at - burstAt).toBeGreaterThanOrEqual(SETTLE)
  })

  it('a lone join costs one exchange: the joiner follows up, the members do not', async () => {
    await cluster(40, 4)
    await s.spawn('late')
    await s.run(5_000)
    expect(syncs().map((d) => d.from)).toEqual(['late'])
  })

  it('a member that missed a join by gossip gets it from its follow-up exchange', async () => {
    await cluster(24, 5)
    await Promise.all(ids(4, 'j').map((id) => s.spawn(id)))
    await s.run(100)
    // n7 hears the four joins, then no packet reaches it while `late` joins and its news
    // spreads (streams still work): gossip never brings it `late`.
    const cut = [...s.nodes.keys()].filter((id) => id !== 'n7').concat('late')
    for (const id of cut) s.net.link(addr(id), addr('n7'), { loss: 1 }, { oneWay: true })
    await s.spawn('late')
    await s.run(3_000)
    for (const id of cut) s.net.link(addr(id), addr('n7'), undefined, { oneWay: true })
    const n7 = s.nodes.get('n7')!
    expect(n7.member('late')?.state).toBe('alive')
    const learned = s.events.find((e) => e.node === 'n7' && e.member === 'late')
    expect(syncs().some((d) => d.from === 'n7' && d.at <= learned!.at)).toBe(true)
    await s.run(10_000)
    expect(s.events.filter((e) => e.event === 'leave')).toEqual([])
  })
})
