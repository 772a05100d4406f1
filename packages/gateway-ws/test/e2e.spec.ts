import { type Client, type ClientInit, type CloseInfo, createClient } from '@rony/client'
import { createEdge, type Edge } from '@rony/edge'
import { C_Ping, constructorOf, RonyError, rony } from '@rony/envelope'
import {
  Echo,
  EchoReply,
  Fail,
  PushMany,
  registerTestServices,
  type ServiceProbe,
} from '@rony/testing'
import { describe, expect, it, vi } from 'vitest'
import { type WsGatewayInit, wsGateway } from '../src/index.js'
import { defer, firstAddress } from './helpers.js'

// The real client against a real edge over a real socket: what an application sees.

/** Fast, deterministic backoff, so reconnect tests do not wait for the defaults. */
const fastReconnect = { initialDelay: 20, maxDelay: 100, factor: 2, jitter: 0 }

interface Started {
  edge: Edge
  probe: ServiceProbe
  url: string
  port: number
}

/** An edge with the test services on one ws gateway; stopped after the test. */
async function startEdge(
  id: string,
  init: WsGatewayInit = {},
  setup: (edge: Edge) => void = () => {},
): Promise<Started> {
  const gateway = wsGateway({ port: 0, ...init })
  const edge = createEdge({ id, gateways: [gateway] })
  const probe = registerTestServices(edge)
  setup(edge)
  defer(() => edge.stop({ timeout: 1_000 }))
  await edge.start()
  const url = firstAddress(gateway)
  return { edge, probe, url, port: Number(new URL(url).port) }
}

/** A client with EchoReply registered (so pushes decode); closed after the test. */
function client(url: string, init: ClientInit = {}): Client {
  const c = createClient(url, { keepalive: false, reconnect: fastReconnect, ...init })
  c.registry.register(EchoReply)
  defer(() => c.close())
  return c
}

function echo(text: string, delayMs = 0): Echo {
  return Echo.create({ Text: text, DelayMs: delayMs })
}

/** Counts the edge's connections as they open. */
function countConnections(edge: Edge): { opened: number; closed: number } {
  const counts = { opened: 0, closed: 0 }
  edge.on('connection:open', () => counts.opened++)
  edge.on('connection:close', () => counts.closed++)
  return counts
}

describe('client ↔ edge over ws: requests', () => {
  it('answers a request with its reply, typed or decoded through the registry', async () => {
    const { url } = await startEdge('e2e')
    const c = client(url)
    const reply = await c.request(
      Echo.create({ Text: 'hello', Payload: Uint8Array.of(1, 2, 3) }),
      EchoReply,
    )
    expect(reply).toBeInstanceOf(EchoReply)
    expect([reply.Text, [...reply.Payload], reply.ServerID]).toEqual(['hello', [1, 2, 3], 'e2e'])
    // Without a response type the registry decodes it (EchoReply is registered).
    const untyped = await c.request(echo('untyped'))
    expect(untyped).toBeInstanceOf(EchoReply)
    expect((untyped as EchoReply).Text).toBe('untyped')
    // The built-in Ping of every edge.
    const pong = await c.request(rony.Ping.create({ ID: 42 }), rony.Pong)
    expect(pong.ID.toString()).toBe('42')
    expect(c.state).toBe('open')
  })

  it('serves 200 concurrent requests from one client on one connection', async () => {
    const { edge, probe, url } = await startEdge('e2e')
    const connections = countConnections(edge)
    const c = client(url)
    const texts = Array.from({ length: 200 }, (_, i) => `request ${i}`)
    const replies = await Promise.all(
      texts.map((text, i) => c.request(echo(text, i % 5), EchoReply)),
    )
    expect(replies.map((r) => r.Text)).toEqual(texts)
    expect(probe.started).toBe(200)
    expect(connections.opened).toBe(1)
  })

  it('serves 20 clients × 20 concurrent requests', async () => {
    const { edge, probe, url } = await startEdge('e2e')
    const connections = countConnections(edge)
    const clients = Array.from({ length: 20 }, () => client(url))
    const results = await Promise.all(
      clients.map((c, k) =>
        Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            c.request(echo(`client ${k} request ${i}`, (i + k) % 4), EchoReply),
          ),
        ),
      ),
    )
    results.forEach((replies, k) => {
      expect(replies.map((r) => r.Text)).toEqual(
        Array.from({ length: 20 }, (_, i) => `client ${k} request ${i}`),
      )
    })
    expect(probe.started).toBe(400)
    expect(connections.opened).toBe(20)
  })

  // Containers are not covered here: the client has no API to send one (the compliance
  // suite and malformed.spec.ts send them raw).
})

