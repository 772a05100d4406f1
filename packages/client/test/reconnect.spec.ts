import * as http from 'node:http'
import { type AddressInfo, createServer, type Server } from 'node:net'
import { C_Ping, C_Pong, RonyError, rony } from '@rony/envelope'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket as WsWebSocket } from 'ws'
import {
  type Client,
  type ClientInit,
  type CloseInfo,
  createClient,
  type ReconnectInfo,
} from '../src/index.js'
import { sleep, startServer, type TestServer, waitFor } from './helpers/server.js'

// Everything a test opens is registered here and closed after it, pass or fail.
const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
})

async function server(port = 0): Promise<TestServer> {
  const s = await startServer(undefined, port)
  cleanups.push(() => s.close())
  return s
}

function client(url: string, init: ClientInit = {}): Client {
  const c = createClient(url, { keepalive: false, ...init })
  cleanups.push(() => c.close())
  return c
}

/** A port with nothing listening on it (a server was there a moment ago). */
async function freePort(): Promise<number> {
  const s = await startServer()
  await s.close()
  return s.port
}

const fastReconnect = { initialDelay: 10, maxDelay: 50, factor: 2, jitter: 0 }

describe('disconnects', () => {
  it('rejects a request in flight with RONY_ERR_CONNECTION_LOST and reconnects', async () => {
    const s = await server()
    const c = client(s.url, { reconnect: fastReconnect })
    const closes: CloseInfo[] = []
    c.on('close', (info) => closes.push(info))
    s.script = () => s.dropAll()
    const error = await c.request(rony.Ping.create({ ID: 1 }), rony.Pong).catch((e) => e)
    expect(error).toBeInstanceOf(RonyError)
    expect(error).toMatchObject({
      wireCode: 'E02',
      items: 'CONNECTION',
      code: 'RONY_ERR_CONNECTION_LOST',
    })
    expect(closes).toEqual([{ code: 1006, reason: '', reconnecting: true }])
    expect(c.state).toBe('reconnecting')
    await waitFor(() => c.state === 'open')
    expect(s.connections).toBe(2)
  })

  it('re-sends an idempotent request after reconnecting, with the same request id', async () => {
    const s = await server()
    const c = client(s.url, { reconnect: fastReconnect })
    let calls = 0
    s.script = (request, socket, srv) => {
      calls++
      if (calls === 1) srv.dropAll()
      else srv.reply(socket, request, C_Pong, rony.Pong.encode({ ID: 8 }).finish())
    }
    const pong = await c.request(rony.Ping.create({ ID: 8 }), rony.Pong, { idempotent: true })
    expect(pong.ID.toString()).toBe('8')
    expect(s.received).toHaveLength(2)
    expect(s.received[1]?.requestId).toBe(s.received[0]?.requestId)
    expect(s.connections).toBe(2)
  })

  it('keeps an idempotent re-send bounded by its timeout', async () => {
    const s = await server()
    const c = client(s.url, { reconnect: fastReconnect })
    s.script = (_request, _socket, srv) => srv.dropAll() // never answers
    const pending = c.request(rony.Ping.create({ ID: 1 }), rony.Pong, {
      idempotent: true,
      timeout: 2_000,
    })
    pending.catch(() => {})
    // Re-sent after each reconnect, and still bounded by its own timeout.
    await waitFor(() => s.received.length >= 2)
    await expect(pending).rejects.toMatchObject({ code: 'RONY_ERR_TIMEOUT' })
  })

  it('holds requests made while reconnecting until the connection is back', async () => {
    const s = await server()
    const c = client(s.url, { reconnect: { ...fastReconnect, initialDelay: 100, maxDelay: 100 } })
    await c.connect()
    s.dropAll()
    await waitFor(() => c.state === 'reconnecting')
    const pong = await c.request(rony.Ping.create({ ID: 3 }), rony.Pong)
    expect(pong.ID.toString()).toBe('3')
    expect(s.connections).toBe(2)
  })

  it('with reconnect: false, rejects even idempotent requests and dials again on demand', async () => {
    const s = await server()
    const c = client(s.url, { reconnect: false })
    s.script = (_request, _socket, srv) => srv.dropAll()
    await expect(
      c.request(rony.Ping.create({ ID: 1 }), rony.Pong, { idempotent: true }),
    ).rejects.toMatchObject({ code: 'RONY_ERR_CONNECTION_LOST' })
    expect(c.state).toBe('idle')
    s.script = (request, socket, srv) =>
      srv.reply(socket, request, C_Pong, rony.Pong.encode({ ID: 2 }).finish())
    await expect(c.request(rony.Ping.create({ ID: 2 }), rony.Pong)).resolves.toBeInstanceOf(
      rony.Pong,
    )
    expect(s.connections).toBe(2)
  })

  it('with reconnect: false, a failed dial rejects with RONY_ERR_DIAL_FAILED', async () => {
    const c = client(`ws://127.0.0.1:${await freePort()}/`, { reconnect: false })
    const fromRequest = c.request(rony.Ping.create({ ID: 1 })).catch((e) => e)
    const fromConnect = c.connect().catch((e) => e)
    for (const error of [await fromRequest, await fromConnect]) {
      expect(error).toMatchObject({ wireCode: 'E02', code: 'RONY_ERR_DIAL_FAILED' })
    }
    expect(c.state).toBe('idle')
  })
})

