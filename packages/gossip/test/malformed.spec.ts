import { isCodedError } from '@rony/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { frame } from '../src/codec/crypto.js'
import * as wire from '../src/codec/wire.js'
import { gossip } from '../src/index.js'
import { addr, type Sim, sim, view } from './sim.js'

const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${i}`)

describe('hostile and oversized input', () => {
  let s: Sim
  afterEach(async () => {
    await s.close()
  })

  it('drops and counts garbage, truncated, oversized and replayed packets, never throws', async () => {
    s = sim({ seed: 11 })
    for (const id of ids(5)) await s.spawn(id)
    await s.run(10_000)
    const victim = s.nodes.get('n2')!
    const evil = s.net.packet('memory:evil', { maxPacketSize: 65_000 })
    await evil.start()
    const to = addr('n2')
    const seeded = (n: number, seed: number) => {
      const out = new Uint8Array(n)
      let x = seed
      for (let i = 0; i < n; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0
        out[i] = x >>> 24
      }
      return out
    }
    evil.send(to, new Uint8Array(0)) // truncated: no version byte
    evil.send(to, Uint8Array.of(0x07, 1, 2, 3)) // unknown version
    evil.send(to, Uint8Array.of(0x01, 1, 2, 3)) // sealed, but no keyring here
    evil.send(to, Uint8Array.of(0x00, 0x0a, 0x05, 0x0a)) // truncated compound
    for (let i = 0; i < 200; i++) evil.send(to, Uint8Array.of(0x00, ...seeded(1 + (i % 90), i)))
    // A valid broadcast, replayed three times: delivered once.
    const ev = frame(wire.buildCompound([wire.userEvent('n4', 9, 1, Uint8Array.of(42))]), undefined)
    const got: string[] = []
    victim.on('message', (d, from) => got.push(`${from}:${d[0]}`))
    for (let i = 0; i < 4; i++) evil.send(to, ev.slice())
    // An ack nobody waits for (a replayed or forged ack).
    evil.send(to, frame(wire.buildCompound([wire.ack(123_456)]), undefined))
    // Metadata over the limit inside an alive message.
    const fat = { blob: 'x'.repeat(600) }
    evil.send(
      to,
      frame(
        wire.buildCompound([
          wire.alive({ Incarnation: 9, Node: 'fat', Addr: 'memory:fat', Meta: fat }),
        ]),
        undefined,
      ),
    )
    // A packet bigger than the node's packet size.
    evil.send(to, new Uint8Array(2_000))
    await s.run(1_000)
    const st = victim.stats()
    expect(st.dropped.truncated).toBeGreaterThanOrEqual(2)
    expect(st.dropped.version).toBeGreaterThanOrEqual(1)
    expect(st.dropped.encrypted).toBeGreaterThanOrEqual(1)
    expect(st.dropped.malformed).toBeGreaterThan(0)
    expect(st.dropped.duplicate).toBeGreaterThanOrEqual(3) // the replays, and copies gossiped back
    expect(st.dropped.unexpected).toBeGreaterThanOrEqual(1)
    expect(st.dropped.oversized).toBe(2) // the fat meta, and the 2 kB packet
    expect(got).toEqual(['n4:42'])
    expect(victim.member('fat')).toBeUndefined()
    await s.run(10_000)
    for (const g of s.nodes.values()) expect(view(g)).toEqual(ids(5))
    await evil.stop()
  })

  it('rejects oversized metadata and broadcasts with RONY_ERR_MESSAGE_TOO_LARGE', async () => {
    s = sim({ seed: 12 })
    const g = await s.spawn('n0')
    expect(() => gossip({ id: 'big', meta: { v: 'x'.repeat(600) } })).toThrow(
      expect.objectContaining({ code: 'RONY_ERR_MESSAGE_TOO_LARGE' }),
    )
    const err = await g.updateMeta({ v: 'x'.repeat(600) }).catch((e: unknown) => e)
    expect(isCodedError(err, 'RONY_ERR_MESSAGE_TOO_LARGE')).toBe(true)
    await g.updateMeta({ v: 'x'.repeat(400) }) // within 512 bytes encoded
    expect(g.local.meta.v).toHaveLength(400)
    expect(() => g.broadcast(new Uint8Array(1_400))).toThrow(
      expect.objectContaining({ code: 'RONY_ERR_MESSAGE_TOO_LARGE' }),
    )
    g.broadcast(new Uint8Array(1_200))
  })

  it('rejects calls before start with RONY_ERR_NOT_STARTED', async () => {
    s = sim({ seed: 13 })
    const g = gossip({
      id: 'x',
      transport: { packet: s.net.packet('memory:x'), stream: s.net.stream('memory:x') },
      clock: s.clock,
    })
    expect(() => g.broadcast(Uint8Array.of(1))).toThrow(
      expect.objectContaining({ code: 'RONY_ERR_NOT_STARTED' }),
    )
    await expect(g.updateMeta({})).rejects.toMatchObject({ code: 'RONY_ERR_NOT_STARTED' })
    await expect(g.leave()).rejects.toMatchObject({ code: 'RONY_ERR_NOT_STARTED' })
    await g.stop() // before start(): a no-op (the Startable suite checks that start() then works)
    await expect(g.leave()).rejects.toMatchObject({ code: 'RONY_ERR_NOT_STARTED' })
  })
})
