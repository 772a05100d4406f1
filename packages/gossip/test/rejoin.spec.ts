import { afterEach, describe, expect, it } from 'vitest'
import { PROFILES } from '../src/options.js'
import { addr, type Sim, sim, view } from './sim.js'

/** Simulated minutes are CPU-bound; nothing here waits on the wall clock. */
const SIM_TIMEOUT_MS = 120_000

/** The lan profile's `rejoinInterval` (its `pushPullInterval`); each try comes up to 25% later. */
const REJOIN = PROFILES.lan.pushPullInterval
const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${i}`)

describe('retrying the seeds that are not members', { timeout: SIM_TIMEOUT_MS }, () => {
  let s: Sim
  afterEach(async () => {
    await s.close()
  })

  it('two members that left, restarted together behind a partition, merge back after the heal', async () => {
    s = sim({ seed: Number(process.env.SEED ?? 11) })
    for (const id of ids(6)) await s.spawn(id)
    await s.run(30_000)
    const rest = ['n0', 'n1', 'n2', 'n3']
    const island = ['n4', 'n5']
    const leaves = island.map((id) => s.nodes.get(id)!.leave())
    await s.run(5_000)
    await Promise.all(leaves)
    for (const id of island) await s.crash(id)
    s.net.partition(rest.map(addr), island.map(addr))
    // Their seeds point across the partition and at each other: they join each other only.
    await s.spawn('n4', { seeds: [addr('n0'), addr('n5')] })
    await s.spawn('n5', { seeds: [addr('n1'), addr('n4')] })
    await s.run(10_000)
    for (const id of island) expect(view(s.nodes.get(id)!)).toEqual(island)
    for (const id of rest) expect(view(s.nodes.get(id)!)).toEqual(rest)
    // The rest saw them leave: nobody there retries them (as serf, left members are not
    // reconnected). Only the island's seed retries can merge the two.
    s.net.heal()
    await s.run(2 * REJOIN * 1.25 + 5_000)
    for (const g of s.nodes.values()) {
      expect(view(g)).toEqual(ids(6))
      expect(g.members().every((m) => m.state === 'alive')).toBe(true)
    }
  })

  it('makes no join attempt while every seed is a live member', async () => {
    s = sim({ seed: 12 })
    const seeds = ['n0', 'n1', 'n2'].map(addr)
    for (const id of ids(8)) await s.spawn(id, id === 'n0' ? {} : { seeds })
    await s.run(30_000)
    const from = s.clock.now()
    await s.run(10 * REJOIN)
    const later = s.dials.filter((d) => d.at > from)
    expect(later.filter((d) => d.kind === 'join')).toEqual([])
    // The tap does see streams: the periodic push-pulls.
    expect(later.filter((d) => d.kind === 'sync').length).toBeGreaterThan(8 * 5)
    for (const g of s.nodes.values()) expect(view(g)).toEqual(ids(8))
  })

  it('retries a seed that is not a member once per interval, not more', async () => {
    s = sim({ seed: 13 })
    const gone = 'memory:gone'
    for (const id of ids(5)) await s.spawn(id, id === 'n0' ? {} : { seeds: [addr('n0'), gone] })
    await s.run(30_000)
    const from = s.clock.now()
    await s.run(10 * REJOIN)
    for (const id of ids(5).slice(1)) {
      const tries = s.dials.filter((d) => d.from === id && d.at > from && d.to === gone)
      // Every interval plus up to 25% jitter: 8 to 10 tries in 10 intervals.
      expect(tries.length).toBeGreaterThanOrEqual(8)
      expect(tries.length).toBeLessThanOrEqual(10)
      for (const [i, t] of tries.entries()) {
        if (i > 0) expect(t.at - tries[i - 1]!.at).toBeGreaterThanOrEqual(REJOIN)
      }
    }
    // The live seed is never dialed to join again.
    expect(s.dials.filter((d) => d.at > from && d.kind === 'join' && d.to !== gone)).toEqual([])
  })

  it('knows a seed given under another name by the member that answered there', async () => {
    s = sim({ seed: 14 })
    // As a DNS name in a seed list, while the member advertises its own address.
    s.aliases.set('dns:n0', addr('n0'))
    for (const id of ids(4)) await s.spawn(id, id === 'n0' ? {} : { seeds: ['dns:n0'] })
    await s.run(10 * REJOIN)
    for (const g of s.nodes.values()) expect(view(g)).toEqual(ids(4))
    // The joins on start, and no more.
    expect(s.dials.filter((d) => d.to === 'dns:n0').map((d) => d.kind)).toEqual([
      'join',
      'join',
      'join',
    ])
  })
})
