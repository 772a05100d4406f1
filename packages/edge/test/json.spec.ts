import { C_Ping, encodeEnvelope, parseJson, RonyError, rony } from '@rony/envelope'
import type { RestRoute } from '@rony/interface'
import protobuf from 'protobufjs'
import { afterEach, describe, expect, it } from 'vitest'
import {
  container,
  decodeAs,
  EchoRequest,
  EchoResponse,
  errorOf,
  pongId,
  requestInit,
  startedEdge,
  stopEdges,
  testEdge,
} from './helpers.js'

afterEach(stopEdges)

const root = protobuf.parse(
  `syntax = "proto3";
  message GetUser { int32 id = 1; bool verbose = 2; int64 big = 3; repeated string tags = 4; }
  message User { int32 id = 1; string name = 2; int64 big = 3; }`,
  { keepCase: true },
).root
const GetUser = root.lookupType('GetUser')
const User = root.lookupType('User')

const utf8 = new TextEncoder()
const json = (value: unknown): Uint8Array => utf8.encode(JSON.stringify(value))
// Request ids are JSON numbers, exact past 2^53 (a bigint there).
const parse = (bytes: Uint8Array): Record<string, unknown> =>
  parseJson(new TextDecoder().decode(bytes)) as Record<string, unknown>

/** An edge with a GetUser handler and a JSON-format memory connection that collects replies. */
async function jsonEdge(persistent = true) {
  const test = testEdge()
  test.edge.handle(
    GetUser,
    (req) => {
      const { id, verbose, big } = req as unknown as { id: number; verbose: boolean; big: unknown }
      if (id < 0) throw new RonyError('E07', 'USER', 'not yours')
      return User.create({ id, name: verbose ? 'Ada Lovelace' : 'Ada', big })
    },
    { rest: { method: 'GET', path: '/users/:id' } },
  )
  await test.edge.start()
  const replies: Record<string, unknown>[] = []
  const client = test.gw.connect({
    format: 'json',
    persistent,
    onMessage: (bytes) => replies.push(parse(bytes)),
  })
  return { ...test, client, replies }
}

