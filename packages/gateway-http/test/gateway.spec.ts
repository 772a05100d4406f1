import * as http from 'node:http'
import type { Gateway, RestRoute } from '@rony/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { HTTP_GATEWAY_DEFAULTS, httpGateway } from '../src/index.js'
import { FakeEdge, jsonReply, request, requestJson } from './helpers.js'

// The gateway alone, driven by a fake edge: REST binding, status mapping, JSON mode,
// timeouts, disconnects and stop, independent of the edge's JSON support.

const ROUTES: RestRoute[] = [
  { method: 'GET', path: '/users/:id', cmd: 'GetUser' },
  { method: 'POST', path: '/users/:id', cmd: 'SetUser' },
  { method: 'DELETE', path: '/fail/:code', cmd: 'Fail' },
]

interface JsonEnvelope {
  requestId: string
  cmd: string
  message: Record<string, unknown>
}

const parse = (data: Uint8Array): JsonEnvelope => JSON.parse(Buffer.from(data).toString())

let gateway: Gateway | undefined
afterEach(async () => {
  await gateway?.stop()
  gateway = undefined
})

async function start(
  fake: FakeEdge,
  init: Parameters<typeof httpGateway>[0] = {},
): Promise<string> {
  gateway = httpGateway({ port: 0, ...init })
  gateway.attach(fake)
  await gateway.start()
  return gateway.addresses()[0]!
}

/** Answers REST requests: `Fail` with the error code in its path, the others echo the message. */
function restFake(): FakeEdge {
  const fake = new FakeEdge(ROUTES)
  fake.respond = (data, meta, conn) => {
    const { requestId, cmd, message } = parse(data)
    if (cmd === 'Fail') {
      const error = {
        Code: message.code,
        Items: 'TEST',
        Description: `failed with ${message.code}`,
      }
      conn.send(jsonReply({ requestId, cmd: 'Error', message: error }), meta.format)
    } else {
      conn.send(jsonReply({ requestId, cmd: 'User', message }), meta.format)
    }
  }
  return fake
}

