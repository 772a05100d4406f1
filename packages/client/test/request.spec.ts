import {
  C_Edges,
  C_Error,
  C_Ping,
  C_Pong,
  C_Redirect,
  constructorOf,
  type Envelope,
  RonyError,
  rony,
} from '@rony/envelope'
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest'
import { type Client, createClient } from '../src/index.js'
import {
  C_EchoRequest,
  C_EchoResponse,
  containerFrame,
  EchoRequest,
  EchoResponse,
  sleep,
  startServer,
  type TestServer,
} from './helpers/server.js'

let server: TestServer
let client: Client

beforeEach(async () => {
  server = await startServer()
  client = createClient(server.url, { keepalive: false })
})

afterEach(async () => {
  await client.close()
  await server.close()
})

describe('request / reply', () => {
  it('sends a static-class request and decodes the reply as the given type', async () => {
    const pong = await client.request(rony.Ping.create({ ID: 42 }), rony.Pong)
    expectTypeOf(pong).toEqualTypeOf<rony.Pong & rony.Pong.$Shape>()
    expect(pong).toBeInstanceOf(rony.Pong)
    expect(pong.ID.toString()).toBe('42')
    const [request] = server.received
    expect(request?.ctor).toBe(C_Ping)
    expect(request?.requestId).not.toBe(0n)
  })

  it('sends a reflected-type request (Type.create) and decodes with a reflected response type', async () => {
    const reply = await client.request(EchoRequest.create({ text: 'hello' }), EchoResponse)
    expect((reply as unknown as { text: string }).text).toBe('hello')
    expect(server.received[0]?.ctor).toBe(C_EchoRequest)
    expect(EchoRequest.decode(server.received[0]!.message).toJSON()).toEqual({ text: 'hello' })
  })

  it('without a response type, decodes through the registry by constructor', async () => {
    const reply = await client.request(rony.Ping.create({ ID: 7 }))
    expect(reply).toBeInstanceOf(rony.Pong)
    client.registry.register(EchoResponse)
    const echo = await client.request(EchoRequest.create({ text: 'x' }))
    expect(echo).toBeInstanceOf(EchoResponse.ctor)
  })

  it('resolves with the raw envelope when the reply constructor is not registered', async () => {
    const reply = (await client.request(EchoRequest.create({ text: 'raw' }))) as Envelope
    expect(reply.ctor).toBe(C_EchoResponse)
    expect(reply.requestId).toBe(server.received[0]?.requestId)
    expect(EchoResponse.decode(reply.message).toJSON()).toEqual({ text: 'raw' })
  })

  it('rejects with the server error as RonyError (wire code, items, code, status)', async () => {
    server.script = (request, socket) =>
      server.replyError(socket, request, 'E07', 'USER', 'only admins')
    const error = await client.request(rony.Ping.create({ ID: 1 }), rony.Pong).catch((e) => e)
    expect(error).toBeInstanceOf(RonyError)
    expect(error).toMatchObject({
      wireCode: 'E07',
      items: 'USER',
      description: 'only admins',
      code: 'RONY_ERR_ACCESS',
      status: 403,
    })
  })

  it('rejects a reply of another type than the one asked for', async () => {
    server.script = (request, socket) =>
      server.reply(socket, request, C_Edges, rony.Edges.encode({}).finish())
    await expect(client.request(rony.Ping.create({ ID: 1 }), rony.Pong)).rejects.toMatchObject({
      code: 'RONY_ERR_UNEXPECTED_RESPONSE',
      wireCode: 'E01',
      message: expect.stringContaining('Edges'),
    })
  })

  it('rejects a Redirect answer (a clustered follower) with RONY_ERR_REDIRECTED naming the leader', async () => {
    const edges = [{ ReplicaSet: 1, ServerID: 'n2', HostPorts: ['ws://127.0.0.1:9102/'] }]
    server.script = (request, socket) =>
      server.reply(socket, request, C_Redirect, rony.Redirect.encode({ Edges: edges }).finish())
    const error = await client.request(rony.Ping.create({ ID: 1 }), rony.Pong).catch((e) => e)
    expect(error).toBeInstanceOf(RonyError)
    expect(error).toMatchObject({
      code: 'RONY_ERR_REDIRECTED',
      wireCode: 'E02',
      items: 'REDIRECT',
      message: expect.stringContaining('n2 (ws://127.0.0.1:9102/)'),
      edges: [expect.objectContaining({ ServerID: 'n2', HostPorts: ['ws://127.0.0.1:9102/'] })],
    })
    // Asked for as the reply type, a Redirect is a reply like any other.
    const asked = await client.request(rony.Ping.create({ ID: 1 }), rony.Redirect)
    expect(asked.Edges[0]?.ServerID).toBe('n2')
  })

  it('rejects a reply whose payload does not decode with E01', async () => {
    server.script = (request, socket) =>
      server.reply(socket, request, C_Pong, new Uint8Array([0x12, 0x05, 0x01]))
    await expect(client.request(rony.Ping.create({ ID: 1 }), rony.Pong)).rejects.toMatchObject({
      code: 'RONY_ERR_INVALID_MESSAGE',
      wireCode: 'E01',
    })
  })

  it('sends the default and per-request headers and auth', async () => {
    await client.close()
    client = createClient(server.url, {
      keepalive: false,
      header: { app: 'test', lang: 'en' },
      auth: 'token-1',
    })
    await client.request(rony.Ping.create({ ID: 1 }))
    await client.request(rony.Ping.create({ ID: 2 }), undefined, {
      header: [{ key: 'lang', value: 'fa' }],
      auth: new Uint8Array([1, 2, 3]),
    })
    const [first, second] = server.received
    expect(first?.header).toEqual([
      { key: 'app', value: 'test' },
      { key: 'lang', value: 'en' },
    ])
    expect(new TextDecoder().decode(first?.auth)).toBe('token-1')
    expect(second?.header).toEqual([
      { key: 'app', value: 'test' },
      { key: 'lang', value: 'fa' },
    ])
    expect([...(second?.auth ?? [])]).toEqual([1, 2, 3])
  })

  it('numbers requests from a random 53-bit start, consecutively, never 0', async () => {
    await client.close()
    client = createClient(server.url, { keepalive: false, random: { next: () => 0 } })
    await client.request(rony.Ping.create({ ID: 1 }))
    await client.request(rony.Ping.create({ ID: 2 }))
    expect(server.received.map((r) => r.requestId)).toEqual([1n, 2n])

    const other = createClient(server.url, { keepalive: false, random: { next: () => 0.999999 } })
    await other.request(rony.Ping.create({ ID: 3 }))
    await other.close()
    const id = server.received[2]!.requestId
    expect(id).toBeGreaterThan(2n ** 52n)
    expect(id).toBeLessThanOrEqual(2n ** 53n)
  })

  it('correlates 500 concurrent requests answered in reverse order', async () => {
    const held: (() => void)[] = []
    server.script = (request, socket, s) => {
      held.push(() =>
        s.reply(
          socket,
          request,
          C_EchoResponse,
          EchoResponse.encode({
            text: (EchoRequest.decode(request.message) as unknown as { text: string }).text,
          }).finish(),
        ),
      )
      if (held.length === 500) for (const answer of held.reverse()) answer()
    }
    const replies = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        client.request(EchoRequest.create({ text: `n${i}` }), EchoResponse),
      ),
    )
    expect(replies.map((r) => (r as unknown as { text: string }).text)).toEqual(
      Array.from({ length: 500 }, (_, i) => `n${i}`),
    )
    expect(new Set(server.received.map((r) => r.requestId)).size).toBe(500)
  })

  it('unwraps a container reply and settles each inner reply', async () => {
    const requests: Envelope[] = []
    server.script = (request, socket, s) => {
      requests.push(request)
      if (requests.length < 3) return
      const [a, b, c] = requests as [Envelope, Envelope, Envelope]
      s.send(
        socket,
        containerFrame([
          { ctor: C_Pong, requestId: c.requestId, message: rony.Pong.encode({ ID: 3 }).finish() },
          {
            ctor: C_Error,
            requestId: a.requestId,
            message: rony.Error.encode({ Code: 'E09', Items: 'BUSY' }).finish(),
          },
          { ctor: C_Pong, requestId: b.requestId, message: rony.Pong.encode({ ID: 2 }).finish() },
        ]),
      )
    }
    const [first, second, third] = await Promise.allSettled([
      client.request(rony.Ping.create({ ID: 1 }), rony.Pong),
      client.request(rony.Ping.create({ ID: 2 }), rony.Pong),
      client.request(rony.Ping.create({ ID: 3 }), rony.Pong),
    ])
    expect(first).toMatchObject({ status: 'rejected', reason: { wireCode: 'E09', items: 'BUSY' } })
    expect(second).toMatchObject({ status: 'fulfilled' })
    expect(third).toMatchObject({ status: 'fulfilled' })
    if (second?.status === 'fulfilled') expect(second.value.ID.toString()).toBe('2')
    if (third?.status === 'fulfilled') expect(third.value.ID.toString()).toBe('3')
  })

  it('connects lazily and reports its state', async () => {
    expect(client.state).toBe('idle')
    const reply = client.request(rony.Ping.create({ ID: 1 }))
    expect(client.state).toBe('connecting')
    await reply
    expect(client.state).toBe('open')
    await client.connect() // already open: resolves at once
    await client.close()
    expect(client.state).toBe('closed')
  })
})

