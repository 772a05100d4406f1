import { disabledLogger } from '@rony/interface'
import { seededRandom, virtualClock } from '@rony/transport'
import { describe, expect, it } from 'vitest'
import { Awareness } from '../src/awareness.js'
import { BroadcastQueue } from '../src/broadcast/queue.js'
import * as wire from '../src/codec/wire.js'
import { resolveConfig } from '../src/options.js'
import { Rotation } from '../src/rotation.js'
import { isLive, MemberTable } from '../src/state/table.js'

function table() {
  const clock = virtualClock({ now: 1_000_000 })
  const cfg = resolveConfig({ id: 'local', advertise: 'memory:local' })
  const noop = () => {}
  const events = { join: noop, update: noop, suspect: noop, leave: noop }
  const t = new MemberTable(
    cfg,
    clock,
    new Awareness(8),
    new BroadcastQueue(),
    events,
    disabledLogger,
  )
  return { t, clock, cfg }
}

const recount = (t: MemberTable) => {
  let n = 0
  for (const r of t.nodes.values()) if (isLive(r)) n++
  return Math.max(1, n)
}

describe('MemberTable bookkeeping', () => {
  it('answers liveCount() without walking the table', () => {
    const { t } = table()
    for (let i = 0; i < 10; i++) t.alive({ Node: `m${i}`, Addr: `memory:m${i}`, Incarnation: 1 })
    const walk = () => {
      throw new Error('liveCount() walked the table')
    }
    Object.assign(t.nodes, { values: walk, entries: walk, keys: walk, forEach: walk })
    t.nodes[Symbol.iterator] = walk
    expect(t.liveCount()).toBe(11)
  })

  it('reaps without walking the table unless a member is due to be forgotten', async () => {
    const { t, clock, cfg } = table()
    for (let i = 0; i < 10; i++) t.alive({ Node: `m${i}`, Addr: `memory:m${i}`, Incarnation: 1 })
    t.dead({ Node: 'm3', Incarnation: 1, From: 'm0' })
    let walks = 0
    const iterate = t.list[Symbol.iterator].bind(t.list)
    t.list[Symbol.iterator] = () => {
      walks++
      return iterate()
    }
    t.reap()
    await clock.advanceAsync(cfg.gossipToTheDeadTime)
    t.reap()
    expect(walks).toBe(0)
    expect(t.nodes.get('m3')?.state).toBe('dead')
    await clock.advanceAsync(1)
    t.reap()
    expect(walks).toBe(1)
    expect(t.nodes.get('m3')).toBeUndefined()
    expect(t.list).toHaveLength(10)
  })

  it('keeps the live count and the member list equal to the table through every transition', async () => {
    const { t, clock, cfg } = table()
    const random = seededRandom(7)
    const pick = () => Math.floor(random.next() * 40)
    for (let step = 0; step < 5_000; step++) {
      const id = `m${pick()}`
      const inc = Math.floor(random.next() * 6)
      const r = random.next()
      if (r < 0.4) t.alive({ Node: id, Addr: `memory:${id}`, Incarnation: inc })
      else if (r < 0.6) t.suspect({ Node: id, Incarnation: inc, From: 'm0' })
      else if (r < 0.75) t.dead({ Node: id, Incarnation: inc, From: 'm0' })
      else if (r < 0.85) t.dead({ Node: id, Incarnation: inc, From: id })
      else if (r < 0.9)
        t.merge(wire.PushNodes.of([{ Node: id, Addr: `memory:${id}`, Incarnation: inc, State: 2 }]))
      else if (r < 0.97)
        await clock.advanceAsync(Math.floor(random.next() * cfg.gossipToTheDeadTime))
      else t.reap()
      expect(t.liveCount()).toBe(recount(t))
      expect(t.nodes.size).toBe(t.list.length)
      for (const rec of t.list) expect(t.nodes.get(rec.id)).toBe(rec)
    }
    t.leaving = true
    t.dead({ Node: 'local', Incarnation: t.local.incarnation, From: 'local' })
    expect(t.liveCount()).toBe(recount(t))
    t.close()
  })
})

describe('MemberTable memory', () => {
  it('shares one empty meta among members without meta, and keeps objects news did not change', () => {
    const { t } = table()
    t.alive({ Node: 'a', Addr: 'memory:a', Incarnation: 1, Meta: {} })
    t.alive({ Node: 'b', Addr: 'memory:b', Incarnation: 1 })
    t.alive({ Node: 'c', Addr: 'memory:c', Incarnation: 1, Meta: { role: 'db' } })
    const [a, b, c] = ['a', 'b', 'c'].map((id) => t.nodes.get(id)!)
    expect(a!.meta).toBe(b!.meta)
    expect(Object.isFrozen(a!.meta)).toBe(true)
    const cMeta = c!.meta
    t.alive({ Node: 'c', Addr: 'memory:c', Incarnation: 2, Meta: { role: 'db' } })
    expect(t.nodes.get('c')!.meta).toBe(cMeta)
    t.alive({ Node: 'c', Addr: 'memory:c', Incarnation: 3, Meta: { role: 'web' } })
    expect(t.nodes.get('c')!.meta).toEqual({ role: 'web' })
    t.close()
  })

  it('holds per member only its state: no cached copies', () => {
    const { t } = table()
    t.alive({ Node: 'a', Addr: 'memory:a', Incarnation: 1 })
    t.suspect({ Node: 'a', Incarnation: 1, From: 'b' })
    expect(Object.keys(t.nodes.get('a')!).sort()).toEqual(
      ['address', 'id', 'incarnation', 'meta', 'state'].sort(),
    )
    t.close()
  })
})

describe('Rotation', () => {
  it('inserts a new member by a swap (O(1)): the member it displaces moves to the end', () => {
    // With a random that always answers 0, the shuffle turns a,b,c,d into b,c,d,a and a new
    // member lands at the next place of the cycle.
    const r = new Rotation({ next: () => 0 })
    const all = () => true
    expect(r.take(1, all, () => ['a', 'b', 'c', 'd'])).toEqual(['b'])
    r.add('x')
    // A splice would shift c, d, a one place: x, c, d, a.
    expect(r.take(4, all, () => [])).toEqual(['x', 'd', 'a', 'c'])
  })
})
