import { afterEach, describe, expect, it } from 'vitest'
import { addr, type Sim, sim, slowClock, view } from './sim.js'

/**
 * Simulated minutes of many nodes are CPU-bound: 2–4 s alone, several times that when CI
 * runs every package's tests at once on 2 cores. Nothing here waits on the wall clock.
 */
const SIM_TIMEOUT_MS = 120_000

const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${i}`)

describe('failure detection under faults', { timeout: SIM_TIMEOUT_MS }, () => {
  let s: Sim
  afterEach(async () => {
    await s.close()
  })

  it('10% loss and a 5× slow node: no live node is ever declared failed, a crashed one is', async () => {
    s = sim({
      seed: Number(process.env.SEED ?? 7),
      faults: { loss: 0.1, delay: { min: 1, max: 20 } },
    })
    for (const id of ids(30)) {
      await s.spawn(id, id === 'n7' ? { clock: slowClock(s.clock, 5) } : {})
    }
    await s.run(5 * 60_000)
    expect(s.events.filter((e) => e.event === 'leave')).toEqual([])
    const crashedAt = s.clock.now()
    await s.crash('n13')
    await s.run(5 * 60_000)
    const failed = s.events.filter((e) => e.event === 'leave')
    expect(failed.every((e) => e.member === 'n13' && e.reason === 'failed')).toBe(true)
    expect(new Set(failed.map((e) => e.node)).size).toBe(29)
    // The healthy members are quick; the slow one learns it by gossip too.
    const healthy = failed.filter((e) => e.node !== 'n7').map((e) => e.at - crashedAt)
    expect(Math.max(...healthy)).toBeLessThan(60_000)
    for (const g of s.nodes.values()) {
      expect(view(g)).toEqual(
        ids(30)
          .filter((id) => id !== 'n13')
          .sort(),
      )
    }
  })

  it('without the TCP fallback, suspicions under loss are refuted and never become failures', async () => {
    s = sim({
      seed: Number(process.env.SEED ?? 1),
      faults: { loss: 0.1, delay: { min: 1, max: 20 } },
      base: { tcpFallback: false },
    })
    for (const id of ids(30)) {
      await s.spawn(id, id === 'n7' ? { clock: slowClock(s.clock, 5) } : {})
    }
    await s.run(5 * 60_000)
    // Lost probes do raise suspicions here; refutations (higher incarnations) clear them.
    expect(s.events.filter((e) => e.event === 'suspect').length).toBeGreaterThan(100)
    expect(s.events.filter((e) => e.event === 'leave')).toEqual([])
    for (const g of s.nodes.values()) expect(view(g)).toEqual(ids(30).sort())
    expect(Math.max(...[...s.nodes.values()].map((g) => g.local.incarnation))).toBeGreaterThan(1)
  })

  /** Ten nodes, of which n3's packets (UDP) all get lost, its streams (TCP) not. */
  async function mute(tcpFallback: boolean): Promise<void> {
    s = sim({ seed: Number(process.env.SEED ?? 5), base: { tcpFallback } })
    for (const id of ids(10)) {
      if (id !== 'n3') s.net.link(addr('n3'), addr(id), { loss: 1 }, { oneWay: true })
    }
    for (const id of ids(10)) await s.spawn(id)
    await s.run(3 * 60_000)
  }

  it('a node whose packets are all lost stays a member through the TCP fallback probe', async () => {
    await mute(true)
    expect(s.events.filter((e) => e.event === 'leave')).toEqual([])
    for (const g of s.nodes.values()) expect(view(g)).toEqual(ids(10).sort())
    const fallbacks = [...s.nodes.values()].reduce((sum, g) => sum + g.stats().fallbackProbes, 0)
    expect(fallbacks).toBeGreaterThan(100)
  })

  it('without the fallback, that node is declared failed by the others', async () => {
    await mute(false)
    const failed = s.events.filter((e) => e.event === 'leave' && e.reason === 'failed')
    expect(new Set(failed.filter((e) => e.member === 'n3').map((e) => e.node)).size).toBe(9)
  })

  it('partition and heal: each side marks the other failed, then they merge back', async () => {
    s = sim({ seed: Number(process.env.SEED ?? 8) })
    for (const id of ids(10)) await s.spawn(id)
    await s.run(30_000)
    const a = ids(10).slice(0, 5)
    const b = ids(10).slice(5)
    s.net.partition(a.map(addr), b.map(addr))
    await s.run(90_000)
    for (const id of a) expect(view(s.nodes.get(id)!)).toEqual(a)
    for (const id of b) expect(view(s.nodes.get(id)!)).toEqual(b)
    for (const id of a) {
      const failed = s.events
        .filter((e) => e.node === id && e.event === 'leave')
        .map((e) => e.member)
      expect(failed.sort()).toEqual(b)
    }
    s.net.heal()
    await s.run(3 * 60_000)
    for (const g of s.nodes.values()) {
      expect(view(g)).toEqual(ids(10))
      expect(g.members().every((m) => m.state === 'alive')).toBe(true)
    }
  })
})