describe('timeouts and abort', () => {
  it('rejects with E06 RONY_ERR_TIMEOUT when no reply comes in time, and drops the late reply', async () => {
    const started = Date.now()
    const error = await client
      .request(EchoRequest.create({ text: 'slow', delayMs: 300 }), EchoResponse, { timeout: 150 })
      .catch((e) => e)
    expect(error).toBeInstanceOf(RonyError)
    expect(error).toMatchObject({ wireCode: 'E06', items: 'TIMEOUT', code: 'RONY_ERR_TIMEOUT' })
    expect(error.message).toContain('EchoRequest')
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    expect(Date.now() - started).toBeLessThan(2000)
    await sleep(200) // the reply arrives now, for a request nobody waits for
    const fast = await client.request(EchoRequest.create({ text: 'fast' }), EchoResponse)
    expect((fast as unknown as { text: string }).text).toBe('fast')
  })

  it('times out each request on its own deadline with one sweep timer', async () => {
    server.script = () => {}
    const order: number[] = []
    await Promise.allSettled(
      [300, 100, 200].map((timeout) =>
        client
          .request(rony.Ping.create({ ID: timeout }), rony.Pong, { timeout })
          .catch(() => order.push(timeout)),
      ),
    )
    expect(order).toEqual([100, 200, 300])
  })

  it('rejects with signal.reason on abort and drops the late reply', async () => {
    const replies: (() => void)[] = []
    server.script = (request, socket, s) =>
      replies.push(() => s.reply(socket, request, C_Pong, rony.Pong.encode({ ID: 1 }).finish()))
    const controller = new AbortController()
    const request = client.request(rony.Ping.create({ ID: 1 }), rony.Pong, {
      signal: controller.signal,
    })
    await vi_waitFor(() => replies.length === 1)
    const reason = new Error('user gave up')
    controller.abort(reason)
    await expect(request).rejects.toBe(reason)
    replies[0]!() // the late reply must be dropped without trouble
    await expect(
      client.request(rony.Ping.create({ ID: 2 }), rony.Pong, { timeout: 100 }),
    ).rejects.toMatchObject({ code: 'RONY_ERR_TIMEOUT' })
  })

  it('rejects at once with the reason of an already aborted signal', async () => {
    const error = await client
      .request(rony.Ping.create({ ID: 1 }), rony.Pong, { signal: AbortSignal.abort() })
      .catch((e) => e)
    expect(error).toBeInstanceOf(DOMException)
    expect(error.name).toBe('AbortError')
    expect(server.received).toHaveLength(0)
  })
})