describe('JSON envelopes', () => {
  it('answers {requestId, cmd, message} with a JSON envelope of the reply', async () => {
    const { client, replies } = await jsonEdge()
    client.send(
      json({
        requestId: '18446744073709551615',
        cmd: 'GetUser',
        message: { id: 7, verbose: true },
      }),
    )
    await expect.poll(() => replies.length).toBe(1)
    expect(replies[0]).toEqual({
      requestId: 18446744073709551615n,
      cmd: 'User',
      message: { id: 7, name: 'Ada Lovelace' },
    })
  })

  it('takes numbers and strings for ids and numbers, as protobuf JSON allows', async () => {
    const { client, replies } = await jsonEdge()
    client.send(
      json({ requestId: 3, cmd: 'GetUser', message: { id: '8', big: '9007199254740993' } }),
    )
    await expect.poll(() => replies.length).toBe(1)
    expect(replies[0]).toMatchObject({
      requestId: 3,
      message: { id: 8, big: '9007199254740993' },
    })
  })

  it('answers errors as a JSON Error envelope under the request id', async () => {
    const { client, replies } = await jsonEdge()
    client.send(json({ requestId: '4', cmd: 'GetUser', message: { id: -1 } }))
    client.send(json({ requestId: '5', cmd: 'NoSuchThing', message: {} }))
    client.send(json({ requestId: '6', cmd: 'GetUser', message: { id: 'abc' } }))
    client.send(json({ requestId: '7', cmd: 'GetUser', message: { nope: 1 } }))
    client.send(json({ requestId: '8', cmd: 'GetUser', message: { id: 2 ** 40 } }))
    client.send(json({ requestId: '9', cmd: 'GetUser', message: { verbose: 'yes' } }))
    await expect.poll(() => replies.length).toBe(6)
    const byId = new Map(replies.map((reply) => [String(reply.requestId), reply]))
    expect(byId.get('4')).toMatchObject({ cmd: 'Error', message: { Code: 'E07', Items: 'USER' } })
    expect(byId.get('5')).toMatchObject({
      cmd: 'Error',
      message: { Code: 'E01', Items: 'HANDLER' },
    })
    for (const id of ['6', '7', '8', '9']) {
      expect(byId.get(id), id).toMatchObject({
        cmd: 'Error',
        message: { Code: 'E01', Items: 'MESSAGE' },
      })
    }
    expect(JSON.stringify(byId.get('7'))).toContain('nope: no such field')
  })

  it('answers bytes that are not a JSON envelope with E01/ENVELOPE, and keeps serving', async () => {
    const { client, replies } = await jsonEdge()
    for (const bad of [
      '',
      '{',
      '[]',
      'null',
      '{"requestId":"-1","cmd":"GetUser"}',
      '{"requestId":"1","cmd":7}',
    ]) {
      client.send(utf8.encode(bad))
    }
    client.send(new Uint8Array([0xff, 0xfe]))
    client.send(json({ requestId: '2', cmd: 'GetUser', message: { id: 1 } }))
    await expect.poll(() => replies.length).toBe(8)
    for (const reply of replies.slice(0, 7)) {
      expect(reply).toMatchObject({ cmd: 'Error', message: { Code: 'E01', Items: 'ENVELOPE' } })
    }
    // Once the request id is read, the error carries it.
    expect(replies.map((reply) => reply.requestId)).toEqual([0, 0, 0, 0, 0, 1, 0, 2])
    expect(replies[7]).toMatchObject({ requestId: 2, cmd: 'User', message: { id: 1 } })
  })

  it('runs a JSON container and answers with one JSON container', async () => {
    const { client, replies } = await jsonEdge()
    client.send(
      json({
        requestId: '0',
        cmd: 'MessageContainer',
        message: {
          Envelopes: [
            { requestId: '1', cmd: 'GetUser', message: { id: 1 } },
            { requestId: '2', cmd: 'Ping', message: { ID: '5' } },
          ],
        },
      }),
    )
    await expect.poll(() => replies.length).toBe(1)
    const { cmd, message } = replies[0] as { cmd: string; message: { Envelopes: unknown[] } }
    expect(cmd).toBe('MessageContainer')
    expect(message.Envelopes).toEqual([
      { requestId: 1, cmd: 'User', message: { id: 1, name: 'Ada' } },
      { requestId: 2, cmd: 'Pong', message: { ID: '5' } },
    ])
  })

  it('answers an empty JSON container (no Envelopes, or none at all) with an E01 error under its request id', async () => {
    for (const persistent of [true, false]) {
      const { client, replies } = await jsonEdge(persistent)
      client.send(json({ requestId: '8', cmd: 'MessageContainer', message: { Envelopes: [] } }))
      await expect.poll(() => replies.length).toBe(1)
      expect(replies[0]).toEqual({
        requestId: 8,
        cmd: 'Error',
        message: {
          Code: 'E01',
          Items: 'ENVELOPES',
          Description: 'a MessageContainer with no envelopes',
        },
      })
      if (persistent) {
        client.send(json({ requestId: '9', cmd: 'MessageContainer', message: {} }))
        await expect.poll(() => replies.length).toBe(2)
        expect(replies[1]).toMatchObject({ requestId: 9, cmd: 'Error' })
      }
    }
  })

  it('on a non-persistent connection, collects several replies into one container', async () => {
    const test = testEdge()
    test.edge.handle(EchoRequest, (req, ctx) => {
      ctx.send(EchoResponse.create({ text: `1 ${req.text}` }))
      return EchoResponse.create({ text: `2 ${req.text}` })
    })
    await test.edge.start()
    const replies: Record<string, unknown>[] = []
    const client = test.gw.connect({
      format: 'json',
      persistent: false,
      onMessage: (b) => replies.push(parse(b)),
    })
    client.send(json({ requestId: '1', cmd: 'EchoRequest', message: { text: 'x' } }))
    await expect.poll(() => replies.length).toBe(1)
    expect(replies[0]).toMatchObject({
      cmd: 'MessageContainer',
      message: {
        Envelopes: [
          { requestId: 1, cmd: 'EchoResponse', message: { text: '1 x' } },
          { requestId: 1, cmd: 'EchoResponse', message: { text: '2 x' } },
        ],
      },
    })
  })

  it('a single reply on a non-persistent connection is sent as itself', async () => {
    const { client, replies } = await jsonEdge(false)
    client.send(json({ requestId: '1', cmd: 'Ping', message: { ID: 3 } }))
    await expect.poll(() => replies.length).toBe(1)
    expect(replies[0]).toEqual({ requestId: 1, cmd: 'Pong', message: { ID: '3' } })
  })
})

