import { isCodedError, type MessageStream, type StreamTransport } from '@rony/interface'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type MemoryNetwork,
  memoryNetwork,
  type PeerLinks,
  type PeerLinksInit,
  peerHandshake,
  peerLinks,
  seededRandom,
  tcpTransport,
  type VirtualClock,
  virtualClock,
} from '../src/index.js'

/** A node: its links, the frames it received (as `from:first byte`), and its dials' times. */
interface Node {
  id: string
  links: PeerLinks
  transport: StreamTransport
  got: string[]
  /** Virtual time of each dial, and the stream each successful one returned. */
  dials: number[]
  dialed: MessageStream[]
}

let stops: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(stops.map((stop) => stop()))
  stops = []
})

function simulation() {
  const clock = virtualClock()
  const net = memoryNetwork({
    clock,
    random: seededRandom(3),
    faults: { delay: { min: 1, max: 1 } },
  })
  return { clock, net }
}

function node(
  env: { clock: VirtualClock; net: MemoryNetwork },
  id: string,
  opts: Partial<PeerLinksInit> = {},
): Node {
  const transport = env.net.stream(`memory:${id}`, { maxMessageSize: 4096 })
  const n: Node = { id, links: undefined as never, transport, got: [], dials: [], dialed: [] }
  const dial = transport.dial.bind(transport)
  transport.dial = async (to, o) => {
    n.dials.push(env.clock.now())
    const stream = await dial(to, o)
    n.dialed.push(stream)
    return stream
  }
  n.links = peerLinks({ id, transport, clock: env.clock, ...opts })
  n.links.onFrame((frame, from) => n.got.push(`${from}:${frame[0]}`))
  stops.push(() => n.links.stop())
  return n
}

const to = (n: Node) => ({ id: n.id, address: `memory:${n.id}` })
const frame = (i: number, size = 1) => new Uint8Array(size).fill(i)

