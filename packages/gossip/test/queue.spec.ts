import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { BroadcastQueue, queueBound } from '../src/broadcast/queue.js'
import { frame } from '../src/codec/crypto.js'
import * as wire from '../src/codec/wire.js'
import { framedSize } from '../src/codec/wire.js'
import { retransmitLimit } from '../src/options.js'
import { ModelQueue } from './queue-model.js'
import { addr, type Sim, sim } from './sim.js'

/** A message of `len` bytes whose first bytes spell `tag`, so outputs are readable. */
const msg = (tag: string, len = tag.length): Uint8Array => {
  const m = new Uint8Array(Math.max(len, tag.length))
  m.set(new TextEncoder().encode(tag))
  return m
}
const tags = (msgs: Uint8Array[]): string[] =>
  msgs.map((m) => new TextDecoder().decode(m).replace(/\0+$/, ''))

// The old queue (the model) passes the same examples: the semantics did not change.
describe.each([
  ['BroadcastQueue', BroadcastQueue],
  ['the reference model', ModelQueue],
])('%s', (_, Queue) => {
  it('sends the least transmitted first, the newest first among equals', () => {
    const q = new Queue()
    for (const t of ['a', 'b', 'c', 'd']) q.push(undefined, msg(t))
    const two = 2 * framedSize(msg('a'))
    expect(tags(q.take(two, 10))).toEqual(['d', 'c'])
    expect(tags(q.take(two, 10))).toEqual(['b', 'a'])
    q.push(undefined, msg('e'))
    expect(tags(q.take(two, 10))).toEqual(['e', 'd'])
    expect(tags(q.take(100, 10))).toEqual(['e', 'c', 'b', 'a', 'd'])
  })

  it('replaces the queued message about a member by a newer one, calling its onDone', () => {
    const q = new Queue()
    const done: string[] = []
    q.push('m1', msg('alive-1'), () => done.push('alive-1'))
    q.push('m2', msg('alive-2'))
    q.push(undefined, msg('user'))
    q.push('m1', msg('suspect-1'), () => done.push('suspect-1'))
    expect(q.length).toBe(3)
    expect(done).toEqual(['alive-1'])
    expect(tags(q.take(1000, 10))).toEqual(['suspect-1', 'user', 'alive-2'])
    // A message already sent is replaced too, and the new one starts at zero transmits.
    q.push('m2', msg('dead-2'))
    expect(tags(q.take(1000, 10))).toEqual(['dead-2', 'suspect-1', 'user'])
  })

  it('skips what does not fit and fills the packet with what does, in order', () => {
    const q = new Queue()
    q.push(undefined, msg('small-old', 10))
    q.push(undefined, msg('big', 100))
    q.push(undefined, msg('small-new', 10))
    const budget = framedSize(msg('', 100)) + framedSize(msg('', 10))
    expect(tags(q.take(budget - 1, 10))).toEqual(['small-new', 'small-old'])
    expect(tags(q.take(budget - 1, 10))).toEqual(['big'])
    // Now all three at one send: the newest first, then the big one, the old one left out.
    expect(tags(q.take(budget, 10))).toEqual(['small-new', 'big'])
    expect(q.take(2, 10)).toEqual([])
    expect(q.take(framedSize(msg('', 10)) - 1, 10)).toEqual([])
  })

  it('drops a message once sent limit times, and at once when the limit falls below its count', () => {
    const q = new Queue()
    const done: string[] = []
    q.push('m1', msg('a'), () => done.push('a'))
    for (let i = 0; i < 3; i++) expect(tags(q.take(100, 3))).toEqual(['a'])
    expect(q.length).toBe(0)
    expect(done).toEqual(['a'])
    q.push('m1', msg('b'), () => done.push('b'))
    q.push('m2', msg('c'), () => done.push('c'))
    q.take(100, 8)
    q.take(100, 8)
    q.push('m3', msg('d'))
    // Smaller cluster, lower limit: b and c (2 sends) go even though only d fits this packet.
    expect(tags(q.take(framedSize(msg('d')), 2))).toEqual(['d'])
    expect(done.sort()).toEqual(['a', 'b', 'c'])
    expect(q.length).toBe(1)
  })

  it('beyond maxItems drops the most transmitted, the oldest among those', () => {
    const q = new Queue(3)
    const done: string[] = []
    for (const t of ['a', 'b', 'c']) q.push(undefined, msg(t), () => done.push(t))
    q.take(framedSize(msg('c')), 10) // c sent once
    q.push(undefined, msg('d'))
    expect(done).toEqual(['c'])
    q.push(undefined, msg('e'))
    expect(done).toEqual(['c', 'a'])
    expect(tags(q.take(100, 10))).toEqual(['e', 'd', 'b'])
    q.clear()
    expect(q.length).toBe(0)
    expect(done).toEqual(['c', 'a', 'b'])
  })
})

