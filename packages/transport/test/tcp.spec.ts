import { connect, type Socket } from 'node:net'
import { isCodedError, type MessageStream } from '@rony/interface'
import {
  collect,
  payload,
  realDriver,
  rejection,
  streamTransportSuite,
} from '@rony/testing/transport'
import { describe, expect, it } from 'vitest'
import { encodeFrame, encodePrefix } from '../src/framing.js'
import { tcpTransport } from '../src/index.js'

streamTransportSuite('tcp on 127.0.0.1', async () => ({
  a: tcpTransport({ bind: '127.0.0.1:0', maxMessageSize: 4 * 1024 * 1024 }),
  b: tcpTransport({ bind: '127.0.0.1:0', maxMessageSize: 4 * 1024 * 1024 }),
  driver: realDriver(),
  nowhere: '127.0.0.1:9',
}))

/** A server transport that records inbound streams and their outcome. */
async function server(init: { maxMessageSize?: number } = {}) {
  const tcp = tcpTransport({ bind: '127.0.0.1:0', ...init })
  const outcomes: Array<Promise<{ got: Uint8Array[]; err?: unknown }>> = []
  tcp.onStream((stream: MessageStream) => {
    const got: Uint8Array[] = []
    outcomes.push(
      (async () => {
        try {
          for await (const m of stream) got.push(m)
          return { got }
        } catch (err) {
          return { got, err }
        }
      })(),
    )
  })
  await tcp.start()
  return { tcp, outcomes }
}

function raw(address: string): Promise<Socket> {
  const [host, port] = address.split(':') as [string, string]
  return new Promise((resolve, reject) => {
    const s = connect({ host, port: Number(port) }, () => resolve(s))
    s.on('error', reject)
  })
}

function closedBy(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.on('error', () => {})
    socket.on('close', () => resolve())
    socket.resume()
  })
}

describe('tcpTransport: hostile bytes', () => {
  it('aborts a stream whose peer announces a frame over maxMessageSize', async () => {
    const { tcp, outcomes } = await server({ maxMessageSize: 1_000 })
    try {
      const sock = await raw(tcp.address)
      const gone = closedBy(sock)
      sock.write(encodeFrame(payload(1, 10)))
      sock.write(encodePrefix(1_001)) // no body needed: the prefix alone is refused
      await realDriver().until(() => outcomes.length === 1)
      const { err } = await outcomes[0]!
      expect(isCodedError(err, 'RONY_ERR_STREAM_CLOSED')).toBe(true)
      await gone
    } finally {
      await tcp.stop()
    }
  })

  it('survives garbage bytes and a truncated frame, and keeps serving', async () => {
    const { tcp, outcomes } = await server()
    try {
      const garbage = await raw(tcp.address)
      const gone = closedBy(garbage)
      garbage.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))
      await gone
      const truncated = await raw(tcp.address)
      truncated.end(new Uint8Array([10, 1, 2, 3]))
      await closedBy(truncated)
      await realDriver().until(() => outcomes.length === 2)
      const [first, second] = await Promise.all(outcomes)
      expect(first?.err).toBeInstanceOf(Error)
      expect(second?.err).toBeInstanceOf(Error)
      // Still serving well-formed peers.
      const client = tcpTransport({ bind: '127.0.0.1:0' })
      await client.start()
      const s = await client.dial(tcp.address)
      await s.send(payload(3))
      await s.close()
      await realDriver().until(() => outcomes.length === 3)
      expect((await outcomes[2]!).got).toEqual([payload(3)])
      await client.stop()
    } finally {
      await tcp.stop()
    }
  })

  it('reads frames split at every byte boundary', async () => {
    const { tcp, outcomes } = await server()
    try {
      const sock = await raw(tcp.address)
      const bytes = new Uint8Array([
        ...encodeFrame(payload(1, 200)),
        ...encodeFrame(new Uint8Array(0)),
        ...encodeFrame(payload(2, 3)),
      ])
      for (const b of bytes) {
        sock.write(new Uint8Array([b]))
        await new Promise((r) => setImmediate(r))
      }
      sock.end()
      await realDriver().until(() => outcomes.length === 1)
      const { got, err } = await outcomes[0]!
      expect(err).toBeUndefined()
      expect(got).toEqual([payload(1, 200), new Uint8Array(0), payload(2, 3)])
    } finally {
      await tcp.stop()
    }
  })
})

describe('tcpTransport', () => {
  it('reports the real port, refuses a busy port, and stop() is prompt and complete', async () => {
    const a = tcpTransport({ bind: '127.0.0.1:0' })
    await a.start()
    expect(a.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/)
    await expect(tcpTransport({ bind: a.address }).start()).rejects.toThrow()
    const pending = a.dial('10.255.255.1:9') // unroutable: stays pending until stop
    await a.stop()
    expect(isCodedError(await rejection(pending), 'RONY_ERR_STOPPED')).toBe(true)
    await expect(a.start()).rejects.toMatchObject({ code: 'RONY_ERR_STOPPED' })
  })

  it('applies back pressure: a lagging reader pauses the socket, nothing is lost', async () => {
    const b = tcpTransport({ bind: '127.0.0.1:0', highWaterMark: 16 * 1024 })
    const a = tcpTransport({ bind: '127.0.0.1:0', highWaterMark: 16 * 1024 })
    const inbound: MessageStream[] = []
    b.onStream((s) => inbound.push(s))
    await a.start()
    await b.start()
    try {
      const x = await a.dial(b.address)
      let accepted = 0
      const sends: Array<Promise<void>> = []
      for (let i = 0; i < 400; i++)
        sends.push(x.send(payload(i, 64 * 1024)).then(() => void accepted++))
      await realDriver().until(() => inbound.length === 1)
      await new Promise((r) => setTimeout(r, 100))
      // 25 MiB cannot all sit in kernel buffers: some sends must still be waiting.
      expect(accepted).toBeLessThan(400)
      const got = await collect(inbound[0]!, 400)
      await Promise.all(sends)
      expect(
        got.every(
          (m, i) =>
            m.byteLength === 64 * 1024 && new DataView(m.buffer, m.byteOffset).getUint32(0) === i,
        ),
      ).toBe(true)
      await x.close()
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  it('refuses inbound streams beyond maxConnections', async () => {
    const b = tcpTransport({ bind: '127.0.0.1:0', maxConnections: 1 })
    const a = tcpTransport({ bind: '127.0.0.1:0' })
    const inbound: MessageStream[] = []
    b.onStream((s) => inbound.push(s))
    await a.start()
    await b.start()
    try {
      const first = await a.dial(b.address)
      await realDriver().until(() => inbound.length === 1)
      const second = await a.dial(b.address).catch((err: unknown) => err)
      if (!(second instanceof Error)) {
        expect(await rejection(collect(second as MessageStream))).toBeInstanceOf(Error)
      }
      expect(inbound).toHaveLength(1)
      await first.send(payload(1))
      expect(await collect(inbound[0]!, 1)).toEqual([payload(1)])
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  it('aborts idle streams after idleTimeout', async () => {
    const b = tcpTransport({ bind: '127.0.0.1:0', idleTimeout: 50 })
    const a = tcpTransport({ bind: '127.0.0.1:0' })
    const inbound: MessageStream[] = []
    b.onStream((s) => inbound.push(s))
    await a.start()
    await b.start()
    try {
      const x = await a.dial(b.address)
      expect(await rejection(collect(x))).toBeInstanceOf(Error)
    } finally {
      await a.stop()
      await b.stop()
    }
  })
})