describe('JsonEncoded payloads in binary envelopes', () => {
  it('reads the payload as protobuf JSON and replies in binary', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, (req) => EchoResponse.create({ text: `echo ${req.text}` }))
    })
    peer.send(
      encodeEnvelope({
        ctor: C_Ping,
        requestId: 9n,
        jsonEncoded: true,
        message: json({ ID: '12' }),
      }),
    )
    const pong = await peer.next()
    expect(pong.requestId).toBe(9n)
    expect(pongId(pong)).toBe('12')
    // A JSON number past 2^53 in a 64-bit field arrives with all its digits.
    peer.send(
      encodeEnvelope({
        ctor: C_Ping,
        requestId: 11n,
        jsonEncoded: true,
        message: utf8.encode('{"ID":9007199254740993}'),
      }),
    )
    expect(pongId(await peer.next())).toBe('9007199254740993')
    peer.send(
      encodeEnvelope({
        ...requestInit(EchoRequest, {}, 10n),
        jsonEncoded: true,
        message: json({ text: 'j' }),
      }),
    )
    expect(decodeAs(EchoResponse, await peer.next()).text).toBe('echo j')
  })

  it('answers a payload that is not JSON with E01/MESSAGE under its request id', async () => {
    const { peer } = await startedEdge()
    peer.send(
      encodeEnvelope({ ctor: C_Ping, requestId: 4n, jsonEncoded: true, message: utf8.encode('{') }),
    )
    const reply = await peer.next()
    expect(reply.requestId).toBe(4n)
    expect(errorOf(reply)).toMatchObject({ code: 'E01', items: 'MESSAGE' })
  })

  it('answers E13/JSON for a raw { ctor, decode } type, which has no JSON mapping', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle({ ctor: 77n, decode: (b) => b, name: 'RawThing' }, () => rony.Pong.create())
    })
    peer.send(encodeEnvelope({ ctor: 77n, requestId: 2n, jsonEncoded: true, message: json({}) }))
    expect(errorOf(await peer.next())).toMatchObject({ code: 'E13', items: 'JSON' })
    // The same container path still works for binary.
    peer.send(container([{ ctor: 77n, requestId: 3n }]))
    expect((await peer.next()).requestId).toBe(0n)
  })
})

describe('REST bindings', () => {
  it('hands the gateways the declared routes, with the request type as cmd', async () => {
    const { edge, gw } = testEdge()
    let routes: readonly RestRoute[] | undefined
    const attach = gw.attach.bind(gw)
    gw.attach = (handlers) => {
      routes = handlers.restRoutes
      attach(handlers)
    }
    edge.handle(GetUser, () => User.create(), {
      rest: { method: 'get' as 'GET', path: '/users/:id' },
    })
    edge.handle(EchoRequest, () => EchoResponse.create(), {
      rest: { method: 'POST', path: '/echo' },
    })
    await edge.start()
    // edge.handle's REST routes are JSON unless told `jsonEncode: false`.
    expect(routes).toEqual([
      {
        method: 'GET',
        path: '/users/:id',
        cmd: 'GetUser',
        pathParams: [{ param: 'id', field: 'id' }],
        queryParams: [],
        encoding: 'json',
      },
      {
        method: 'POST',
        path: '/echo',
        cmd: 'EchoRequest',
        pathParams: [],
        queryParams: [],
        encoding: 'json',
      },
    ])
    expect(edge.restRoutes()).toEqual(routes)
  })

  it('rejects bad bindings clearly', async () => {
    const { edge } = testEdge()
    const handler = () => User.create()
    expect(() =>
      edge.handle(GetUser, handler, { rest: { method: 'FETCH' as 'GET', path: '/u' } }),
    ).toThrow(/method must be one of/)
    expect(() => edge.handle(GetUser, handler, { rest: { method: 'GET', path: 'users' } })).toThrow(
      /start with '\/'/,
    )
    expect(() =>
      edge.handle({ ctor: 5n, decode: (b) => b }, handler, {
        rest: { method: 'GET', path: '/raw' },
      }),
    ).toThrow(/no JSON mapping/)
    edge.handle(GetUser, handler, { rest: { method: 'GET', path: '/users/:id' } })
    expect(() =>
      edge.handle(User, handler, { rest: { method: 'GET', path: '/users/:id' } }),
    ).toThrow(/already the route of GetUser/)
    await edge.start()
    expect(() =>
      edge.handle(EchoRequest, handler, { rest: { method: 'GET', path: '/late' } }),
    ).toThrow(/before start/)
  })

  it('converts URL strings for bool and number fields, as a REST request sends them', async () => {
    const { client, replies } = await jsonEdge()
    client.send(
      json({
        requestId: '1',
        cmd: 'GetUser',
        message: { id: '42', verbose: 'true', tags: ['a', 'b'] },
      }),
    )
    client.send(json({ requestId: '2', cmd: 'GetUser', message: { id: '42', verbose: 'false' } }))
    client.send(json({ requestId: '3', cmd: 'GetUser', message: { id: '4x2' } }))
    await expect.poll(() => replies.length).toBe(3)
    expect(replies[0]).toMatchObject({ message: { id: 42, name: 'Ada Lovelace' } })
    expect(replies[1]).toMatchObject({ message: { id: 42, name: 'Ada' } })
    expect(replies[2]).toMatchObject({ cmd: 'Error', message: { Code: 'E01', Items: 'MESSAGE' } })
  })
})
