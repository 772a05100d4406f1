import { isCodedError, type MessageStream } from '@rony/interface'
import { collect, payload, rejection, virtualDriver } from '@rony/testing/transport'
import { describe, expect, it } from 'vitest'
import { type LinkFaults, memoryNetwork, seededRandom, virtualClock } from '../src/index.js'

function setup(seed = 1, faults: LinkFaults = {}) {
  const clock = virtualClock()
  const net = memoryNetwork({ clock, random: seededRandom(seed), faults })
  const driver = virtualDriver(clock)
  return { clock, net, driver }
}

/** Three packet nodes that log every delivery as `time from->to #i`. */
async function packetNodes(seed: number, faults: LinkFaults) {
  const env = setup(seed, faults)
  const log: string[] = []
  const names = ['memory:a', 'memory:b', 'memory:c']
  const nodes = names.map((name) => {
    const ep = env.net.packet(name)
    ep.onPacket((data, from) =>
      log.push(`${env.clock.now().toFixed(3)} ${from}->${name} #${data[0]}`),
    )
    return ep
  })
  for (const ep of nodes) await ep.start()
  return { ...env, log, nodes }
}

async function runTraffic(seed: number, faults: LinkFaults): Promise<string[]> {
  const { clock, log, nodes } = await packetNodes(seed, faults)
  for (let i = 0; i < 200; i++) {
    const from = nodes[i % 3]!
    const to = nodes[(i + 1) % 3]!
    from.send(to.address, new Uint8Array([i & 0xff]))
    if (i % 10 === 0) clock.advance(3)
  }
  clock.advance(1_000)
  return log
}

