import type { Gateway } from '@rony/interface'
import { beforeEach, describe, expect, it } from 'vitest'
import type { WebSocket } from 'ws'
import { wsGateway } from '../src/index.js'
import {
  closeOf,
  connect,
  firstAddress,
  nextMessage,
  Recorder,
  recordingLogger,
  started,
  until,
} from './helpers.js'

describe('wsGateway connections and messages', () => {
  let handlers: Recorder
  let gateway: Gateway
  let url: string

  beforeEach(async () => {
    handlers = new Recorder()
    gateway = await started(wsGateway({ path: '/rpc' }), handlers)
    url = firstAddress(gateway)
  })

  async function open(): Promise<WebSocket> {
    const count = handlers.of('connect').length
    const client = await connect(url)
    await handlers.waitFor('connect', () => handlers.of('connect').length > count)
    return client
  }

  it('describes each connection: unique positive id, persistent, ws, host:port', async () => {
    const [a, b] = [await open(), await open()]
    const conns = handlers.of('connect').map((e) => e.conn)
    expect(conns.map((c) => c.id)).toEqual([1, 2])
    for (const conn of conns) {
      expect(conn.persistent).toBe(true)
      expect(conn.protocol).toBe('ws')
      expect(conn.closed).toBe(false)
      expect(conn.remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/)
    }
    const ports = [a, b].map(
      (c) => (c as unknown as { _socket: { localPort: number } })._socket.localPort,
    )
    expect(conns.map((c) => c.remoteAddress)).toEqual(ports.map((p) => `127.0.0.1:${p}`))
  })

  it('calls onConnect once, onMessage in order, onClose once and last', async () => {
    const client = await open()
    for (const byte of [1, 2, 3]) client.send(Buffer.from([byte]))
    await handlers.waitFor('message', () => handlers.of('message').length === 3)
    const closed = closeOf(client)
    client.close(1000, 'done')
    await handlers.waitFor('close')
    await closed
    expect(handlers.events.map((e) => e.type)).toEqual([
      'connect',
      'message',
      'message',
      'message',
      'close',
    ])
    expect(handlers.of('message').map((e) => [...e.data])).toEqual([[1], [2], [3]])
    const [close] = handlers.of('close')
    expect(close?.reason).toEqual({ initiator: 'remote', code: 1000, reason: 'done' })
    expect(close?.conn.closed).toBe(true)
    expect(close?.conn.send(Buffer.from([9]))).toBe(false)
  })

  it('passes the upgrade headers as a Map, lower case, repeats joined with ", ", handshake-only ones left out', async () => {
    const client = await connect(url, {
      headers: { 'X-Token': 'abc', 'X-Multi': ['a', 'b'] as unknown as string, __proto__: 'p' },
    })
    client.send(Buffer.from([1]))
    client.send(Buffer.from([2]))
    await handlers.waitFor('message', () => handlers.of('message').length === 2)
    const [first, second] = handlers.of('message')
    const headers = first?.meta.headers
    expect(headers).toBeInstanceOf(Map)
    expect(first?.meta.format).toBe('binary')
    expect(headers?.get('x-token')).toBe('abc')
    expect(headers?.get('x-multi')).toBe('a, b')
    expect(headers?.get('host')).toBe(new URL(url).host)
    for (const handshake of [
      'connection',
      'upgrade',
      'sec-websocket-key',
      'sec-websocket-version',
    ]) {
      expect(headers?.has(handshake)).toBe(false)
    }
    expect(headers?.has('X-Token')).toBe(false)
    expect(second?.meta.headers).toBe(headers) // the same map for every message
  })

  it('round-trips binary messages, including empty and fragmented ones', async () => {
    const client = await open()
    const big = Buffer.alloc(200_000, 7)
    client.send(big)
    expect((await nextMessage(client)).data.equals(big)).toBe(true)
    client.send(Buffer.alloc(0))
    const empty = await nextMessage(client)
    expect(empty).toMatchObject({ isBinary: true })
    expect(empty.data.length).toBe(0)
    // One message in three frames: the edge sees it whole.
    client.send(Buffer.from([1, 2]), { fin: false })
    client.send(Buffer.from([3]), { fin: false })
    client.send(Buffer.from([4, 5]), { fin: true })
    const reply = await nextMessage(client)
    expect([...reply.data]).toEqual([1, 2, 3, 4, 5])
    expect(reply.isBinary).toBe(true)
    const last = handlers.of('message').at(-1)
    expect(last?.data).toBeInstanceOf(Uint8Array)
    expect([...(last?.data ?? [])]).toEqual([1, 2, 3, 4, 5])
  })

  it('passes a text frame on as a JSON message, and sends JSON replies as text frames', async () => {
    const client = await open()
    client.send('{"requestId":18446744073709551615}')
    const reply = await nextMessage(client)
    expect(reply.isBinary).toBe(false)
    expect(reply.data.toString()).toBe('{"requestId":18446744073709551615}')
    const [text] = handlers.of('message')
    expect(text?.meta.format).toBe('json')
    expect(new TextDecoder().decode(text?.data)).toBe('{"requestId":18446744073709551615}')
    // Binary frames on the same connection stay binary, with the same headers.
    client.send(Buffer.from([42]))
    const binary = await nextMessage(client)
    expect([binary.isBinary, [...binary.data]]).toEqual([true, [42]])
    const second = handlers.of('message')[1]
    expect(second?.meta.format).toBe('binary')
    expect(second?.meta.headers).toBe(text?.meta.headers)
    expect(gateway.features.json).toBe(true)
  })

  it('close() is idempotent, sets closed at once, truncates the reason to 123 bytes', async () => {
    const client = await open()
    const conn = handlers.of('connect')[0]!.conn
    const closed = closeOf(client)
    const reason = 'é'.repeat(100) // 200 bytes of UTF-8
    conn.close(4001, reason)
    expect(conn.closed).toBe(true)
    expect(conn.send(Buffer.from([1]))).toBe(false)
    conn.close(4002, 'again')
    const seen = await closed
    expect(seen.code).toBe(4001)
    expect(Buffer.byteLength(seen.reason)).toBe(122) // 61 whole characters, none split
    expect(seen.reason).toBe('é'.repeat(61))
    await handlers.waitFor('close')
    expect(handlers.of('close')).toHaveLength(1)
    expect(handlers.of('close')[0]?.reason).toEqual({
      initiator: 'local',
      code: 4001,
      reason: 'é'.repeat(61),
    })
    expect(() => handlers.of('connect')[0]?.conn.close(1005)).not.toThrow() // closed: no-op
  })

  it('rejects close codes that cannot be sent', async () => {
    await open()
    const conn = handlers.of('connect')[0]!.conn
    expect(() => conn.close(1006)).toThrow(RangeError)
    expect(conn.closed).toBe(false)
  })

  it('drops messages that arrive after the edge closed the connection', async () => {
    handlers.echo = false
    const client = await open()
    const conn = handlers.of('connect')[0]!.conn
    conn.close()
    client.send(Buffer.from([1])) // in flight while the close frame travels
    await handlers.waitFor('close')
    expect(handlers.of('message')).toHaveLength(0)
  })

  it('reports a peer that vanishes without a close frame as an error', async () => {
    const client = await open()
    client.terminate()
    const { reason } = await handlers.waitFor('close')
    expect(reason).toMatchObject({ initiator: 'error', code: 1006 })
  })

  it('reports a protocol violation as an error with its close code', async () => {
    const client = await open()
    const socket = (client as unknown as { _socket: import('node:net').Socket })._socket
    socket.write(Buffer.from([0x83, 0x80, 0, 0, 0, 0])) // reserved opcode 3, masked, empty
    const { reason } = await handlers.waitFor('close')
    expect(reason.initiator).toBe('error')
    expect(reason.code).toBe(1002)
    expect(reason.error).toBeInstanceOf(Error)
  })
})