describe('peerLinks on the memory network', () => {
  it('delivers in order both ways over one connection per pair', async () => {
    const env = simulation()
    const [a, b, c] = ['a', 'b', 'c'].map((id) => node(env, id))
    for (const n of [a!, b!, c!]) await n.links.start()
    for (let i = 1; i <= 20; i++) {
      a!.links.send(to(b!), frame(i))
      c!.links.send(to(a!), frame(i)) // c > a: c waits dialGrace for a, which never dials
      if (i === 10) await env.clock.advanceAsync(5)
    }
    await env.clock.advanceAsync(200)
    for (let i = 1; i <= 20; i++) b!.links.send(to(a!), frame(i)) // back over a's connection
    await env.clock.advanceAsync(10)
    const run = (from: string) => Array.from({ length: 20 }, (_, i) => `${from}:${i + 1}`)
    expect(b!.got).toEqual(run('a'))
    expect(a!.got).toEqual([...run('c'), ...run('b')])
    expect([a!.dials.length, b!.dials.length, c!.dials.length]).toEqual([1, 0, 1])
    expect(a!.links.connected('b') && b!.links.connected('a')).toBe(true)
  })

  it('keeps the connection the smaller id dialed when both dial at once', async () => {
    const env = simulation()
    // b's dial is slower than a's: b takes a's connection first, then closes its own.
    env.net.link('memory:b', 'memory:a', { delay: { min: 5, max: 5 } }, { oneWay: true })
    const a = node(env, 'a')
    const b = node(env, 'b', { dialGrace: 0 })
    await a.links.start()
    await b.links.start()
    a.links.send(to(b), frame(1))
    b.links.send(to(a), frame(1))
    await env.clock.advanceAsync(20)
    expect([a.dialed.length, b.dialed.length]).toEqual([1, 1])
    await expect(b.dialed[0]!.send(frame(9))).rejects.toMatchObject({
      code: 'RONY_ERR_STREAM_CLOSED',
    })
    for (let i = 2; i <= 5; i++) {
      a.links.send(to(b), frame(i))
      b.links.send(to(a), frame(i))
    }
    await env.clock.advanceAsync(20)
    const run = (from: string) => [1, 2, 3, 4, 5].map((i) => `${from}:${i}`)
    expect(a.got).toEqual(run('b'))
    expect(b.got).toEqual(run('a'))
    expect([a.dialed.length, b.dialed.length]).toEqual([1, 1])
    expect(a.links.stats().refused).toBe(1) // b's connection, closed before its hello arrived
  })

  it('lets the larger id wait dialGrace for the peer, so both sending at once dial once', async () => {
    const env = simulation()
    const a = node(env, 'a')
    const b = node(env, 'b')
    await a.links.start()
    await b.links.start()
    a.links.send(to(b), frame(1))
    b.links.send(to(a), frame(1))
    await env.clock.advanceAsync(200)
    expect([a.dials.length, b.dials.length]).toEqual([1, 0])
    expect([a.got, b.got]).toEqual([['b:1'], ['a:1']])
  })

  it('redials with doubling backoff up to maxBackoff while frames wait, then delivers them', async () => {
    const env = simulation()
    const a = node(env, 'a', { minBackoff: 50, maxBackoff: 200 })
    const b = node(env, 'b')
    await a.links.start()
    a.links.send(to(b), frame(1)) // b is not listening yet
    await env.clock.advanceAsync(600)
    // Each dial fails after the 1 ms link delay; the next waits 50, 100, 200, 200 ms.
    expect(a.dials).toEqual([0, 51, 152, 353, 554])
    await b.links.start()
    await env.clock.advanceAsync(201)
    expect(a.dials).toHaveLength(6)
    expect(b.got).toEqual(['a:1'])
    // A frame sent resets the backoff: after a crash of b, the first redial is 50 ms out.
    env.net.crash('memory:b')
    await env.clock.advanceAsync(1)
    a.links.send(to(b), frame(2))
    const lost = env.clock.now()
    await env.clock.advanceAsync(100)
    expect(a.dials.slice(6).map((t) => t - lost)).toEqual([0, 51])
  })

  it('drops the oldest frames beyond maxQueue while a peer is unreachable', async () => {
    const env = simulation()
    const a = node(env, 'a', { maxQueue: 4 })
    const b = node(env, 'b')
    await a.links.start()
    for (let i = 0; i < 10; i++) a.links.send(to(b), frame(i))
    expect(a.links.stats().queueDrops).toBe(6)
    await b.links.start()
    await env.clock.advanceAsync(100)
    expect(b.got).toEqual(['a:6', 'a:7', 'a:8', 'a:9'])
  })

  it('withdraws a frame still queued, never a written one, and keeps the queue bounds right', async () => {
    const env = simulation()
    const a = node(env, 'a', { maxQueue: 2 })
    const b = node(env, 'b')
    await a.links.start()
    const first = a.links.send(to(b), frame(1)) // b is not listening yet: queued
    const second = a.links.send(to(b), frame(2))
    expect(second?.withdraw()).toBe(true)
    expect(second?.withdraw()).toBe(true) // again: still never sent
    const third = a.links.send(to(b), frame(3)) // room for it beside 1: nothing dropped
    expect(a.links.stats().queueDrops).toBe(0)
    a.links.send(to(b), frame(4)) // full: 1 goes
    expect(a.links.stats().queueDrops).toBe(1)
    expect(first?.withdraw()).toBe(true) // dropped: b will not get it either
    await b.links.start()
    await env.clock.advanceAsync(100)
    expect(b.got).toEqual(['a:3', 'a:4'])
    expect(third?.withdraw()).toBe(false) // written: it may arrive (it did)
    await a.links.stop()
    expect(a.links.send(to(b), frame(5))).toBeUndefined()
  })

  it('drops the oldest frames beyond maxQueueBytes, and queues a big frame alone', async () => {
    const env = simulation()
    const a = node(env, 'a', { maxQueueBytes: 1000 })
    const b = node(env, 'b')
    await a.links.start()
    for (let i = 0; i < 4; i++) a.links.send(to(b), frame(i, 300))
    expect(a.links.stats().queueDrops).toBe(1) // 900 bytes wait: 1, 2, 3
    a.links.send(to(b), frame(4, 100))
    expect(a.links.stats().queueDrops).toBe(1) // exactly 1000
    a.links.send(to(b), frame(5, 2000)) // over the bound by itself: everything else goes
    expect(a.links.stats().queueDrops).toBe(5)
    a.links.send(to(b), frame(6, 1))
    expect(a.links.stats().queueDrops).toBe(6)
    await b.links.start()
    await env.clock.advanceAsync(100)
    expect(b.got).toEqual(['a:6'])
  })

  it('refuses frames over the transport maxMessageSize at send, and carries the largest', async () => {
    const env = simulation()
    const a = node(env, 'a')
    const b = node(env, 'b')
    await a.links.start()
    await b.links.start()
    expect(a.links.maxFrameSize).toBe(4096)
    let error: unknown
    try {
      a.links.send(to(b), frame(1, 4097))
    } catch (e) {
      error = e
    }
    expect(isCodedError(error, 'RONY_ERR_MESSAGE_TOO_LARGE')).toBe(true)
    a.links.send(to(b), frame(2, 4096))
    await env.clock.advanceAsync(10)
    expect(b.got).toEqual(['a:2'])
    expect(() => a.links.send({ id: 'a', address: 'memory:a' }, frame(1))).toThrow(TypeError)
  })

  it('refuses inbound connections without a hello for this node, and their frames', async () => {
    const env = simulation()
    const b = node(env, 'b', { handshake: peerHandshake('tunnel/1'), handshakeTimeout: 1000 })
    await b.links.start()
    const probe = env.net.stream('memory:probe')
    await probe.start()
    const open = async (first?: Uint8Array) => {
      const dialing = probe.dial('memory:b')
      await env.clock.advanceAsync(1)
      const stream = await dialing
      if (first !== undefined) await stream.send(first)
      await stream.send(frame(7))
      await env.clock.advanceAsync(2)
      return stream
    }
    const tunnel = peerHandshake('tunnel/1')
    await open(Uint8Array.of(0xff)) // not a hello
    await open(peerHandshake().encode('a', 'b')) // another protocol's hello (the wrong port)
    await open(tunnel.encode('a', 'not-b')) // for a node that used to listen here
    await open(tunnel.encode('b', 'b')) // from itself
    expect(b.links.stats().refused).toBe(4)
    await open() // sends frame 7 as its "hello"
    expect(b.links.stats().refused).toBe(5)
    const silent = await (async () => {
      const dialing = probe.dial('memory:b')
      await env.clock.advanceAsync(1)
      return dialing
    })()
    await env.clock.advanceAsync(1000)
    expect(b.links.stats().refused).toBe(6)
    await env.clock.advanceAsync(2)
    await expect(silent.send(frame(1))).rejects.toMatchObject({ code: 'RONY_ERR_STREAM_CLOSED' })
    await open(tunnel.encode('a', 'b'))
    expect(b.got).toEqual(['a:7'])
    await probe.stop()
  })

  it('closes a connection whose frame the handler refuses; the peer redials for later frames', async () => {
    const env = simulation()
    const a = node(env, 'a')
    const b = node(env, 'b')
    b.links.onFrame((f, from) => {
      if (f[0] === 0) throw new Error('cannot decode')
      b.got.push(`${from}:${f[0]}`)
    })
    await a.links.start()
    await b.links.start()
    a.links.send(to(b), frame(1))
    a.links.send(to(b), frame(0))
    await env.clock.advanceAsync(10)
    expect(b.links.stats().rejected).toBe(1)
    expect(a.links.connected('b')).toBe(false)
    a.links.send(to(b), frame(2))
    await env.clock.advanceAsync(10)
    expect(b.got).toEqual(['a:1', 'a:2'])
    expect(a.dials).toHaveLength(2)
  })

  it('answers a peer known only by the connection it opened (address "")', async () => {
    const env = simulation()
    const a = node(env, 'a')
    const b = node(env, 'b')
    await a.links.start()
    await b.links.start()
    b.links.send({ id: 'a', address: '' }, frame(1)) // waits: nothing to dial
    await env.clock.advanceAsync(500)
    expect(b.dials).toEqual([])
    a.links.send(to(b), frame(2))
    await env.clock.advanceAsync(10)
    expect(a.got).toEqual(['b:1'])
    expect(b.got).toEqual(['a:2'])
  })

  it('disconnect() closes one peer; stop() closes all, drops the queues and dials no more', async () => {
    const env = simulation()
    const a = node(env, 'a')
    const b = node(env, 'b')
    const c = node(env, 'c')
    for (const n of [a, b, c]) await n.links.start()
    a.links.send(to(b), frame(1))
    a.links.send(to(c), frame(1))
    await env.clock.advanceAsync(10)
    a.links.disconnect('b')
    await env.clock.advanceAsync(10)
    expect([a.links.connected('b'), b.links.connected('a'), a.links.connected('c')]).toEqual([
      false,
      false,
      true,
    ])
    a.links.send(to(b), frame(2)) // a fresh link
    await env.clock.advanceAsync(10)
    expect(b.got).toEqual(['a:1', 'a:2'])
    a.links.disconnect('b')
    await env.clock.advanceAsync(10)
    a.links.send(to(b), frame(9))
    a.links.disconnect('b') // while its dial is under way: the connection is closed on arrival
    await env.clock.advanceAsync(10)
    expect([b.got.length, b.links.connected('a')]).toEqual([2, false])

    await c.links.stop()
    await env.clock.advanceAsync(2)
    const before = a.dials.length
    a.links.send(to(c), frame(3)) // c is gone: a dials, then redials with backoff
    await env.clock.advanceAsync(100)
    expect(a.dials.length).toBe(before + 2) // at once, then 51 ms later
    const dials = a.dials.length
    await a.links.stop()
    expect(a.links.send(to(c), frame(4))).toBeUndefined()
    await env.clock.advanceAsync(10_000)
    expect(a.dials).toHaveLength(dials)
    expect(b.links.connected('a')).toBe(false)
  })

  it('rejects unknown options and out-of-range values', () => {
    const env = simulation()
    const transport = env.net.stream('memory:x')
    expect(() => peerLinks({ id: 'x', transport, maxQeue: 1 } as PeerLinksInit)).toThrow(TypeError)
    expect(() => peerLinks({ id: '', transport })).toThrow(TypeError)
    expect(() => peerLinks({ id: 'x', transport, maxQueue: 0 })).toThrow(RangeError)
    expect(() => peerLinks({ id: 'x', transport, minBackoff: 10, maxBackoff: 5 })).toThrow(
      RangeError,
    )
  })
})

