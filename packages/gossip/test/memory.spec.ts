import v8 from 'node:v8'
import vm from 'node:vm'
import { disabledLogger } from '@rony/interface'
import { seededRandom, virtualClock } from '@rony/transport'
import { describe, expect, it } from 'vitest'
import { Awareness } from '../src/awareness.js'
import { BroadcastQueue } from '../src/broadcast/queue.js'
import * as wire from '../src/codec/wire.js'
import { resolveConfig } from '../src/options.js'
import { type MemberStrings, StringPool } from '../src/state/strings.js'
import { MemberTable } from '../src/state/table.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

const heapAfterGc = (): number => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** Read at run time, so that `decoded` computes in floating point as a decoder does. */
const HIGH_WORD = [0]

/** `n` as a decoder hands it over: a 64-bit field computed from two 32-bit halves. */
const decoded = (n: number): number => n + (HIGH_WORD[0] ?? 0) * 4_294_967_296

describe('MemberTable memory', () => {
  it('costs under 125 bytes per member and node when many nodes share a process', () => {
    // The simulation's shape: every node of the process decodes its own copies of each
    // member's id and address, at a wall-clock time (not a small integer).
    const nodes = 20
    const members = 500
    const clock = virtualClock({ now: 1_700_000_000_000 })
    const awareness = new Awareness(8)
    const noop = () => {}
    const events = { join: noop, update: noop, suspect: noop, leave: noop }
    const tables: MemberTable[] = []
    const before = heapAfterGc()
    for (let n = 0; n < nodes; n++) {
      const cfg = resolveConfig({ id: `node${n}`, advertise: `memory:node${n}` })
      const queue = new BroadcastQueue()
      const t = new MemberTable(cfg, clock, awareness, queue, events, disabledLogger)
      for (let i = 0; i < members; i++) {
        t.alive({ Node: `m${i}`, Addr: `memory:m${i}`, Incarnation: decoded(1 + (i % 3)) })
      }
      queue.clear()
      tables.push(t)
    }
    const perPair = (heapAfterGc() - before) / (nodes * members)
    expect(tables.every((t) => t.liveCount() === members + 1)).toBe(true)
    expect(perPair).toBeLessThan(125)
    for (const t of tables) t.close()
  })
})

describe('StringPool', () => {
  it('hands out the first copy, counts holds, and forgets a string at its last release', () => {
    const pool = new StringPool()
    const first = ['m', '1'].join('')
    expect(pool.acquire(first)).toBe(first)
    expect(pool.acquire(['m', '1'].join(''))).toBe(first)
    expect(pool.refs('m1')).toBe(2)
    pool.release('m1')
    expect(pool.refs('m1')).toBe(1)
    pool.release('m1')
    expect(pool.refs('m1')).toBe(0)
    expect(pool.size).toBe(0)
    expect(pool.slotOf('m1')).toBe(-1)
  })

  it('gives held strings distinct slots and reuses freed ones: slots stay below the peak size', () => {
    const pool = new StringPool()
    const random = seededRandom(3)
    const held: string[] = []
    for (let i = 0; i < 2_000; i++) {
      if (held.length < 10 && random.next() < 0.6) held.push(pool.acquire(`m${i}`))
      else if (held.length > 0) {
        const [s] = held.splice(Math.floor(random.next() * held.length), 1)
        pool.release(s!)
      }
      const slots = held.map((s) => pool.slotOf(s))
      expect(new Set(slots).size).toBe(held.length)
      expect(slots.every((s) => s >= 0 && s < 10)).toBe(true)
      expect(pool.size).toBe(held.length)
    }
  })
})

