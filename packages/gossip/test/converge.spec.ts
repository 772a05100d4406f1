import { afterEach, describe, expect, it } from 'vitest'
import { type Sim, sim, view } from './sim.js'

/**
 * Simulated minutes of many nodes are CPU-bound: 2–4 s alone, several times that when CI
 * runs every package's tests at once on 2 cores. Nothing here waits on the wall clock.
 */
const SIM_TIMEOUT_MS = 120_000

const ids = (n: number, prefix = 'n') => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

describe('membership in a 50-node simulated cluster', { timeout: SIM_TIMEOUT_MS }, () => {
  let s: Sim
  afterEach(async () => {
    await s.close()
  })

  it('converges to one full, identical member list', async () => {
    s = sim({ seed: 1 })
    for (const id of ids(50)) await s.spawn(id)
    await s.run(30_000)
    const expected = ids(50).sort()
    for (const g of s.nodes.values()) {
      expect(view(g)).toEqual(expected)
      expect(g.members().every((m) => m.state === 'alive')).toBe(true)
    }
    expect(s.events.filter((e) => e.event === 'leave')).toEqual([])
  })

  it('spreads a join to every member in milliseconds, also right after a leave', async () => {
    s = sim({ seed: 7 })
    for (const id of ids(50)) await s.spawn(id)
    await s.run(30_000)
    // A recent departure once thinned the gossip that carried the next join.
    const left = s.nodes.get('n9')!.leave()
    await s.run(500)
    await left
    await s.crash('n9')
    await s.run(500)
    const joinedAt = s.clock.now()
    await s.spawn('late')
    await s.run(1_000)
    const learned = s.events.filter((e) => e.member === 'late' && e.event === 'join')
    expect(new Set(learned.map((e) => e.node)).size).toBe(49)
    // The joiner announces itself to every member it learned from its seed (lan rounds
    // come every 200 ms, and a push-pull every 30 s).
    expect(Math.max(...learned.map((e) => e.at)) - joinedAt).toBeLessThan(50)
  })

  it('declares a crashed node failed on every member within the Lifeguard bound', async () => {
    s = sim({ seed: 2 })
    for (const id of ids(50)) await s.spawn(id)
    await s.run(30_000)
    const crashedAt = s.clock.now()
    await s.crash('n17')
    // Bound (lan profile, N = 50): a probe within ~1 interval, the probe itself (1 interval),
    // the longest suspicion (6 × 4 × log10(50) × 1 s ≈ 40.8 s), a few gossip rounds.
    const bound = 1_000 + 1_000 + 40_800 + 5_000
    await s.run(bound)
    const failed = s.events.filter((e) => e.member === 'n17' && e.event === 'leave')
    expect(new Set(failed.map((e) => e.node)).size).toBe(49)
    expect(failed.every((e) => e.reason === 'failed')).toBe(true)
    const latest = Math.max(...failed.map((e) => e.at)) - crashedAt
    expect(latest).toBeLessThanOrEqual(bound)
    // Suspicions and the declaration spread in network hops (early rounds), not gossip rounds.
    const first = Math.min(...failed.map((e) => e.at)) - crashedAt
    expect(latest - first).toBeLessThan(100)
    for (const g of s.nodes.values()) expect(view(g)).not.toContain('n17')
    // Nobody else was ever declared failed.
    expect(s.events.filter((e) => e.event === 'leave' && e.member !== 'n17')).toEqual([])
  })

  it('sees a graceful leave as "left" everywhere, never as a failure', async () => {
    s = sim({ seed: 3 })
    for (const id of ids(50)) await s.spawn(id)
    await s.run(30_000)
    const leaving = s.nodes.get('n9')!
    const done = leaving.leave()
    await s.run(5_000)
    await done
    expect(leaving.local.state).toBe('left')
    await s.crash('n9')
    await s.run(30_000)
    const leaves = s.events.filter((e) => e.member === 'n9' && e.event === 'leave')
    expect(new Set(leaves.map((e) => e.node)).size).toBe(49)
    expect(leaves.every((e) => e.reason === 'left')).toBe(true)
    for (const g of s.nodes.values()) expect(g.member('n9')?.state ?? 'left').toBe('left')
  })

  it('a restarted node rejoins with a higher incarnation', async () => {
    s = sim({ seed: 4 })
    for (const id of ids(50)) await s.spawn(id)
    await s.run(30_000)
    const before = s.nodes.get('n0')!.member('n21')!.incarnation
    await s.crash('n21')
    await s.run(50_000)
    for (const g of s.nodes.values()) expect(g.member('n21')?.state ?? 'dead').toBe('dead')
    const restarted = await s.spawn('n21', { seeds: ['memory:n3'] })
    await s.run(30_000)
    expect(restarted.local.incarnation).toBeGreaterThan(before)
    for (const g of s.nodes.values()) {
      expect(view(g)).toEqual(ids(50).sort())
      if (g !== restarted) expect(g.member('n21')!.incarnation).toBe(restarted.local.incarnation)
    }
    const rejoins = s.events.filter(
      (e) => e.member === 'n21' && e.event === 'join' && e.at > 80_000,
    )
    expect(rejoins.length).toBeGreaterThan(0)
  })

  it('spreads metadata updates to everyone', async () => {
    s = sim({ seed: 5 })
    for (const id of ids(50)) await s.spawn(id)
    await s.run(30_000)
    const g = s.nodes.get('n33')!
    await g.updateMeta({ role: 'raft', addr: '10.0.0.33:9001' })
    await s.run(10_000)
    for (const other of s.nodes.values()) {
      expect(other.member('n33')!.meta).toEqual({ role: 'raft', addr: '10.0.0.33:9001' })
    }
    const updates = s.events.filter((e) => e.member === 'n33' && e.event === 'update')
    expect(new Set(updates.map((e) => e.node)).size).toBe(49)
  })

  it('delivers a broadcast to every other member exactly once', async () => {
    s = sim({ seed: 6 })
    for (const id of ids(50)) await s.spawn(id)
    await s.run(30_000)
    const got = new Map<string, string[]>()
    for (const [id, g] of s.nodes) {
      g.on('message', (data, from) => {
        got.set(id, [...(got.get(id) ?? []), `${from}:${new TextDecoder().decode(data)}`])
      })
    }
    s.nodes.get('n42')!.broadcast(new TextEncoder().encode('hello'))
    await s.run(20_000)
    expect(got.has('n42')).toBe(false)
    expect(got.size).toBe(49)
    for (const msgs of got.values()) expect(msgs).toEqual(['n42:hello'])
  })
})