describe('client ↔ edge over ws: server pushes', () => {
  it("delivers PushMany's updates to on('update') before the reply", async () => {
    const { url } = await startEdge('e2e')
    const c = client(url)
    const updates: Array<{ text: string; requestId: bigint; ctor: bigint; typed: boolean }> = []
    c.on('update', (update) => {
      updates.push({
        text: (update.message as EchoReply).Text,
        requestId: update.envelope.requestId,
        ctor: update.ctor,
        typed: update.type === EchoReply,
      })
    })
    const reply = await c.request(PushMany.create({ Count: 5, Text: 'p' }), EchoReply)
    expect(reply.Text).toBe('p')
    // Pushed before the reply on the same socket, so all of them are in already.
    expect(updates).toEqual(
      [0, 1, 2, 3, 4].map((i) => ({
        text: `p#${i}`,
        requestId: 0n,
        ctor: constructorOf('EchoReply'),
        typed: true,
      })),
    )
  })

  it('delivers them through client.updates() too', async () => {
    const { url } = await startEdge('e2e')
    const c = client(url)
    const iterator = c.updates()
    const collected = (async () => {
      const texts: string[] = []
      for await (const update of iterator) {
        texts.push((update.message as EchoReply).Text)
        if (texts.length === 5) break
      }
      return texts
    })()
    await c.request(PushMany.create({ Count: 5, Text: 'it' }), EchoReply)
    expect(await collected).toEqual(['it#0', 'it#1', 'it#2', 'it#3', 'it#4'])
  })
})

describe('client ↔ edge over ws: errors', () => {
  it('rejects with the RonyError a handler throws (E07), and the connection stays', async () => {
    const { edge, url } = await startEdge('e2e')
    const connections = countConnections(edge)
    const c = client(url)
    const error = await c
      .request(Fail.create({ Code: 'E07', Items: 'ADMIN' }), EchoReply)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RonyError)
    expect(error).toMatchObject({
      wireCode: 'E07',
      items: 'ADMIN',
      description: 'failed on request',
      status: 403,
      code: 'RONY_ERR_ACCESS',
    })
    expect((await c.request(echo('still open'), EchoReply)).Text).toBe('still open')
    expect(connections.opened).toBe(1)
  })

  it('turns a plain failure into E00/SERVER without leaking its message', async () => {
    const { edge, url } = await startEdge('e2e')
    const reported: unknown[] = []
    edge.on('handler:error', (error) => reported.push(error))
    const c = client(url)
    const error = await c.request(Fail.create({}), EchoReply).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RonyError)
    expect(error).toMatchObject({
      wireCode: 'E00',
      items: 'SERVER',
      status: 500,
      code: 'RONY_ERR_INTERNAL',
    })
    expect((error as RonyError).description).not.toContain('a plain failure')
    expect(reported).toHaveLength(1)
    expect((reported[0] as Error).message).toBe('a plain failure')
    expect((await c.request(echo('after'), EchoReply)).Text).toBe('after')
  })
})

