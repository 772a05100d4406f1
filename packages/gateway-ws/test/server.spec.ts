import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { fastifyWsGateway, wsGateway } from '../src/index.js'
import {
  closeOf,
  connect,
  defer,
  firstAddress,
  fixture,
  nextMessage,
  Recorder,
  refusedStatus,
  started,
} from './helpers.js'

async function httpServer(): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_req, res) => res.end('hello'))
  defer(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port }
}

async function text(url: string): Promise<string> {
  const res = await fetch(url)
  return `${res.status} ${await res.text()}`
}

describe('wsGateway on an existing http.Server', () => {
  it('serves upgrades on its path, leaves other routes alone, and never closes the server', async () => {
    const { server, port } = await httpServer()
    const handlers = new Recorder()
    const gateway = await started(wsGateway({ server, path: '/ws' }), handlers)
    expect(gateway.addresses()).toEqual([`ws://127.0.0.1:${port}/ws`])
    const client = await connect(`ws://127.0.0.1:${port}/ws`)
    client.send(Buffer.from([1, 2]))
    expect([...(await nextMessage(client)).data]).toEqual([1, 2])
    expect(await text(`http://127.0.0.1:${port}/`)).toBe('200 hello')
    expect(await refusedStatus(`ws://127.0.0.1:${port}/elsewhere`)).toBe(404)

    const closed = closeOf(client)
    await gateway.stop()
    expect((await closed).code).toBe(1001)
    expect(server.listening).toBe(true)
    expect(server.listenerCount('upgrade')).toBe(0)
    expect(gateway.addresses()).toEqual([])
    expect(await text(`http://127.0.0.1:${port}/`)).toBe('200 hello')
  })

  it('shares one server between gateways on different paths', async () => {
    const { server, port } = await httpServer()
    const a = new Recorder()
    const b = new Recorder()
    await started(wsGateway({ server, path: '/a', name: 'ws-a' }), a)
    await started(wsGateway({ server, path: '/b', name: 'ws-b' }), b)
    await connect(`ws://127.0.0.1:${port}/a`)
    await connect(`ws://127.0.0.1:${port}/b`)
    await a.waitFor('connect')
    await b.waitFor('connect')
    expect(a.of('connect')).toHaveLength(1)
    expect(b.of('connect')).toHaveLength(1)
  })

  it('rejects host, port or tls together with server', async () => {
    const { server } = await httpServer()
    expect(() => wsGateway({ server, port: 1 })).toThrow(TypeError)
    expect(() => wsGateway({ server, host: '0.0.0.0' })).toThrow(TypeError)
  })
})

describe('wsGateway over TLS', () => {
  it('listens on wss:// with the given certificate', async () => {
    const handlers = new Recorder()
    const cert = fixture('cert.pem')
    const gateway = await started(
      wsGateway({ tls: { key: fixture('key.pem'), cert }, path: '/secure' }),
      handlers,
    )
    const url = firstAddress(gateway)
    expect(url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/secure$/)
    const client = await connect(url, { ca: cert })
    client.send(Buffer.from([7]))
    expect([...(await nextMessage(client)).data]).toEqual([7])
    const { conn } = await handlers.waitFor('connect')
    expect(conn.protocol).toBe('wss')
  })
})

describe('fastifyWsGateway', () => {
  it('mounts next to ordinary routes; the app owns the server', async () => {
    const app = Fastify()
    defer(() => app.close())
    app.get('/health', async () => ({ ok: true }))
    const gateway = fastifyWsGateway({ path: '/rpc', maxPayload: 1024 })
    await app.register(gateway.plugin)
    const handlers = new Recorder()
    gateway.attach(handlers)
    await gateway.start()
    expect(gateway.addresses()).toEqual([]) // not listening yet
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    expect(gateway.addresses()).toEqual([`ws://127.0.0.1:${port}/rpc`])
    expect(gateway.features.maxMessageSize).toBe(1024)

    const client = await connect(`ws://127.0.0.1:${port}/rpc`, { headers: { 'x-app': 'f' } })
    client.send(Buffer.from([4, 2]))
    expect([...(await nextMessage(client)).data]).toEqual([4, 2])
    const { conn, meta } = await handlers.waitFor('message')
    expect(meta.headers.get('x-app')).toBe('f')
    expect(conn).toMatchObject({ id: 1, protocol: 'ws', persistent: true })
    client.send('text')
    expect((await nextMessage(client)).isBinary).toBe(false) // a JSON message, echoed in kind
    expect(await text(`http://127.0.0.1:${port}/health`)).toBe('200 {"ok":true}')
    expect(await refusedStatus(`ws://127.0.0.1:${port}/nope`)).toBe(404)

    const tooBig = closeOf(client)
    client.send(Buffer.alloc(2048))
    expect((await tooBig).code).toBe(1009)
    await handlers.waitFor('close')

    const other = await connect(`ws://127.0.0.1:${port}/rpc`)
    const closed = closeOf(other)
    await gateway.stop()
    expect(await closed).toEqual({ code: 1001, reason: 'going away' })
    expect(handlers.of('close')).toHaveLength(2)
    expect(app.server.listening).toBe(true)
    expect(gateway.addresses()).toEqual([])
    expect(await refusedStatus(`ws://127.0.0.1:${port}/rpc`)).toBe(503)
    expect(await text(`http://127.0.0.1:${port}/health`)).toBe('200 {"ok":true}')
  })

  it('refuses upgrades beyond maxConnections with 503', async () => {
    const app = Fastify()
    defer(() => app.close())
    const gateway = fastifyWsGateway({ maxConnections: 1 })
    await app.register(gateway.plugin)
    gateway.attach(new Recorder())
    await gateway.start()
    await app.listen({ port: 0, host: '127.0.0.1' })
    const [url] = gateway.addresses()
    await connect(url!)
    expect(await refusedStatus(url!)).toBe(503)
  })

  it('reuses an @fastify/websocket the app registered, under a prefix', async () => {
    const app = Fastify()
    defer(() => app.close())
    await app.register(import('@fastify/websocket'))
    app.get('/other-ws', { websocket: true }, (socket) => socket.send('other'))
    const gateway = fastifyWsGateway({ path: '/rpc' })
    await app.register(
      async (v1) => {
        await v1.register(gateway.plugin)
      },
      { prefix: '/v1' },
    )
    const handlers = new Recorder()
    gateway.attach(handlers)
    await gateway.start()
    await app.listen({ port: 0, host: '127.0.0.1' })
    const [url] = gateway.addresses()
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v1\/rpc$/)
    const client = await connect(url!)
    client.send(Buffer.from([1]))
    expect([...(await nextMessage(client)).data]).toEqual([1])
    const other = await connect(url!.replace('/v1/rpc', '/other-ws'))
    expect((await nextMessage(other)).data.toString()).toBe('other')
  })

  it('stops with the app', async () => {
    const app = Fastify()
    const gateway = fastifyWsGateway()
    await app.register(gateway.plugin)
    const handlers = new Recorder()
    gateway.attach(handlers)
    await gateway.start()
    await app.listen({ port: 0, host: '127.0.0.1' })
    const client = await connect(gateway.addresses()[0]!)
    await handlers.waitFor('connect')
    const closed = closeOf(client)
    await app.close()
    expect((await closed).code).toBe(1001)
    expect(handlers.of('close')[0]?.reason).toMatchObject({ initiator: 'local', code: 1001 })
    await gateway.stop() // already stopped: no-op
  })
})