describe('reconnect backoff', () => {
  it('retries with growing delays while the server is down, then reconnects', async () => {
    const port = await freePort()
    const c = client(`ws://127.0.0.1:${port}/`, {
      reconnect: { initialDelay: 20, maxDelay: 160, factor: 2, jitter: 0.5 },
      random: { next: () => 0.5 }, // jitter takes exactly a quarter off
    })
    const attempts: ReconnectInfo[] = []
    c.on('reconnecting', (info) => attempts.push(info))
    // connect() is what waits across attempts (a request would fail with the first one).
    const connecting = c.connect({ timeout: 10_000 })
    await waitFor(() => attempts.length >= 6)
    expect(attempts.slice(0, 6).map((a) => a.delay)).toEqual([15, 30, 60, 120, 120, 120])
    expect(attempts.map((a) => a.attempt).slice(0, 3)).toEqual([1, 2, 3])
    expect(attempts[0]?.error).toMatchObject({ code: 'RONY_ERR_DIAL_FAILED' })
    expect(c.state).toBe('reconnecting')

    await server(port)
    await connecting
    expect(c.state).toBe('open')
    const pong = await c.request(rony.Ping.create({ ID: 4 }), rony.Pong)
    expect(pong.ID.toString()).toBe('4')
  })

  it('counts an attempt that hangs as failed after connectTimeout', async () => {
    // Accepts TCP connections and never answers the WebSocket handshake.
    const sockets = new Set<import('node:net').Socket>()
    const silent: Server = createServer((socket) => sockets.add(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => silent.close(resolve))
    })
    const port = (silent.address() as { port: number }).port
    const c = client(`ws://127.0.0.1:${port}/`, { connectTimeout: 100, reconnect: fastReconnect })
    const attempts: ReconnectInfo[] = []
    c.on('reconnecting', (info) => attempts.push(info))
    const error = await c.connect({ timeout: 400 }).catch((e) => e)
    expect(error).toMatchObject({ wireCode: 'E06', code: 'RONY_ERR_TIMEOUT' })
    expect(error.cause).toMatchObject({ code: 'RONY_ERR_DIAL_FAILED' })
    expect(attempts.length).toBeGreaterThanOrEqual(2)
    expect(attempts[0]?.error.message).toMatch(/no connection within 100 ms/)
  })

  it('lets connect() be aborted', async () => {
    const c = client(`ws://127.0.0.1:${await freePort()}/`, { reconnect: fastReconnect })
    const controller = new AbortController()
    const connecting = c.connect({ signal: controller.signal })
    await sleep(30)
    controller.abort(new Error('enough'))
    await expect(connecting).rejects.toThrow('enough')
  })
})