describe('argument checks and limits', () => {
  it('rejects a plain object with a TypeError', async () => {
    await expect(client.request({ ID: 1 })).rejects.toThrow(TypeError)
    await expect(client.request(rony.Ping as unknown as object)).rejects.toThrow(TypeError)
    await expect(client.request(null as unknown as object)).rejects.toThrow(TypeError)
  })

  it('refuses URLs of schemes it does not speak', () => {
    expect(() => createClient('ftp://127.0.0.1:8080/')).toThrow(TypeError)
    expect(() => createClient('ftp://127.0.0.1:8080/')).toThrow(/unsupported scheme 'ftp:'/)
    expect(() => createClient('http://127.0.0.1:8080/')).not.toThrow()
    // Multiaddrs are QUIC (Node only; libp2p is loaded on the first dial, not here).
    expect(() => createClient('/ip4/127.0.0.1/udp/1/quic-v1')).not.toThrow()
    expect(() => createClient('/ip4/127.0.0.1/tcp/1')).toThrow(/not a QUIC multiaddr/)
    expect(() => createClient('not a url')).toThrow(TypeError)
    expect(() => createClient('wss://example.com/rony')).not.toThrow()
  })

  it('rejects options out of range', () => {
    expect(() => createClient(server.url, { timeout: 0 })).toThrow(RangeError)
    expect(() => createClient(server.url, { maxPending: 0 })).toThrow(RangeError)
    expect(() => createClient(server.url, { reconnect: { factor: 0.5 } })).toThrow(RangeError)
  })

  it('rejects requests beyond maxPending with E03', async () => {
    await client.close()
    client = createClient(server.url, { keepalive: false, maxPending: 3 })
    server.script = () => {}
    const held = [1, 2, 3].map((id) =>
      client.request(rony.Ping.create({ ID: id }), rony.Pong, { timeout: 500 }).catch((e) => e),
    )
    await expect(client.request(rony.Ping.create({ ID: 4 }))).rejects.toMatchObject({
      wireCode: 'E03',
      code: 'RONY_ERR_TOO_MANY_PENDING',
    })
    await client.close()
    for (const error of await Promise.all(held)) {
      expect(error).toMatchObject({ code: 'RONY_ERR_CLIENT_CLOSED' })
    }
  })

  it('answers requests of an unknown constructor with the edge E01 HANDLER error', async () => {
    const error = await client.request(rony.GetNodes.create({})).catch((e) => e)
    expect(error).toMatchObject({ wireCode: 'E01', items: 'HANDLER' })
    expect(server.received[0]?.ctor).toBe(constructorOf('GetNodes'))
  })
})

async function vi_waitFor(predicate: () => boolean): Promise<void> {
  while (!predicate()) await sleep(5)
}