describe('memory network: packets', () => {
  it('never delivers synchronously inside send', async () => {
    const { net, clock } = setup()
    const a = net.packet('memory:a')
    const b = net.packet('memory:b')
    const got: Uint8Array[] = []
    b.onPacket((d) => got.push(d))
    a.start()
    b.start()
    a.send('memory:b', new Uint8Array([1]))
    expect(got).toHaveLength(0)
    clock.advance(0)
    expect(got).toHaveLength(1)
  })

  it('replays an identical delivery log from the same seed, a different one from another', async () => {
    const faults: LinkFaults = {
      loss: 0.2,
      delay: { min: 1, max: 20 },
      duplicate: 0.1,
      reorder: 0.1,
    }
    const one = await runTraffic(11, faults)
    const two = await runTraffic(11, faults)
    const other = await runTraffic(12, faults)
    expect(one).toEqual(two)
    expect(one).not.toEqual(other)
    expect(one.length).toBeGreaterThan(100)
  })

  it('applies loss, duplication and delay, and counts them', async () => {
    const { clock, net, log, nodes } = await packetNodes(5, {
      loss: 0.3,
      duplicate: 0.2,
      delay: { min: 10, max: 20 },
    })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    for (let i = 0; i < 1_000; i++) a.send(b.address, new Uint8Array([i & 0xff]))
    clock.advance(9)
    expect(log).toHaveLength(0) // nothing before the minimum delay
    clock.advance(11)
    const { packets } = net.stats
    expect(packets.sent).toBe(1_000)
    expect(packets.dropped.loss).toBeGreaterThan(230)
    expect(packets.dropped.loss).toBeLessThan(370)
    expect(packets.duplicated).toBeGreaterThan(90)
    expect(packets.delivered).toBe(1_000 - packets.dropped.loss + packets.duplicated)
    expect(log).toHaveLength(packets.delivered)
    net.resetStats()
    expect(net.stats.packets.sent).toBe(0)
  })

  it('per-link faults override the global ones, one way or both', async () => {
    const { clock, net, log, nodes } = await packetNodes(2, {})
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
    net.link(a.address, b.address, { loss: 1 }, { oneWay: true })
    a.send(b.address, new Uint8Array([1]))
    b.send(a.address, new Uint8Array([2]))
    a.send(c.address, new Uint8Array([3]))
    clock.advance(1)
    expect(log.map((l) => l.split(' ')[1])).toEqual(['memory:b->memory:a', 'memory:a->memory:c'])
    net.link(a.address, b.address, undefined)
    a.send(b.address, new Uint8Array([4]))
    clock.advance(1)
    expect(log).toHaveLength(3)
  })

  it('reorder lets later packets overtake earlier ones', async () => {
    const { clock, log, nodes } = await packetNodes(3, { reorder: 0.3, delay: { min: 1, max: 1 } })
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    for (let i = 0; i < 50; i++) a.send(b.address, new Uint8Array([i]))
    clock.advance(10)
    const order = log.map((l) => Number(l.split('#')[1]))
    expect(order).toHaveLength(50)
    expect(order).not.toEqual([...order].sort((x, y) => x - y))
  })

  it('partition, isolate and heal cut and restore links, including packets in flight', async () => {
    const { clock, net, log, nodes } = await packetNodes(4, { delay: { min: 5, max: 5 } })
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
    a.send(b.address, new Uint8Array([1])) // in flight when the partition starts
    net.partition([a.address], [b.address, 'memory:other'])
    a.send(b.address, new Uint8Array([2]))
    a.send(c.address, new Uint8Array([3]))
    clock.advance(10)
    expect(log.map((l) => l.split('#')[1])).toEqual(['3'])
    expect(net.stats.packets.dropped.partition).toBe(2)
    expect(net.connected(b.address, a.address)).toBe(false)
    net.heal()
    net.isolate(c.address)
    a.send(c.address, new Uint8Array([4]))
    a.send(b.address, new Uint8Array([5]))
    clock.advance(10)
    expect(log.map((l) => l.split('#')[1])).toEqual(['3', '5'])
    net.heal()
    c.send(a.address, new Uint8Array([6]))
    clock.advance(10)
    expect(log).toHaveLength(3)
  })

  it('crash drops everything; a new endpoint may take the address', async () => {
    const { clock, net, log, nodes } = await packetNodes(6, {})
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    net.crash(b.address)
    a.send(b.address, new Uint8Array([1]))
    b.send(a.address, new Uint8Array([2]))
    clock.advance(1)
    expect(log).toEqual([])
    expect(net.stats.packets.dropped.crashed).toBe(2)
    expect(() => b.start()).toThrow(/crashed/)
    const reborn = net.packet(b.address)
    const got: Uint8Array[] = []
    reborn.onPacket((d) => got.push(d))
    reborn.start()
    a.send(b.address, new Uint8Array([3]))
    clock.advance(1)
    expect(got).toHaveLength(1)
  })

  it('refuses two started endpoints on one address', () => {
    const { net } = setup()
    net.packet('memory:x').start()
    let err: unknown
    try {
      net.packet('memory:x').start()
    } catch (e) {
      err = e
    }
    expect(isCodedError(err, 'RONY_ERR_ADDRESS_IN_USE')).toBe(true)
    expect(() => net.stream('memory:x').start()).not.toThrow() // separate address spaces
  })

  it('validates fault settings', () => {
    const { net } = setup()
    expect(() => net.configure({ loss: 2 })).toThrow(RangeError)
    expect(() => net.configure({ delay: { min: 5, max: 1 } })).toThrow(RangeError)
  })
})