describe('a server that is down, or the wrong address', () => {
  it('fails the first request once the first dial fails, with the dial error as cause, and stays idle', async () => {
    const c = client(`ws://127.0.0.1:${await freePort()}/`, { reconnect: fastReconnect })
    const attempts: ReconnectInfo[] = []
    c.on('reconnecting', (info) => attempts.push(info))
    // A long timeout: the rejection must come from the dial, not from the clock.
    const error = await c
      .request(rony.Ping.create({ ID: 1 }), rony.Pong, { timeout: 60_000 })
      .catch((e) => e)
    expect(error).toMatchObject({ wireCode: 'E02', code: 'RONY_ERR_DIAL_FAILED' })
    expect(error.cause).toBeInstanceOf(Error)
    expect(c.state).toBe('idle')
    expect(attempts).toEqual([]) // nothing dials in the background for nobody
    // The next request dials afresh, and succeeds once the server is there.
    const s = await server()
    const d = client(s.url, { reconnect: fastReconnect })
    expect((await d.request(rony.Ping.create({ ID: 2 }), rony.Pong)).ID.toString()).toBe('2')
  })

  it('names a wrong path: the handshake’s refusal is the cause', async () => {
    // An HTTP server where a WebSocket path is expected: the upgrade gets a 404.
    const web = http.createServer((_req, res) => res.writeHead(404).end('not here'))
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise((resolve) => web.close(resolve)))
    const port = (web.address() as AddressInfo).port
    const c = client(`ws://127.0.0.1:${port}/wrong/path`, { WebSocket: WsWebSocket })
    const error = await c
      .request(rony.Ping.create({ ID: 1 }), rony.Pong, { timeout: 60_000 })
      .catch((e) => e)
    expect(error).toMatchObject({ code: 'RONY_ERR_DIAL_FAILED' })
    expect(error.message).toMatch(/Unexpected server response: 404/)
    expect(error.cause).toBeInstanceOf(Error)
  })

  it('a request queued while an open client reconnects waits for the reconnect; its timeout names the last dial error', async () => {
    const s = await server()
    const c = client(s.url, { reconnect: fastReconnect })
    await c.connect()
    await s.close()
    await waitFor(() => c.state === 'reconnecting')
    const error = await c
      .request(rony.Ping.create({ ID: 1 }), rony.Pong, { timeout: 200 })
      .catch((e) => e)
    expect(error).toMatchObject({ code: 'RONY_ERR_TIMEOUT' })
    expect(error.cause).toMatchObject({
      code: expect.stringMatching(/RONY_ERR_(DIAL_FAILED|CONNECTION_LOST)/),
    })
    expect(c.state).toBe('reconnecting') // still trying, as documented
  })
})

describe('keepalive', () => {
  it('pings an idle connection and keeps it when the server answers', async () => {
    const s = await server()
    // A generous timeout: a loaded machine may answer a ping late, which is not the point here.
    const c = client(s.url, { keepalive: 50, timeout: 2_000 })
    await c.connect()
    await waitFor(() => s.received.filter((r) => r.ctor === C_Ping).length >= 3, 5_000)
    expect(s.connections).toBe(1)
    expect(c.state).toBe('open')
  })

  it('detects a server that stops answering, closes and reconnects', async () => {
    const s = await server()
    const c = client(s.url, { keepalive: 100, timeout: 200, reconnect: fastReconnect })
    const closes: CloseInfo[] = []
    c.on('close', (info) => closes.push(info))
    await c.connect()
    await waitFor(() => s.sockets().length === 1)
    s.sockets()[0]!.pause() // reads nothing more: pings go unanswered
    await waitFor(() => s.connections === 2 && c.state === 'open', 3000)
    expect(closes[0]).toEqual({ code: 4000, reason: 'keepalive timeout', reconnecting: true })
    const pong = await c.request(rony.Ping.create({ ID: 6 }), rony.Pong)
    expect(pong.ID.toString()).toBe('6')
  })
})

