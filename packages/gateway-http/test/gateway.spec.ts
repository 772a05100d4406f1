import * as http from 'node:http'
import { C_Error, C_Redirect, encodeEnvelope, rony } from '@rony/envelope'
import type { Gateway, RestRoute } from '@rony/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { HTTP_GATEWAY_DEFAULTS, httpGateway } from '../src/index.js'
import { FakeEdge, jsonReply, request, requestJson } from './helpers.js'

// The gateway alone, driven by a fake edge: REST binding, status mapping, JSON mode,
// timeouts, disconnects and stop, independent of the edge's JSON support.

const ROUTES: RestRoute[] = [
  {
    method: 'GET',
    path: '/users/:id',
    cmd: 'Users.Get',
    pathParams: [{ param: 'id', field: 'UserId' }],
    queryParams: [
      { param: 'verbose', field: 'Verbose' },
      { param: 'tag', field: 'Tag' },
    ],
    encoding: 'json',
  },
  {
    method: 'POST',
    path: '/users/:id',
    cmd: 'Users.Set',
    pathParams: [{ param: 'id', field: 'id' }],
    queryParams: [{ param: 'name', field: 'name' }],
    encoding: 'json',
  },
  {
    method: 'PUT',
    path: '/blobs/:id',
    cmd: 'Blobs.Put',
    pathParams: [{ param: 'id', field: 'Id' }],
    queryParams: [],
    encoding: 'binary',
  },
  {
    method: 'DELETE',
    path: '/fail/:code',
    cmd: 'Fail',
    pathParams: [{ param: 'code', field: 'Code' }],
    queryParams: [],
    encoding: 'json',
  },
]

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

/**
 * Answers REST calls as the edge does, in the route's encoding: `Fail` with the error code
 * of its path, the others with the values they got and the body's length.
 */
function restFake(): FakeEdge {
  const fake = new FakeEdge(ROUTES)
  fake.respond = (data, meta, conn) => {
    const values = Object.fromEntries(meta.rest?.values ?? [])
    if (meta.rest?.route.cmd === 'Fail') {
      const error = { Code: values.Code, Items: 'TEST', Description: `failed with ${values.Code}` }
      conn.send(jsonReply({ requestId: 0, cmd: 'Error', message: error }), meta.format)
    } else if (meta.format === 'binary') {
      const message = Buffer.concat([Buffer.from('got:'), data])
      conn.send(encodeEnvelope({ ctor: 1n, message }), 'binary')
    } else {
      const message = { ...values, bodyBytes: data.byteLength }
      conn.send(jsonReply({ requestId: 0, cmd: 'User', message }), meta.format)
    }
  }
  return fake
}