describe('client ↔ edge over ws: stop and restart', () => {
  it('stops gracefully: the request in flight resolves, then the client reconnects', async () => {
    const { edge, probe, url } = await startEdge('e2e')
    const c = client(url)
    await c.connect()
    const order: string[] = []
    const closes: CloseInfo[] = []
    c.on('close', (info) => {
      order.push('close')
      closes.push(info)
    })
    const reply = c.request(echo('in flight', 200), EchoReply).then((r) => {
      order.push('reply')
      return r
    })
    await vi.waitFor(() => expect(probe.started).toBe(1))
    const stopping = edge.stop({ timeout: 5_000 })
    expect((await reply).Text).toBe('in flight')
    await stopping
    await vi.waitFor(() => expect(c.state).toBe('reconnecting'))
    expect(order).toEqual(['reply', 'close'])
    expect(closes).toEqual([{ code: 1001, reason: 'going away', reconnecting: true }])
    expect(probe.aborted).toBe(0)
  })

  it('answers a request that arrives while the edge drains with E02/SERVER', async () => {
    const { edge, probe, url } = await startEdge('e2e')
    const c = client(url)
    const holder = c.request(echo('holds the drain open', 1_000), EchoReply)
    await vi.waitFor(() => expect(probe.started).toBe(1))
    const stopping = edge.stop({ timeout: 5_000 })
    const late = await c.request(echo('late'), EchoReply).catch((e: unknown) => e)
    expect(late).toBeInstanceOf(RonyError)
    expect(late).toMatchObject({ wireCode: 'E02', items: 'SERVER', status: 503 })
    expect((await holder).Text).toBe('holds the drain open')
    await stopping
    expect(probe.started).toBe(1)
  })

  it('reconnects to an edge restarted on the same port; an idempotent request in flight is re-sent', async () => {
    // On the first edge, Echo 'stuck' hangs in a middleware that ignores ctx.signal (a
    // handler stuck on I/O): stop() gives up on it after its timeout and closes the
    // connection without a reply, so the request is in flight across the restart.
    let held = 0
    let release = (): void => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    defer(() => release())
    const first = await startEdge('edge1', {}, (edge) =>
      edge.use(async (ctx, next) => {
        if (ctx.request instanceof Echo && ctx.request.Text === 'stuck') {
          held++
          await gate
        }
        await next()
      }),
    )
    const c = client(first.url)
    const closes: CloseInfo[] = []
    c.on('close', (info) => closes.push(info))
    let failedAttempts = 0
    c.on('reconnecting', (info) => {
      if (info.attempt >= 2) failedAttempts++
    })

    const idempotent = c.request(echo('stuck'), EchoReply, { idempotent: true })
    const plain = c.request(echo('stuck'), EchoReply).catch((e: unknown) => e)
    await vi.waitFor(() => expect(held).toBe(2))

    await first.edge.stop({ timeout: 100 })
    expect(await plain).toMatchObject({ code: 'RONY_ERR_CONNECTION_LOST', wireCode: 'E02' })
    expect(closes).toEqual([{ code: 1001, reason: 'going away', reconnecting: true }])
    // At least one attempt failed against the closed port before the restart.
    await vi.waitFor(() => expect(failedAttempts).toBeGreaterThan(0))
    expect(c.state).toBe('reconnecting')
    // Made while down: not sent yet, it waits for the connection.
    const queued = c.request(echo('queued while down'), EchoReply)

    const second = await startEdge('edge2', { port: first.port })
    expect(second.url).toBe(first.url)

    const reply = await idempotent
    expect([reply.Text, reply.ServerID]).toEqual(['stuck', 'edge2'])
    expect(await queued).toMatchObject({ Text: 'queued while down', ServerID: 'edge2' })
    expect(second.probe.started).toBe(2)
    expect(c.state).toBe('open')
    expect((await c.request(echo('after'), EchoReply)).ServerID).toBe('edge2')
  })
})

describe('client ↔ edge over ws: keepalive', () => {
  it('exchanges rony.Ping/Pong with the edge without a spurious reconnect', async () => {
    let pings = 0
    const { edge, url } = await startEdge('e2e', { pingInterval: 100 }, (e) =>
      e.use((ctx, next) => {
        if (ctx.ctor === C_Ping) pings++
        return next()
      }),
    )
    const connections = countConnections(edge)
    const c = client(url, { keepalive: 100, timeout: 1_000 })
    const closes: CloseInfo[] = []
    c.on('close', (info) => closes.push(info))
    const reconnects: unknown[] = []
    c.on('reconnecting', (info) => reconnects.push(info))
    await c.connect()
    // About a second of 100 ms keepalives, each answered by the edge's built-in Pong.
    await vi.waitFor(() => expect(pings).toBeGreaterThanOrEqual(8), {
      timeout: 10_000,
      interval: 20,
    })
    expect(closes).toEqual([])
    expect(reconnects).toEqual([])
    expect(c.state).toBe('open')
    expect(connections).toEqual({ opened: 1, closed: 0 })
    expect(edge.connectionCount).toBe(1)
    expect((await c.request(echo('alive'), EchoReply)).Text).toBe('alive')
  })
})