describe('memory network: streams', () => {
  async function pair(seed = 1, faults: LinkFaults = { delay: { min: 1, max: 3 } }) {
    const env = setup(seed, faults)
    const a = env.net.stream('memory:a')
    const b = env.net.stream('memory:b')
    const inbound: MessageStream[] = []
    b.onStream((s) => inbound.push(s))
    a.start()
    b.start()
    return { ...env, a, b, inbound }
  }

  it('dial to a partitioned or crashed address fails after the link delay', async () => {
    const { clock, net, a, b, driver } = await pair(1, { delay: { min: 50, max: 50 } })
    net.partition([a.address], [b.address])
    let settled = false
    const dial = a.dial(b.address).finally(() => {
      settled = true
    })
    const outcome = rejection(dial)
    await clock.advanceAsync(49)
    expect(settled).toBe(false)
    await clock.advanceAsync(1)
    expect(isCodedError(await outcome, 'RONY_ERR_DIAL_FAILED')).toBe(true)
    net.heal()
    net.crash(b.address)
    const err = await driver.run(rejection(a.dial(b.address)))
    expect(isCodedError(err, 'RONY_ERR_DIAL_FAILED')).toBe(true)
    expect(net.stats.streams.dialsFailed).toBe(2)
  })

  it('a partition aborts open streams across it, on both sides', async () => {
    const { net, a, inbound, driver } = await pair()
    const x = await driver.run(a.dial('memory:b'))
    const y = inbound[0]!
    const both = [rejection(collect(x)), rejection(collect(y))]
    net.partition(['memory:a'], ['memory:b'])
    for (const err of await Promise.all(both)) {
      expect(isCodedError(err, 'RONY_ERR_STREAM_CLOSED')).toBe(true)
    }
  })

  it('a crash aborts the streams of the crashed endpoint and its peers', async () => {
    const { net, a, inbound, driver } = await pair()
    const x = await driver.run(a.dial('memory:b'))
    const remote = rejection(collect(inbound[0]!))
    net.crash('memory:a')
    expect(await rejection(collect(x))).toBeInstanceOf(Error)
    expect(await remote).toBeInstanceOf(Error)
  })

  it('applies back pressure: send waits while the reader lags, nothing is lost', async () => {
    const clock = virtualClock()
    const net = memoryNetwork({ clock, streamHighWaterMark: 1_000 })
    const a = net.stream('memory:a')
    const b = net.stream('memory:b')
    const inbound: MessageStream[] = []
    b.onStream((s) => inbound.push(s))
    a.start()
    b.start()
    const driver = virtualDriver(clock)
    const x = await driver.run(a.dial('memory:b'))
    let accepted = 0
    const sends = Array.from({ length: 10 }, (_, i) =>
      x.send(payload(i, 400)).then(() => {
        accepted++
      }),
    )
    await clock.advanceAsync(100)
    expect(accepted).toBe(3) // 0, 400, 800 bytes outstanding were below the mark
    const got = await driver.run(collect(inbound[0]!, 10))
    await driver.run(Promise.all(sends))
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => payload(i, 400)))
  })

  it('keeps stream order under random delays, deterministically', async () => {
    async function run(seed: number): Promise<string[]> {
      const { clock, a, inbound, driver } = await pair(seed, { delay: { min: 1, max: 40 } })
      const x = await driver.run(a.dial('memory:b'))
      const times: string[] = []
      const reading = (async () => {
        for await (const m of inbound[0]!) times.push(`${clock.now().toFixed(3)}:${m[3]}`)
      })()
      for (let i = 0; i < 30; i++) await driver.run(x.send(payload(i)))
      await driver.run(x.close())
      await driver.run(reading)
      return times
    }
    const first = await run(8)
    expect(first.map((t) => Number(t.split(':')[1]))).toEqual(
      Array.from({ length: 30 }, (_, i) => i),
    )
    expect(await run(8)).toEqual(first)
  })

  it('close() flushes, then ends both iterations; abort after close is a no-op', async () => {
    const { a, inbound, driver } = await pair()
    const x = await driver.run(a.dial('memory:b'))
    const y = inbound[0]!
    await x.send(payload(1))
    await driver.run(x.close())
    expect(await driver.run(collect(y))).toEqual([payload(1)])
    await driver.run(y.close())
    x.abort()
    expect(await driver.run(collect(x))).toEqual([])
  })

  it('dial times out on the network clock when the link is slower than dialTimeout', async () => {
    const clock = virtualClock()
    const net = memoryNetwork({
      clock,
      dialTimeout: 100,
      faults: { delay: { min: 500, max: 500 } },
    })
    const a = net.stream('memory:a')
    const b = net.stream('memory:b')
    b.onStream((s) => s.abort())
    a.start()
    b.start()
    const err = await virtualDriver(clock).run(rejection(a.dial('memory:b')))
    expect(isCodedError(err, 'RONY_ERR_TIMEOUT')).toBe(true)
  })
})
