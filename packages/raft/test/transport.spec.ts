import type { StreamTransport } from '@rony/interface'
import { tcpTransport } from '@rony/transport'
import { afterEach, describe, expect, it } from 'vitest'
import type { Message } from '../src/core/messages.js'
import { encodeHello, encodeRaftMessage } from '../src/transport/codec.js'
import { type RaftTransport, raftStreamTransport } from '../src/transport/stream-transport.js'

interface Server {
  id: string
  streams: StreamTransport
  transport: RaftTransport
  inbox: Message[]
  accepted: number
}

const running: Server[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.transport.stop()))
})

async function server(id: string, bind = '127.0.0.1:0', maxQueue?: number): Promise<Server> {
  const streams = tcpTransport({ bind })
  const s: Server = {
    id,
    streams,
    transport: raftStreamTransport({ id, streams, maxQueue }),
    inbox: [],
    accepted: 0,
  }
  // Count connections this server accepts (the transport replaces the handler in start()).
  const onStream = streams.onStream.bind(streams)
  streams.onStream = (handler) =>
    onStream((stream) => {
      s.accepted++
      handler(stream)
    })
  await s.transport.start((m) => s.inbox.push(m))
  running.push(s)
  return s
}

const info = (s: Server) => ({ id: s.id, address: s.transport.address })
const heartbeat = (from: string, to: string, context: number): Message => ({
  type: 'heartbeat',
  from,
  to,
  term: 1,
  commit: 0,
  context,
})

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('raftStreamTransport over TCP', () => {
  it('delivers in order both ways, reusing one connection per server pair', async () => {
    const [a, b, c] = (await Promise.all([server('a'), server('b'), server('c')])) as Server[]
    const round = async (base: number): Promise<void> => {
      for (let i = base + 1; i <= base + 50; i++) {
        a!.transport.send(info(b!), heartbeat('a', 'b', i))
        b!.transport.send(info(a!), heartbeat('b', 'a', i))
        // a never sends to c: c's frames must not wait for a to dial.
        c!.transport.send(info(a!), heartbeat('c', 'a', i))
        c!.transport.send(info(b!), heartbeat('c', 'b', i))
      }
      await until(() => a!.inbox.length === base * 2 + 100 && b!.inbox.length === base * 2 + 100)
    }
    await round(0)
    const accepted = [a!.accepted, b!.accepted, c!.accepted]
    await round(50)
    expect([a!.accepted, b!.accepted, c!.accepted]).toEqual(accepted)
    const from = (s: Server, sender: string) =>
      s.inbox.filter((m) => m.from === sender).map((m) => (m as { context: number }).context)
    const order = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(from(b!, 'a')).toEqual(order)
    expect(from(a!, 'b')).toEqual(order)
    expect(from(a!, 'c')).toEqual(order)
    expect(from(b!, 'c')).toEqual(order)
  })

  it('keeps the connection the smaller id dialed when both dial at once', async () => {
    const [a, b] = (await Promise.all([server('a'), server('b')])) as Server[]
    a!.transport.send(info(b!), heartbeat('a', 'b', 1))
    b!.transport.send(info(a!), heartbeat('b', 'a', 1))
    await until(() => a!.inbox.length === 1 && b!.inbox.length === 1)
    for (let i = 2; i <= 20; i++) {
      a!.transport.send(info(b!), heartbeat('a', 'b', i))
      b!.transport.send(info(a!), heartbeat('b', 'a', i))
    }
    await until(() => a!.inbox.length + b!.inbox.length >= 38, 3_000).catch(() => {})
    // Both keep sending over the one surviving connection (a frame in flight on a connection
    // closed by the tie-break may be lost, as any message may be).
    const last = (s: Server) => (s.inbox.at(-1) as { context: number }).context
    expect([last(a!), last(b!)]).toEqual([20, 20])
  })

  it('redials a peer that restarted on the same address', async () => {
    const a = await server('a')
    const b = await server('b')
    const address = b.transport.address
    a.transport.send(info(b), heartbeat('a', 'b', 1))
    await until(() => b.inbox.length === 1)
    await b.transport.stop()
    running.splice(running.indexOf(b), 1)
    const b2 = await server('b', address)
    a.transport.send({ id: 'b', address }, heartbeat('a', 'b', 2))
    await until(() => b2.inbox.some((m) => (m as { context: number }).context === 2))
  })

  it('drops the oldest frames beyond maxQueue while a peer is unreachable', async () => {
    const a = await server('a', '127.0.0.1:0', 4)
    // Nothing listens on port 9 of 127.0.0.1 (discard): dials fail, frames wait.
    for (let i = 0; i < 10; i++)
      a.transport.send({ id: 'z', address: '127.0.0.1:9' }, heartbeat('a', 'z', i))
    expect(a.transport.stats().queueDrops).toBe(6)
  })

  it('closes connections that do not start with a hello to this server, and drops forged senders', async () => {
    const b = await server('b')
    const probe = tcpTransport({ bind: '127.0.0.1:0' })
    await probe.start()
    try {
      const bad = await probe.dial(b.transport.address)
      await bad.send(Uint8Array.of(0xff, 0xff))
      await until(() => b.transport.stats().malformed === 1)
      const wrongTarget = await probe.dial(b.transport.address)
      await wrongTarget.send(encodeHello('a', 'not-b'))
      await until(() => b.transport.stats().malformed === 2)
      const forged = await probe.dial(b.transport.address)
      await forged.send(encodeHello('a', 'b'))
      await forged.send(encodeRaftMessage(heartbeat('x', 'b', 1)))
      await forged.send(encodeRaftMessage(heartbeat('a', 'b', 2)))
      await until(() => b.inbox.length === 1)
      expect(b.inbox[0]).toMatchObject({ from: 'a', context: 2 })
      expect(b.transport.stats().malformed).toBe(3)
    } finally {
      await probe.stop()
    }
  })
})
