import { describe, expect, it } from 'vitest'
import { Awareness } from '../src/awareness.js'
import { BroadcastQueue } from '../src/broadcast/queue.js'
import * as wire from '../src/codec/wire.js'
import { rony } from '../src/gen/gossip.js'
import { PROFILES, pushPullScale, retransmitLimit, suspicionTimeout } from '../src/options.js'
import { remainingSuspicionTime } from '../src/state/suspicion.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('wire codec', () => {
  it('hand-assembled compounds equal the generated encoder byte for byte', () => {
    const parts = [
      wire.ping(1, 'n1'),
      wire.alive({ Incarnation: 3, Node: 'n2', Addr: 'memory:n2', Meta: { a: 'b' } }),
      wire.userEvent('n3', 7, 9, new Uint8Array(200).fill(5)), // a 2-byte length varint
    ]
    const generated = rony.gossip.Compound.encode({
      Messages: parts.map((p) => rony.gossip.Message.decode(p)),
    }).finish()
    expect(hex(wire.buildCompound(parts))).toBe(hex(generated))
    expect(wire.buildCompound(parts).byteLength).toBe(
      parts.reduce((n, p) => n + wire.framedSize(p), 0),
    )
  })

  it('encodes a ping as the proto says', () => {
    // Message.Ping (field 1, LEN) { SeqNo (1, VARINT) = 1, Target (2, LEN) = "n1" }
    expect(hex(wire.ping(1, 'n1'))).toBe('0a06080112026e31')
    expect(wire.decodeCompound(wire.buildCompound([wire.ping(1, 'n1')]))[0]!.Ping!.Target).toBe(
      'n1',
    )
  })

  it('measures metadata like memberlist bounds it', () => {
    expect(wire.metaSize({})).toBe(0)
    expect(wire.metaSize({ k: 'v' })).toBe(8) // 0a 06 (0a 01 6b 12 01 76)
  })
})

describe('protocol arithmetic', () => {
  it('retransmit limit is mult × ceil(log10(N + 1)), at least 8 or N - 1', () => {
    expect(retransmitLimit(4, 1)).toBe(4)
    expect(retransmitLimit(4, 5)).toBe(4)
    expect(retransmitLimit(4, 7)).toBe(6) // every other member
    expect(retransmitLimit(4, 9)).toBe(8)
    expect(retransmitLimit(4, 10)).toBe(8)
    expect(retransmitLimit(4, 50)).toBe(8)
    expect(retransmitLimit(4, 100)).toBe(12)
    expect(retransmitLimit(2, 12)).toBe(8) // local profile: 4 without the floor
    expect(retransmitLimit(2, 999)).toBe(8)
    expect(retransmitLimit(2, 1_000)).toBe(8)
    expect(retransmitLimit(2, 10_000)).toBe(10)
  })

  it('suspicion timeouts follow Lifeguard', () => {
    expect(suspicionTimeout(4, 1, 1_000)).toBe(4_000)
    expect(suspicionTimeout(4, 100, 1_000)).toBe(8_000)
    const min = 8_000
    const max = 6 * min
    expect(remainingSuspicionTime(0, 3, 0, min, max)).toBe(max)
    expect(remainingSuspicionTime(3, 3, 0, min, max)).toBe(min)
    const one = remainingSuspicionTime(1, 3, 0, min, max)
    expect(one).toBeLessThan(max)
    expect(one).toBeGreaterThan(min)
    expect(remainingSuspicionTime(1, 3, 1_000, min, max)).toBe(one - 1_000)
  })

  it('profiles carry memberlist defaults', () => {
    expect(PROFILES.lan).toMatchObject({
      probeInterval: 1_000,
      probeTimeout: 500,
      suspicionMult: 4,
    })
    expect(PROFILES.wan).toMatchObject({
      probeInterval: 5_000,
      probeTimeout: 3_000,
      suspicionMult: 6,
    })
    expect(PROFILES.local).toMatchObject({ probeTimeout: 200, suspicionMult: 3, retransmitMult: 2 })
    expect(pushPullScale(30_000, 32)).toBe(30_000)
    expect(pushPullScale(30_000, 64)).toBe(60_000)
  })

  it('awareness clamps and scales', () => {
    const a = new Awareness(8)
    a.apply(-1)
    expect(a.scale(1_000)).toBe(1_000)
    a.apply(100)
    expect(a.score).toBe(7)
    expect(a.scale(1_000)).toBe(8_000)
  })
})

describe('broadcast queue', () => {
  it('sends each message at most limit times, least sent first, within the budget', () => {
    const q = new BroadcastQueue()
    const done: string[] = []
    q.push('a', new Uint8Array(10), () => done.push('a'))
    q.push('b', new Uint8Array(10), () => done.push('b'))
    expect(q.take(12, 2)).toHaveLength(1) // 12 bytes of room: one framed 10-byte message
    expect(q.take(100, 2)).toHaveLength(2)
    expect(done).toEqual(['b'])
    expect(q.take(100, 2)).toHaveLength(1)
    expect(done).toEqual(['b', 'a'])
    expect(q.length).toBe(0)
  })

  it('newer news about a member replaces the queued one', () => {
    const q = new BroadcastQueue()
    const done: string[] = []
    q.push('a', Uint8Array.of(1), () => done.push('old'))
    q.push('a', Uint8Array.of(2))
    expect(done).toEqual(['old'])
    expect(q.take(100, 4)).toEqual([Uint8Array.of(2)])
  })
})