describe('close()', () => {
  it('rejects requests in flight and queued, ends iterators and stops reconnecting', async () => {
    const s = await server()
    s.script = () => {}
    const c = client(s.url, { reconnect: fastReconnect })
    const iterator = c.updates()
    const waiting = iterator.next()
    const inFlight = c.request(rony.Ping.create({ ID: 1 })).catch((e) => e)
    await waitFor(() => s.received.length === 1)
    await c.close()
    expect(await inFlight).toMatchObject({ wireCode: 'E02', code: 'RONY_ERR_CLIENT_CLOSED' })
    expect(await waiting).toEqual({ done: true, value: undefined })
    expect(c.state).toBe('closed')
    await expect(c.request(rony.Ping.create({ ID: 2 }))).rejects.toMatchObject({
      code: 'RONY_ERR_CLIENT_CLOSED',
    })
    await expect(c.connect()).rejects.toMatchObject({ code: 'RONY_ERR_CLIENT_CLOSED' })
    expect(c.close()).toBe(c.close())
    await sleep(100)
    expect(s.connections).toBe(1)
  })

  it('stops a client that is reconnecting to a server that is down', async () => {
    const c = client(`ws://127.0.0.1:${await freePort()}/`, { reconnect: fastReconnect })
    const connecting = c.connect().catch((e) => e)
    await waitFor(() => c.state === 'reconnecting')
    await c.close()
    expect(await connecting).toMatchObject({ code: 'RONY_ERR_CLIENT_CLOSED' })
    const attempts: ReconnectInfo[] = []
    c.on('reconnecting', (info) => attempts.push(info))
    await sleep(150)
    expect(attempts).toHaveLength(0)
  })
})

describe('WebSocket injection', () => {
  it('runs on the ws package WebSocket', async () => {
    const s = await server()
    const c = client(s.url, { WebSocket: WsWebSocket })
    const pong = await c.request(rony.Ping.create({ ID: 11 }), rony.Pong)
    expect(pong.ID.toString()).toBe('11')
    s.push(C_Pong, rony.Pong.encode({ ID: 12 }).finish())
    const { value } = await c.updates().next()
    expect((value!.message as rony.Pong).ID.toString()).toBe('12')
  })

  it('fails clearly when no WebSocket implementation exists', async () => {
    const c = client('ws://127.0.0.1:1/', { reconnect: false })
    const original = globalThis.WebSocket
    // @ts-expect-error: simulating an environment without WebSocket
    delete globalThis.WebSocket
    try {
      const error = await c.connect().catch((e) => e)
      expect(error).toMatchObject({ code: 'RONY_ERR_DIAL_FAILED' })
      expect(error.cause).toBeInstanceOf(TypeError)
      expect(error.message).toMatch(/no WebSocket implementation/)
    } finally {
      globalThis.WebSocket = original
    }
  })

  it('without a WebSocket implementation, fails at once even with reconnect on: no retry can help', async () => {
    const c = client('ws://127.0.0.1:1/', { reconnect: fastReconnect })
    const attempts: ReconnectInfo[] = []
    c.on('reconnecting', (info) => attempts.push(info))
    const original = globalThis.WebSocket
    // @ts-expect-error: simulating an environment without WebSocket
    delete globalThis.WebSocket
    try {
      // connect() waits across attempts, but not for this.
      const [fromConnect, fromRequest] = await Promise.all([
        c.connect({ timeout: 60_000 }).catch((e) => e),
        c.request(rony.Ping.create({ ID: 1 }), rony.Pong, { timeout: 60_000 }).catch((e) => e),
      ])
      for (const error of [fromConnect, fromRequest]) {
        expect(error).toMatchObject({ code: 'RONY_ERR_DIAL_FAILED' })
        expect(error.cause).toBeInstanceOf(TypeError)
      }
      expect(attempts).toEqual([])
      expect(c.state).toBe('idle')
    } finally {
      globalThis.WebSocket = original
    }
  })
})