describe('REST routes', () => {
  it('binds path, query (repeated keys as arrays) and body into the message; later sources win', async () => {
    const fake = restFake()
    const url = await start(fake, { prefix: '/api' })
    const got = await requestJson(`${url}/users/42?verbose=true&tag=a&tag=b`, { method: 'GET' })
    expect(got.status).toBe(200)
    expect(got.json).toEqual({ verbose: 'true', tag: ['a', 'b'], id: '42' })
    const [message] = fake.of('message')
    expect(message?.meta.format).toBe('json')
    expect(parse(message!.data)).toMatchObject({ cmd: 'GetUser' })
    expect(message?.conn).toMatchObject({ persistent: false, protocol: 'http' })

    const set = await request(`${url}/users/7?name=query`, {
      contentType: 'application/json',
      body: '{"id":"body","name":"body","age":3,"__proto__":{"polluted":true}}',
    })
    expect(set.status).toBe(200)
    expect(JSON.parse(set.body.toString())).toEqual({
      id: '7',
      name: 'query',
      age: 3,
      ['__proto__']: { polluted: true },
    })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('hands the edge 64-bit numbers of a REST body with all their digits', async () => {
    const fake = restFake()
    const url = await start(fake)
    await request(`${url}users/1`, {
      contentType: 'application/json',
      body: '{"big":9007199254740993,"list":[18446744073709551615]}',
    })
    const [message] = fake.of('message')
    const text = Buffer.from(message!.data).toString()
    expect(text).toContain('"big":9007199254740993')
    expect(text).toContain('"list":[18446744073709551615]')
  })

  it('maps error codes to HTTP statuses with a JSON error body', async () => {
    const url = await start(restFake())
    const expected = {
      E00: 500,
      E01: 400,
      E02: 503,
      E03: 429,
      E06: 504,
      E07: 403,
      E13: 501,
      E99: 500,
    }
    for (const [code, status] of Object.entries(expected)) {
      const res = await requestJson(`${url}fail/${code}`, { method: 'DELETE' })
      expect([code, res.status]).toEqual([code, status])
      expect(res.json).toEqual({ Code: code, Items: 'TEST', Description: `failed with ${code}` })
    }
  })

  it('400 for a body that is not a JSON object; the edge never sees it', async () => {
    const fake = restFake()
    const url = await start(fake)
    for (const body of ['[1,2]', '"x"', '{bad']) {
      const res = await request(`${url}users/1`, { contentType: 'application/json', body })
      expect(res.status).toBe(400)
      expect(JSON.parse(res.body.toString())).toMatchObject({ Code: 'E01', Items: 'BODY' })
    }
    expect(fake.of('message')).toHaveLength(0)
  })

  it('maps a binary error reply (an edge without JSON support) to its status', async () => {
    const { C_Error, encodeEnvelope, rony } = await import('@rony/envelope')
    const fake = new FakeEdge(ROUTES)
    fake.respond = (_data, _meta, conn) => {
      const error = rony.Error.encode({
        Code: 'E13',
        Items: 'JSON',
        Description: 'no JSON',
      }).finish()
      conn.send(encodeEnvelope({ ctor: C_Error, requestId: 0n, message: error }))
    }
    const url = await start(fake)
    const res = await requestJson(`${url}users/1`, { method: 'GET' })
    expect([res.status, res.json]).toEqual([
      501,
      { Code: 'E13', Items: 'JSON', Description: 'no JSON' },
    ])
  })
})

describe('envelopes and connections', () => {
  it('hands a JSON envelope to the edge as format json and answers in application/json', async () => {
    const fake = new FakeEdge()
    const url = await start(fake)
    const body = '{"requestId":"3","cmd":"Echo","message":{"Text":"hi"}}'
    const res = await request(url, { contentType: 'application/json; charset=utf-8', body })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toContain('application/json')
    expect(res.body.toString()).toBe(body)
    const [message] = fake.of('message')
    expect(message?.meta.format).toBe('json')
    expect(message?.meta.headers.get('content-type')).toBe('application/json; charset=utf-8')
  })

  it('answers 504 when the edge does not answer within requestTimeout, and closes the conn', async () => {
    const fake = new FakeEdge()
    fake.respond = () => {}
    const url = await start(fake, { requestTimeout: 50 })
    const res = await request(url, {
      contentType: 'application/x-protobuf',
      body: Uint8Array.of(1),
    })
    expect(res.status).toBe(504)
    expect(JSON.parse(res.body.toString())).toMatchObject({ Code: 'E06', Items: 'TIMEOUT' })
    await fake.waitFor('close')
    expect(fake.of('close')[0]?.reason).toMatchObject({
      initiator: 'local',
      reason: 'request timeout',
    })
    expect(fake.of('close')[0]?.conn.send(Uint8Array.of(1))).toBe(false)
  })

  it('reports a client that disconnects mid-request as a remote close', async () => {
    const fake = new FakeEdge()
    fake.respond = () => {}
    const url = await start(fake)
    const req = http.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
    })
    req.on('error', () => {})
    req.end(Uint8Array.of(1))
    await fake.waitFor('message')
    req.destroy()
    await fake.waitFor('close')
    expect(fake.of('close')[0]?.reason.initiator).toBe('remote')
  })

  it('answers requests the edge refuses in onConnect with 503', async () => {
    const fake = new FakeEdge()
    fake.onConnect = (conn) => conn.close(1013, 'too many connections, try again later')
    const url = await start(fake)
    const res = await requestJson(url, { contentType: 'application/x-protobuf', body: undefined })
    expect(res.status).toBe(503)
    expect(res.json).toMatchObject({
      Code: 'E02',
      Description: 'too many connections, try again later',
    })
  })

  it('stops in bounded time: unanswered requests get 503, keep-alive sockets are closed', async () => {
    const fake = new FakeEdge()
    fake.respond = () => {}
    const url = await start(fake, { stopTimeout: 200 })
    const agent = new http.Agent({ keepAlive: true })
    try {
      const hung = request(url, {
        contentType: 'application/x-protobuf',
        body: Uint8Array.of(1),
        agent,
      })
      await fake.waitFor('message')
      await gateway!.stop()
      const res = await hung
      expect(res.status).toBe(503)
      expect(fake.of('close')).toHaveLength(1)
      expect(gateway!.addresses()).toEqual([])
      await expect(request(url, { method: 'POST' })).rejects.toThrow()
    } finally {
      agent.destroy()
    }
  })

  it('rejects start() before attach, and invalid options', async () => {
    await expect(httpGateway({ port: 0 }).start()).rejects.toMatchObject({
      code: 'RONY_ERR_NOT_ATTACHED',
    })
    expect(() => httpGateway({ prefix: 'api' })).toThrow(TypeError)
    expect(() => httpGateway({ bodyLimit: 0 })).toThrow(RangeError)
    expect(() => httpGateway({ port: 70_000 })).toThrow(RangeError)
    expect(httpGateway().features).toEqual({
      serverPush: false,
      json: true,
      maxMessageSize: HTTP_GATEWAY_DEFAULTS.bodyLimit,
    })
  })
})