describe('BroadcastQueue', () => {
  it('at 10,000 members sends every latest message exactly limit times, newest first', () => {
    const n = 10_000
    const limit = retransmitLimit(4, n)
    const q = new BroadcastQueue(2 * n)
    for (let i = 0; i < n; i++) q.push(`m${i}`, msg(`alive-${i}`, 60))
    for (let i = 0; i < n; i += 2) q.push(`m${i}`, msg(`suspect-${i}`, 40))
    expect(q.length).toBe(n)
    const sent = new Map<string, number>()
    const first: string[] = []
    for (let packets = 0; q.length > 0 && packets < n * limit; packets++) {
      for (const t of tags(q.take(1400, limit))) {
        if (!sent.has(t)) first.push(t)
        sent.set(t, (sent.get(t) ?? 0) + 1)
      }
    }
    expect(sent.size).toBe(n)
    expect([...sent.values()].every((c) => c === limit)).toBe(true)
    const newestFirst = [
      ...Array.from({ length: n / 2 }, (_, k) => `suspect-${n - 2 - 2 * k}`),
      ...Array.from({ length: n / 2 }, (_, k) => `alive-${n - 1 - 2 * k}`),
    ]
    expect(first).toEqual(newestFirst)
  })

  it('selects, drops and calls back exactly as the reference queue (property)', () => {
    const op = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          op: fc.constant('push' as const),
          key: fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }),
          // Small sizes and budgets make exact fits common, large ones skips.
          len: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 300 })),
        }),
      },
      {
        weight: 4,
        arbitrary: fc.record({
          op: fc.constant('take' as const),
          budget: fc.oneof(fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 400 })),
          limit: fc.integer({ min: 1, max: 6 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
    )
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 120 }), (max, ops) => {
        const q = new BroadcastQueue(max)
        const model = new ModelQueue(max)
        const done: number[] = []
        const modelDone: number[] = []
        ops.forEach((o, i) => {
          if (o.op === 'push') {
            const m = msg(String(i), o.len)
            const key = o.key === undefined ? undefined : `m${o.key}`
            q.push(key, m, () => done.push(i))
            model.push(key, m, () => modelDone.push(i))
          } else if (o.op === 'take') {
            expect(q.take(o.budget, o.limit)).toEqual(model.take(o.budget, o.limit))
          } else {
            q.clear()
            model.clear()
          }
          expect(q.length).toBe(model.length)
          // Within one operation the order of callbacks is not part of the contract.
          expect([...done].sort()).toEqual([...modelDone].sort())
        })
      }),
      { numRuns: 500 },
    )
  })
})

describe("the component's broadcast queue", () => {
  let s: Sim | undefined
  afterEach(async () => {
    await s?.close()
  })

  it('keeps the news of every member when more than 4,096 join at once (its bound scales with the cluster)', async () => {
    s = sim({ seed: 5 })
    const g = await s.spawn('n0')
    const evil = s.net.packet('memory:evil')
    await evil.start()
    const n = 5_000
    for (let i = 0; i < n; i += 25) {
      const parts: Uint8Array[] = []
      for (let k = i; k < i + 25; k++) {
        parts.push(wire.alive({ Incarnation: 1, Node: `m${k}`, Addr: `memory:m${k}` }))
      }
      evil.send(addr('n0'), frame(wire.buildCompound(parts), undefined))
    }
    await s.run(20)
    expect(g.members()).toHaveLength(n + 1)
    // One alive per new member, none dropped for room (a fixed 4,096 dropped 904 of them).
    expect(g.stats().queued).toBeGreaterThanOrEqual(n)
    expect(queueBound(n + 1)).toBe(2 * (n + 1))
    expect(queueBound(10)).toBe(4096)
  })
})
