import { isCodedError } from '@rony/interface'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WS_GATEWAY_DEFAULTS, wsGateway } from '../src/index.js'
import {
  closeOf,
  connect,
  defer,
  firstAddress,
  nextMessage,
  openHandles,
  Recorder,
  started,
} from './helpers.js'

describe('wsGateway lifecycle', () => {
  it('declares its name and features', () => {
    const gateway = wsGateway({ maxPayload: 4096 })
    expect(gateway.name).toBe('ws')
    expect(gateway.features).toEqual({ serverPush: true, json: true, maxMessageSize: 4096 })
    expect(wsGateway({ name: 'ws2' }).name).toBe('ws2')
    expect(wsGateway().features.maxMessageSize).toBe(WS_GATEWAY_DEFAULTS.maxPayload)
    expect(WS_GATEWAY_DEFAULTS.maxPayload).toBe(1024 * 1024)
  })

  it('rejects start() before attach() with RONY_ERR_NOT_ATTACHED, and can start after', async () => {
    const gateway = wsGateway()
    defer(() => gateway.stop())
    const err = await Promise.resolve(gateway.start()).catch((e: unknown) => e)
    expect(isCodedError(err, 'RONY_ERR_NOT_ATTACHED')).toBe(true)
    expect(gateway.addresses()).toEqual([])
    gateway.attach(new Recorder())
    await gateway.start()
    expect(gateway.addresses()).toHaveLength(1)
  })

  it('reports addresses only while started; a second start() is a no-op', async () => {
    const gateway = wsGateway({ path: '/rpc' })
    expect(gateway.addresses()).toEqual([])
    gateway.attach(new Recorder())
    const first = gateway.start()
    const second = gateway.start()
    await Promise.all([first, second])
    await gateway.start()
    const addresses = gateway.addresses()
    expect(addresses).toHaveLength(1)
    expect(addresses[0]).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/rpc$/)
    expect(addresses[0]).not.toMatch(/:0\//)
    addresses.push('mutated')
    expect(gateway.addresses()).toHaveLength(1) // a fresh array each time
    await gateway.stop()
    expect(gateway.addresses()).toEqual([])
    await gateway.stop() // second stop: no-op
  })

  it('puts IPv6 hosts in brackets', async () => {
    const gateway = await started(wsGateway({ host: '::1' }), new Recorder())
    expect(firstAddress(gateway)).toMatch(/^ws:\/\/\[::1\]:\d+\/$/)
    const client = await connect(firstAddress(gateway))
    client.send(Buffer.from([1]))
    expect((await nextMessage(client)).data).toEqual(Buffer.from([1]))
  })

  it('stop() closes every connection with 1001 and resolves after each onClose', async () => {
    const handlers = new Recorder()
    const before = openHandles()
    const gateway = wsGateway()
    gateway.attach(handlers)
    await gateway.start()
    const url = firstAddress(gateway)
    const clients = await Promise.all([connect(url), connect(url), connect(url)])
    await handlers.waitFor('connect', () => handlers.of('connect').length === 3)
    const closes = clients.map(closeOf)

    await gateway.stop()

    expect(handlers.of('close')).toHaveLength(3)
    for (const { conn, reason } of handlers.of('close')) {
      expect(conn.closed).toBe(true)
      expect(reason).toEqual({ initiator: 'local', code: 1001, reason: 'going away' })
    }
    for (const close of await Promise.all(closes)) {
      expect(close).toEqual({ code: 1001, reason: 'going away' })
    }
    expect(gateway.addresses()).toEqual([])
    // No server, socket or timer left behind (the clients' sockets closed with the handshake).
    const after = openHandles()
    for (const kind of ['TCPServerWrap', 'TCPSocketWrap', 'Timeout']) {
      expect(after[kind] ?? 0, kind).toBeLessThanOrEqual(before[kind] ?? 0)
    }
    // The listener is gone: a new client is refused at the TCP level.
    const refused = new WebSocket(url)
    await expect(new Promise((_, reject) => refused.once('error', reject))).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    })
  })

  it('stop() terminates peers that never finish the closing handshake', async () => {
    const handlers = new Recorder()
    const gateway = wsGateway({ stopTimeout: 100 })
    gateway.attach(handlers)
    await gateway.start()
    const client = await connect(firstAddress(gateway))
    await handlers.waitFor('connect')
    client.pause() // reads nothing, so never answers the close frame
    await gateway.stop()
    expect(handlers.of('close')).toHaveLength(1)
    expect(handlers.of('close')[0]?.reason).toMatchObject({ initiator: 'local', code: 1001 })
  })

  it('can be started again after stop(), with fresh connection ids', async () => {
    const handlers = new Recorder()
    const gateway = await started(wsGateway(), handlers)
    await connect(firstAddress(gateway))
    await handlers.waitFor('connect')
    await gateway.stop()
    await gateway.start()
    await connect(firstAddress(gateway))
    await handlers.waitFor('connect', (e) => e.conn.id === 2)
    expect(handlers.of('connect').map((e) => e.conn.id)).toEqual([1, 2])
  })

  it('rejects start() when the port is taken, and stays stoppable', async () => {
    const first = await started(wsGateway(), new Recorder())
    const port = Number(new URL(firstAddress(first)).port)
    const second = wsGateway({ port })
    second.attach(new Recorder())
    await expect(second.start()).rejects.toMatchObject({ code: 'EADDRINUSE' })
    expect(second.addresses()).toEqual([])
    await second.stop()
  })

  it('validates options', () => {
    expect(() => wsGateway({ path: 'rpc' })).toThrow(TypeError)
    expect(() => wsGateway({ port: 70_000 })).toThrow(RangeError)
    expect(() => wsGateway({ maxPayload: 0 })).toThrow(RangeError)
    expect(() => wsGateway({ idleTimeout: -1 })).toThrow(RangeError)
    expect(() => wsGateway({ highWaterMark: 10, maxBufferedBytes: 5 })).toThrow(RangeError)
    expect(() => wsGateway({ server: {} as never, port: 1 })).toThrow(TypeError)
    const init = { port: 0 }
    wsGateway(init)
    expect(init).toEqual({ port: 0 }) // the caller's object is not touched
  })
})
