import { describe, expect, it } from 'vitest'
import { frame } from '../src/codec/crypto.js'
import * as wire from '../src/codec/wire.js'
import { addr, sim } from './sim.js'

/**
 * Dissemination in small clusters, over many seeds. `GOSSIP_SEEDS=1000` runs the long
 * measurement (about 40 s for the first test):
 *
 *   GOSSIP_SEEDS=1000 ./node_modules/.bin/vitest run packages/gossip/test/delivery.spec.ts
 */
const SEEDS = Number(process.env.GOSSIP_SEEDS ?? 60)
const SIM_TIMEOUT_MS = 600_000
const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${i}`)

describe('delivery in a 12-node local cluster', { timeout: SIM_TIMEOUT_MS }, () => {
  it(`a broadcast reaches every member within 5 s, no loss (${SEEDS} seeds)`, async () => {
    const missed: string[] = []
    for (let seed = 1; seed <= SEEDS; seed++) {
      const s = sim({ seed, base: { profile: 'local' } })
      for (const id of ids(12)) await s.spawn(id)
      await s.run(20_000)
      const got = new Set<string>()
      for (const [id, g] of s.nodes) g.on('message', () => got.add(id))
      const from = `n${seed % 12}`
      s.nodes.get(from)!.broadcast(Uint8Array.of(1))
      await s.run(5_000)
      for (const id of ids(12)) if (id !== from && !got.has(id)) missed.push(`seed ${seed}: ${id}`)
      await s.close()
    }
    if (SEEDS >= 100) console.log(`${SEEDS} seeds: ${missed.length} members missed`, missed)
    expect(missed).toEqual([])
  })

  it(`10% loss, no TCP fallback: suspicions are refuted, nobody is declared failed (${Math.ceil(SEEDS / 3)} seeds)`, async () => {
    const deaths: string[] = []
    let suspicions = 0
    for (let seed = 1; seed <= Math.ceil(SEEDS / 3); seed++) {
      const s = sim({
        seed,
        base: { profile: 'local', tcpFallback: false },
        faults: { loss: 0.1, delay: { min: 1, max: 5 } },
      })
      for (const id of ids(12)) await s.spawn(id)
      await s.run(120_000)
      suspicions += s.events.filter((e) => e.event === 'suspect').length
      for (const e of s.events) {
        if (e.event === 'leave')
          deaths.push(`seed ${seed}: ${e.node} declared ${e.member} ${e.reason}`)
      }
      await s.close()
    }
    if (SEEDS >= 100) console.log(`${suspicions} suspicions, ${deaths.length} false deaths`, deaths)
    expect(suspicions).toBeGreaterThan(0)
    expect(deaths).toEqual([])
  })
})

describe('refutation and departed members', () => {
  it('an accusation we already refuted is answered with our current alive, to members only', async () => {
    const s = sim({ seed: 41 })
    const a = await s.spawn('a')
    await s.spawn('b')
    await s.run(5_000)
    const inc = a.local.incarnation
    expect(inc).toBeGreaterThan(0)
    const heard = (ep: ReturnType<typeof s.net.packet>) => {
      const alives: number[] = []
      ep.onPacket((data) => {
        for (const m of wire.decodeCompound(data.subarray(1))) {
          if (m.Alive?.Node === 'a') alives.push(Number(m.Alive.Incarnation ?? 0))
        }
      })
      return alives
    }
    const send = (ep: ReturnType<typeof s.net.packet>, parts: Uint8Array[]) =>
      ep.send(addr('a'), frame(wire.buildCompound(parts), undefined))
    // A member that missed a's refutation: it joined, then gossips a's old suspicion.
    const member = s.net.packet('memory:m')
    const fromMember = heard(member)
    await member.start()
    send(member, [wire.alive({ Incarnation: 1, Node: 'm', Addr: 'memory:m' })])
    await s.run(10)
    send(member, [wire.suspect({ Incarnation: inc - 1, Node: 'a', From: 'b' })])
    send(member, [wire.dead({ Incarnation: inc - 1, Node: 'a', From: 'b' })])
    // A stranger (or a forged source address) gets nothing back.
    const stranger = s.net.packet('memory:x')
    const fromStranger = heard(stranger)
    await stranger.start()
    send(stranger, [wire.suspect({ Incarnation: inc - 1, Node: 'a', From: 'b' })])
    await s.run(50)
    expect(fromMember.filter((i) => i === inc).length).toBeGreaterThanOrEqual(2)
    expect(fromStranger).toEqual([])
    expect(a.local.incarnation).toBe(inc) // stale: nothing to refute anew
    await member.stop()
    await stranger.stop()
    await s.close()
  })

  it('members that left gracefully get no more gossip (failed ones do, for a while)', async () => {
    const s = sim({ seed: 42 })
    for (const id of ids(6)) await s.spawn(id)
    await s.run(10_000)
    const leaving = s.nodes.get('n5')!
    const left = leaving.leave()
    await s.run(2_000)
    await left
    for (const g of s.nodes.values()) if (g !== leaving) expect(g.member('n5')?.state).toBe('left')
    // News keeps flowing among the others (a broadcast, a metadata update)…
    s.nodes.get('n1')!.broadcast(Uint8Array.of(7))
    await s.nodes.get('n2')!.updateMeta({ v: '2' })
    const before = leaving.stats().packetsReceived
    await s.run(10_000)
    // …but none of it reaches the member that left.
    expect(leaving.stats().packetsReceived).toBe(before)
    await s.close()
  })
})