describe('REST routes', () => {
  it('hands the edge the body and the values of the bound path and query parameters', async () => {
    const fake = restFake()
    const url = await start(fake, { prefix: '/api' })
    const got = await requestJson(`${url}/users/42?verbose=true&unbound=x&__proto__=y`, {
      method: 'GET',
    })
    expect(got.status).toBe(200)
    expect(got.headers['content-type']).toContain('application/json')
    expect(got.json).toEqual({ UserId: '42', Verbose: 'true', bodyBytes: 0 })
    const [message] = fake.of('message')
    expect(message?.meta.format).toBe('json')
    expect(message?.meta.rest?.route).toBe(fake.restRoutes[0])
    expect(message?.conn).toMatchObject({ persistent: false, protocol: 'http' })

    // The body goes to the edge as it came: the edge, which knows the message, reads it.
    const body = '{"id":"body","__proto__":{"polluted":true},"big":18446744073709551615}'
    const set = await requestJson(`${url}/users/%E2%82%AC?name=q%20x`, {
      method: 'POST',
      body: JSON.parse(body),
    })
    expect(set.json).toEqual({ id: '€', name: 'q x', bodyBytes: expect.any(Number) })
    const raw = await request(`${url}/users/1`, { contentType: 'application/json', body })
    expect(raw.status).toBe(200)
    expect(Buffer.from(fake.of('message')[2]!.data).toString()).toBe(body)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('400 for a bound query parameter given twice; the edge never sees it', async () => {
    const fake = restFake()
    const url = await start(fake)
    const res = await requestJson(`${url}users/1?tag=a&tag=b`, { method: 'GET' })
    expect(res).toMatchObject({ status: 400, json: { Code: 'E01', Items: 'PARAM' } })
    expect((res.json as { Description: string }).Description).toMatch(/tag is given 2 times/)
    expect(fake.of('message')).toHaveLength(0)
  })

  it('415 for a body that is not in the route encoding; an empty body is no body', async () => {
    const fake = restFake()
    const url = await start(fake)
    const refused = [
      ['POST', `${url}users/1`, 'application/x-protobuf', 'application/json'],
      ['POST', `${url}users/1`, 'application/octet-stream', 'application/json'],
      ['PUT', `${url}blobs/1`, 'application/json', 'application/x-protobuf'],
    ] as const
    for (const [method, target, contentType, wanted] of refused) {
      const res = await request(target, { method, contentType, body: '{}' })
      expect(res.status).toBe(415)
      const error = JSON.parse(res.body.toString())
      expect(error).toMatchObject({ Code: 'E01', Items: 'CONTENT_TYPE' })
      expect(error.Description).toContain(`takes a body of ${wanted}`)
      expect(error.Description).toContain(`got ${contentType}`)
    }
    const text = await request(`${url}users/1`, { contentType: 'text/plain', body: 'x' })
    expect(text.status).toBe(415)
    expect(fake.of('message')).toHaveLength(0)
    const empty = await request(`${url}users/1`, { contentType: 'application/x-protobuf' })
    expect(empty.status).toBe(200)
  })

  it('400 for a body on a GET route, which would otherwise be dropped unread', async () => {
    const fake = restFake()
    const url = await start(fake)
    const res = await request(`${url}users/1`, {
      method: 'GET',
      contentType: 'application/json',
      headers: { 'content-length': '2' },
      body: '{}',
    })
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body.toString())).toMatchObject({ Code: 'E01', Items: 'BODY' })
    expect(fake.of('message')).toHaveLength(0)
  })

  it('answers a binary route with the reply message as application/x-protobuf', async () => {
    const fake = restFake()
    const url = await start(fake)
    for (const contentType of ['application/x-protobuf', 'application/octet-stream', undefined]) {
      const res = await request(`${url}blobs/9`, {
        method: 'PUT',
        ...(contentType === undefined ? {} : { contentType }),
        body: Buffer.from([1, 2, 3]),
      })
      expect(res.status).toBe(200)
      expect(res.headers['content-type']).toBe('application/x-protobuf')
      expect([...res.body]).toEqual([...Buffer.from('got:'), 1, 2, 3])
    }
    const [message] = fake.of('message')
    expect(message?.meta.format).toBe('binary')
    expect(Object.fromEntries(message?.meta.rest?.values ?? [])).toEqual({ Id: '9' })
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

  it('maps a binary error reply to its status', async () => {
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

  it('answers a Redirect as Go does: 308 for the session, 307 for the request, same URL elsewhere', async () => {
    const fake = new FakeEdge(ROUTES)
    let reply: (format: 'json' | 'binary') => Uint8Array = () => new Uint8Array()
    fake.respond = (_data, meta, conn) => conn.send(reply(meta.format), meta.format)
    const url = await start(fake)
    const redirect = (Reason: number, HostPorts: string[]) =>
      rony.Redirect.encode({
        Reason,
        Edges: [{ ReplicaSet: 2, ServerID: 'n2', HostPorts }],
      }).finish()
    reply = () => encodeEnvelope({ ctor: C_Redirect, message: redirect(1, ['10.0.0.2:81']) })
    const binary = await request(`${url}blobs/3?x=1`, { method: 'PUT' })
    expect(binary.status).toBe(307)
    expect(binary.headers.location).toBe('http://10.0.0.2:81/blobs/3?x=1')
    reply = () =>
      encodeEnvelope({ ctor: C_Redirect, message: redirect(0, ['https://n2.example/']) })
    const url2 = await request(`${url}blobs/3`, { method: 'PUT' })
    expect([url2.status, url2.headers.location]).toEqual([308, 'https://n2.example/blobs/3'])
    reply = () =>
      jsonReply({
        requestId: 0,
        cmd: 'Redirect',
        message: { Reason: 'ReplicaSetRequest', Edges: [{ HostPorts: ['10.0.0.3:82'] }] },
      })
    const json = await request(`${url}users/5`, { method: 'GET' })
    expect([json.status, json.headers.location]).toEqual([307, 'http://10.0.0.3:82/users/5'])
    reply = () => encodeEnvelope({ ctor: C_Redirect, message: redirect(1, []) })
    const nowhere = await request(`${url}blobs/3`, { method: 'PUT' })
    expect(nowhere.status).toBe(500)
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
