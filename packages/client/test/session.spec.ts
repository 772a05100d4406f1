import { C_Pong, type KeyValue, rony, SESSION_HEADER } from '@rony/envelope'
import { afterEach, describe, expect, it } from 'vitest'
import { type Client, type ClientInit, createClient } from '../src/index.js'
import { startServer, type TestServer } from './helpers/server.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
})

async function server(): Promise<TestServer> {
  const s = await startServer()
  cleanups.push(() => s.close())
  return s
}

function client(url: string, init: ClientInit = {}): Client {
  const c = createClient(url, { keepalive: false, ...init })
  cleanups.push(() => c.close())
  return c
}

const sessionOf = (header: readonly KeyValue[]) =>
  header.filter(({ key }) => key === SESSION_HEADER).map(({ value }) => value)

describe('client session', () => {
  it('is shared with the edge through one constant', () => {
    expect(SESSION_HEADER).toBe('rony-session')
  })

  it('is 128 random bits as 22 base64url characters by default, one per client', () => {
    const a = createClient('ws://127.0.0.1:1/')
    const b = createClient('ws://127.0.0.1:1/')
    expect(a.session).toMatch(/^[A-Za-z0-9_-]{21}[AQgw]$/) // the last character holds 2 bits
    expect(b.session).not.toBe(a.session)
    const seen = new Set(Array.from({ length: 200 }, () => createClient('ws://h/').session))
    expect(seen.size).toBe(200)
  })

  it('goes with idempotent requests only', async () => {
    const s = await server()
    const c = client(s.url, { header: { 'x-app': 'test' } })
    await c.request(rony.Ping.create({ ID: 1 }), rony.Pong, { idempotent: true })
    await c.request(rony.Ping.create({ ID: 2 }), rony.Pong)
    await c.request(rony.Ping.create({ ID: 3 }), rony.Pong, { idempotent: false })
    const [idempotent, plain, notIdempotent] = s.received
    expect(sessionOf(idempotent!.header)).toEqual([c.session])
    expect(idempotent!.header).toContainEqual({ key: 'x-app', value: 'test' })
    expect(sessionOf(plain!.header)).toEqual([])
    expect(sessionOf(notIdempotent!.header)).toEqual([])
  })

  it('is the client’s own: a request header of that key does not replace it', async () => {
    const s = await server()
    const c = client(s.url, { header: { [SESSION_HEADER]: 'from-defaults' } })
    await c.request(rony.Ping.create({ ID: 1 }), rony.Pong, {
      idempotent: true,
      header: { [SESSION_HEADER]: 'from-request' },
    })
    expect(sessionOf(s.received[0]!.header)).toEqual([c.session])
  })

  it('goes again, with the same request id, when an idempotent request is re-sent', async () => {
    const s = await server()
    const c = client(s.url, {
      session: 'app-7',
      reconnect: { initialDelay: 10, maxDelay: 50, factor: 2, jitter: 0 },
    })
    let calls = 0
    s.script = (request, socket, srv) => {
      if (++calls === 1) srv.dropAll()
      else srv.reply(socket, request, C_Pong, rony.Pong.encode({ ID: 8 }).finish())
    }
    await c.request(rony.Ping.create({ ID: 8 }), rony.Pong, { idempotent: true })
    const [first, again] = s.received
    expect(again!.requestId).toBe(first!.requestId)
    expect(sessionOf(first!.header)).toEqual(['app-7'])
    expect(sessionOf(again!.header)).toEqual(['app-7'])
  })

  it('takes a custom session, 1 to 128 printable ASCII characters', () => {
    const longest = '~'.repeat(128)
    expect(createClient('ws://h/', { session: 'user-42:tab-3' }).session).toBe('user-42:tab-3')
    expect(createClient('ws://h/', { session: longest }).session).toBe(longest)
    expect(createClient('ws://h/', { session: ' !' }).session).toBe(' !')
    for (const bad of ['', 'x'.repeat(129), 'é', 'a\nb', 'tab\t', '\u007f', 42]) {
      expect(() => createClient('ws://h/', { session: bad as string })).toThrow(RangeError)
    }
  })
})
