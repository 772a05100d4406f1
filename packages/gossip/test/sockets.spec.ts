import { afterEach, describe, expect, it } from 'vitest'
import { type GossipMembership, gossip } from '../src/index.js'

/** Polls (real time) until `check` holds or `ms` elapsed. */
async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
}

describe('real UDP + TCP sockets (smoke)', () => {
  const nodes: GossipMembership[] = []
  afterEach(async () => {
    for (const g of nodes.splice(0)) await g.stop()
  })

  it('three nodes on loopback join, broadcast and leave', async () => {
    const a = gossip({ id: 'a', bind: '127.0.0.1:0', profile: 'local' })
    nodes.push(a)
    await a.start()
    expect(a.local.address).toMatch(/^127\.0\.0\.1:\d+$/)
    for (const id of ['b', 'c']) {
      const g = gossip({ id, bind: '127.0.0.1:0', profile: 'local', seeds: [a.local.address] })
      nodes.push(g)
      await g.start()
    }
    await until(() => nodes.every((g) => g.members().length === 3), 5_000)
    for (const g of nodes)
      expect(
        g
          .members()
          .map((m) => m.id)
          .sort(),
      ).toEqual(['a', 'b', 'c'])
    const got: string[] = []
    nodes[2]!.on('message', (d, from) => got.push(`${from}:${d.length}`))
    a.broadcast(new Uint8Array(10))
    await until(() => got.length > 0, 3_000)
    expect(got).toEqual(['a:10'])
    const left: string[] = []
    a.on('member:leave', (m, reason) => left.push(`${m.id}:${reason}`))
    await nodes[1]!.leave()
    await until(() => left.length > 0, 3_000)
    expect(left).toEqual(['b:left'])
  })
})