describe('wsGateway handler failures', () => {
  it('logs a throwing callback and keeps the connection and the gateway', async () => {
    const handlers = new Recorder()
    handlers.throwIn.add('connect')
    handlers.throwIn.add('message')
    handlers.throwIn.add('close')
    const logger = recordingLogger()
    const gateway = await started(wsGateway({ logger }), handlers)
    const client = await connect(firstAddress(gateway))
    client.send(Buffer.from([5]))
    // The echo ran before the throw; the connection still works afterwards.
    expect([...(await nextMessage(client)).data]).toEqual([5])
    client.send(Buffer.from([6]))
    expect([...(await nextMessage(client)).data]).toEqual([6])
    client.close()
    await handlers.waitFor('close')
    await until(() => logger.errors.length === 4, 5_000, 'four logged errors')
    const other = await connect(firstAddress(gateway))
    other.send(Buffer.from([7]))
    expect([...(await nextMessage(other)).data]).toEqual([7])
  })
})

describe('wsGateway maxPayload', () => {
  it('closes the connection with 1009 for a message over maxPayload', async () => {
    const handlers = new Recorder()
    const gateway = await started(wsGateway({ maxPayload: 1024 }), handlers)
    const client = await connect(firstAddress(gateway))
    client.send(Buffer.alloc(1024, 1)) // exactly the limit: accepted
    expect((await nextMessage(client)).data.length).toBe(1024)
    const closed = closeOf(client)
    client.send(Buffer.alloc(1025, 1))
    expect((await closed).code).toBe(1009)
    const { reason } = await handlers.waitFor('close')
    expect(reason).toMatchObject({ initiator: 'local', code: 1009 })
    expect(handlers.of('message')).toHaveLength(1)
  })

  it('counts fragments together', async () => {
    const handlers = new Recorder()
    const gateway = await started(wsGateway({ maxPayload: 1024 }), handlers)
    const client = await connect(firstAddress(gateway))
    const closed = closeOf(client)
    client.send(Buffer.alloc(600), { fin: false })
    client.send(Buffer.alloc(600), { fin: true })
    expect((await closed).code).toBe(1009)
    expect(handlers.of('message')).toHaveLength(0)
  })
})

