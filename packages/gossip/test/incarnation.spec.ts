import Long from 'long'
import { afterEach, describe, expect, it } from 'vitest'
import { frame } from '../src/codec/crypto.js'
import * as wire from '../src/codec/wire.js'
import { rony } from '../src/gen/gossip.js'
import { addr, type Sim, sim, view } from './sim.js'

const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${i}`)
const U32_MAX = 2 ** 32 - 1
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('incarnations never wrap', { timeout: 60_000 }, () => {
  let s: Sim | undefined
  afterEach(async () => {
    await s?.close()
  })

  /** A 5-node cluster and an outsider that forges one accusation about n2 to n1. */
  async function forge(accusation: 'suspect' | 'dead', incarnation: number | Long) {
    const c = sim({ seed: 51 })
    s = c
    for (const id of ids(5)) await c.spawn(id)
    await c.run(10_000)
    const evil = c.net.packet('memory:evil')
    await evil.start()
    const msg = { Incarnation: incarnation, Node: 'n2', From: 'n4' }
    const part =
      accusation === 'suspect'
        ? rony.gossip.Message.encode({ Suspect: msg }).finish()
        : rony.gossip.Message.encode({ Dead: msg }).finish()
    evil.send(addr('n1'), frame(wire.buildCompound([part]), undefined))
    await c.run(60_000)
    await evil.stop()
    return c.events.filter((e) => e.member === 'n2' && e.event !== 'join')
  }

  it('encodes incarnations above 2^32 as uint64 varints', () => {
    // Suspect (field 6) { Incarnation (1, VARINT) = 2^32, Node = "a" }
    expect(hex(wire.suspect({ Incarnation: 2 ** 32, Node: 'a' }))).toBe(
      '32090880808080101201' + '61',
    )
    const back = rony.gossip.Message.decode(wire.suspect({ Incarnation: 2 ** 32, Node: 'a' }))
    expect(wire.incarnationOf(back.Suspect!.Incarnation, true)).toBe(2 ** 32)
  })

  for (const kind of ['suspect', 'dead'] as const) {
    it(`a forged ${kind} at 2^32 - 1 is refuted at 2^32, and the node stays a member`, async () => {
      const events = await forge(kind, U32_MAX)
      // A suspicion is refuted before it times out; a dead message is believed at once (as
      // in memberlist), then refuted, and the node rejoins.
      if (kind === 'suspect') expect(events.some((e) => e.event === 'leave')).toBe(false)
      expect(events.some((e) => e.event === kind.replace('dead', 'leave'))).toBe(true)
      expect(s!.nodes.get('n2')!.local.incarnation).toBe(2 ** 32)
      for (const g of s!.nodes.values()) {
        expect(view(g)).toEqual(ids(5))
        expect(g.member('n2')).toMatchObject({ state: 'alive', incarnation: 2 ** 32 })
      }
    })

    it(`a forged ${kind} at 2^53 - 2 is refuted at 2^53 - 1, the largest`, async () => {
      await forge(kind, wire.MAX_INCARNATION - 1)
      for (const g of s!.nodes.values()) {
        expect(view(g)).toEqual(ids(5))
        expect(g.member('n2')).toMatchObject({ state: 'alive', incarnation: wire.MAX_INCARNATION })
      }
    })

    it(`a forged ${kind} at 2^53 - 1, or above, is refused: it could not be refuted`, async () => {
      for (const inc of [
        Long.fromNumber(wire.MAX_INCARNATION, true),
        Long.fromString('9007199254740993', true), // 2^53 + 1
        Long.MAX_UNSIGNED_VALUE,
      ]) {
        const events = await forge(kind, inc)
        expect(events).toEqual([])
        expect(s!.nodes.get('n1')!.stats().dropped.incarnation).toBe(1)
        for (const g of s!.nodes.values()) expect(g.member('n2')?.state).toBe('alive')
        await s!.close()
      }
    })
  }

  it('a push-pull entry above 2^53 - 1, or a suspect one at it, is refused and counted', async () => {
    const c = sim({ seed: 52 })
    s = c
    for (const id of ids(3)) await c.spawn(id)
    await c.run(5_000)
    const evil = c.net.stream('memory:evil')
    await evil.start()
    const dialing = evil.dial(addr('n1'))
    await c.run(10) // the dial completes on the virtual clock
    const stream = await dialing
    const node = (Node: string, Incarnation: Long, State: rony.gossip.NodeState) => ({
      Node,
      Addr: `memory:${Node}`,
      Incarnation,
      State,
    })
    const pushPull = rony.gossip.Message.encode({
      PushPull: {
        From: 'evil',
        Nodes: [
          node('ghost', Long.fromString('1152921504606846976', true), rony.gossip.NodeState.ALIVE),
          node('n2', Long.fromNumber(wire.MAX_INCARNATION, true), rony.gossip.NodeState.SUSPECT),
          node('fine', Long.fromNumber(7, true), rony.gossip.NodeState.ALIVE),
        ],
      },
    }).finish()
    const sent = stream.send(frame(wire.buildCompound([pushPull]), undefined))
    await c.run(100)
    await sent
    stream.abort()
    await evil.stop()
    const n1 = c.nodes.get('n1')!
    expect(n1.stats().dropped.incarnation).toBe(2)
    expect(n1.member('ghost')).toBeUndefined()
    expect(n1.member('n2')?.state).toBe('alive')
    expect(n1.member('fine')?.incarnation).toBe(7)
  })

  it('converts incarnations from the wire, refusing what does not fit', () => {
    expect(wire.incarnationOf(Long.fromString('9007199254740992', true), false)).toBeUndefined()
    expect(wire.incarnationOf(wire.MAX_INCARNATION, false)).toBe(wire.MAX_INCARNATION)
    expect(wire.incarnationOf(wire.MAX_INCARNATION, true)).toBeUndefined()
    expect(wire.incarnationOf(null, true)).toBe(0)
  })
})