describe('MemberTable string pooling', () => {
  const pools = (): MemberStrings => ({ ids: new StringPool(), addresses: new StringPool() })

  function tables(strings: MemberStrings, count: number) {
    const clock = virtualClock({ now: 1_000_000 })
    const noop = () => {}
    const events = { join: noop, update: noop, suspect: noop, leave: noop }
    const all = Array.from({ length: count }, (_, n) => {
      const cfg = resolveConfig({ id: `node${n}`, advertise: `memory:node${n}` })
      const queue = new BroadcastQueue()
      return new MemberTable(cfg, clock, new Awareness(8), queue, events, disabledLogger, strings)
    })
    return { all, clock, cfg: resolveConfig({ id: 'x' }) }
  }

  it('shares one pooled id and address among tables; reap and close() give them back', async () => {
    const strings = pools()
    const { all, clock, cfg } = tables(strings, 3)
    for (const t of all) {
      t.alive({ Node: 'a', Addr: 'memory:a', Incarnation: 1 })
      t.alive({ Node: 'b', Addr: 'memory:b', Incarnation: 1 })
    }
    expect(strings.ids.refs('a')).toBe(3)
    expect(strings.addresses.refs('memory:a')).toBe(3)
    // A member that moves holds its new address; the old one is held by the others only.
    all[0]!.alive({ Node: 'b', Addr: 'memory:b2', Incarnation: 2 })
    expect(strings.addresses.refs('memory:b')).toBe(2)
    expect(strings.addresses.refs('memory:b2')).toBe(1)
    // A reaped member's id and address are released by every table that forgets it.
    for (const t of all) t.dead({ Node: 'a', Incarnation: 1, From: 'b' })
    await clock.advanceAsync(cfg.gossipToTheDeadTime + 1)
    for (const t of all) t.reap()
    expect(all[0]!.nodes.get('a')).toBeUndefined()
    expect(strings.ids.refs('a')).toBe(0)
    expect(strings.addresses.refs('memory:a')).toBe(0)
    expect(strings.ids.size).toBe(1)
    // Closed tables hold nothing, and still answer (and take news) from their own map.
    for (const t of all) t.close()
    expect(strings.ids.size).toBe(0)
    expect(strings.addresses.size).toBe(0)
    const t = all[1]!
    expect(t.nodes.get('b')?.address).toBe('memory:b')
    t.alive({ Node: 'c', Addr: 'memory:c', Incarnation: 1 })
    expect(t.nodes.get('c')?.id).toBe('c')
    expect(t.nodes.get('node1')).toBe(t.local)
    expect(strings.ids.size).toBe(0)
  })

  it('holds each pooled string once per record through every seeded transition', async () => {
    const strings = pools()
    const { all, clock, cfg } = tables(strings, 2)
    const random = seededRandom(11)
    const pick = () => Math.floor(random.next() * 30)
    const check = () => {
      const ids = new Map<string, number>()
      const addresses = new Map<string, number>()
      for (const t of all) {
        expect(t.nodes.size).toBe(t.list.length)
        for (const r of t.list) {
          expect(t.nodes.get(r.id)).toBe(r)
          if (r === t.local) continue
          ids.set(r.id, (ids.get(r.id) ?? 0) + 1)
          addresses.set(r.address, (addresses.get(r.address) ?? 0) + 1)
        }
      }
      for (const [s, n] of ids) expect(strings.ids.refs(s)).toBe(n)
      for (const [s, n] of addresses) expect(strings.addresses.refs(s)).toBe(n)
      expect(strings.ids.size).toBe(ids.size)
      expect(strings.addresses.size).toBe(addresses.size)
    }
    for (let step = 0; step < 3_000; step++) {
      const t = all[Math.floor(random.next() * all.length)]!
      const id = `m${pick()}`
      const inc = Math.floor(random.next() * 6)
      const addr = `memory:${id}:${Math.floor(random.next() * 2)}`
      const r = random.next()
      if (r < 0.4) t.alive({ Node: id, Addr: addr, Incarnation: inc })
      else if (r < 0.6) t.suspect({ Node: id, Incarnation: inc, From: 'm0' })
      else if (r < 0.75) t.dead({ Node: id, Incarnation: inc, From: 'm0' })
      else if (r < 0.85) t.dead({ Node: id, Incarnation: inc, From: id })
      else if (r < 0.9)
        t.merge(wire.PushNodes.of([{ Node: id, Addr: addr, Incarnation: inc, State: 2 }]))
      else if (r < 0.97)
        await clock.advanceAsync(Math.floor(random.next() * cfg.gossipToTheDeadTime))
      else t.reap()
      check()
    }
    for (const t of all) t.close()
    expect(strings.ids.size).toBe(0)
    expect(strings.addresses.size).toBe(0)
  })
})