describe('wsGateway perMessageDeflate', () => {
  it('negotiates compression only when enabled', async () => {
    const plain = await started(wsGateway(), new Recorder())
    const plainClient = await connect(firstAddress(plain), { perMessageDeflate: true })
    expect(plainClient.extensions).toBe('')

    const handlers = new Recorder()
    const gateway = await started(wsGateway({ perMessageDeflate: { threshold: 0 } }), handlers)
    const client = await connect(firstAddress(gateway), { perMessageDeflate: true })
    expect(client.extensions).toContain('permessage-deflate')
    const payload = Buffer.alloc(10_000, 'a')
    client.send(payload)
    expect((await nextMessage(client)).data.equals(payload)).toBe(true)
    const { data } = await handlers.waitFor('message')
    expect(Buffer.from(data).equals(payload)).toBe(true) // the handler sees it inflated
  })
})

describe('wsGateway write coalescing', () => {
  /** Ten requests in one TCP segment; counts the server socket's writes of the replies. */
  async function repliesAndWrites(reply: (send: () => void) => void): Promise<number> {
    let writes = 0
    const gateway = await started(wsGateway(), {
      onConnect(conn) {
        const socket = (conn as unknown as { ws: { _socket: Record<string, unknown> } }).ws._socket
        for (const method of ['_write', '_writev'] as const) {
          const original = socket[method] as (...args: unknown[]) => unknown
          socket[method] = function (this: unknown, ...args: unknown[]) {
            writes++
            return original.apply(this, args)
          }
        }
      },
      onMessage: (conn, data) => reply(() => conn.send(data)),
      onClose() {},
    })
    const client = await connect(firstAddress(gateway))
    const socket = (client as unknown as { _socket: { cork(): void; uncork(): void } })._socket
    socket.cork()
    for (let i = 0; i < 10; i++) client.send(Uint8Array.of(i))
    socket.uncork()
    for (let i = 0; i < 10; i++) expect([...(await nextMessage(client)).data]).toEqual([i])
    return writes
  }

  it('sends the replies to one read in one write, from the handler or from a microtask', async () => {
    // (Loopback may split the ten frames over two reads: at most one write per read.)
    expect(await repliesAndWrites((send) => send())).toBeLessThanOrEqual(2)
    expect(await repliesAndWrites((send) => queueMicrotask(send))).toBeLessThanOrEqual(2)
  })
})