describe('peerLinks over TCP', () => {
  it('carries frames of several MiB both ways over one connection', async () => {
    const size = 3 * 1024 * 1024
    const make = (id: string) => {
      const transport = tcpTransport({ bind: '127.0.0.1:0' })
      let accepted = 0
      const onStream = transport.onStream.bind(transport)
      transport.onStream = (handler) =>
        onStream((stream) => {
          accepted++
          handler(stream)
        })
      const links = peerLinks({ id, transport })
      const got: Uint8Array[] = []
      links.onFrame((f) => got.push(f))
      stops.push(() => links.stop())
      return { links, got, accepted: () => accepted }
    }
    const until = async (check: () => boolean) => {
      const end = Date.now() + 10_000
      while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
    }
    const a = make('a')
    const b = make('b')
    await a.links.start()
    await b.links.start()
    a.links.send({ id: 'b', address: b.links.address }, frame(1, size))
    await until(() => b.got.length === 1)
    b.links.send({ id: 'a', address: a.links.address }, frame(2, size)) // over a's connection
    await until(() => a.got.length === 1)
    expect(b.got.map((f) => [f.byteLength, f[0], f[size - 1]])).toEqual([[size, 1, 1]])
    expect(a.got.map((f) => [f.byteLength, f[0], f[size - 1]])).toEqual([[size, 2, 2]])
    expect([a.accepted(), b.accepted()]).toEqual([0, 1])
  })
})
