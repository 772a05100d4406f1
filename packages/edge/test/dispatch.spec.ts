import {
  C_Edges,
  C_GetAllNodes,
  C_GetNodes,
  C_KeyValue,
  C_Pong,
  constructorOf,
  encodeEnvelope,
  rony,
} from '@rony/envelope'
import { afterEach, describe, expect, it } from 'vitest'
import { createEdge, type Handler, memoryGateway } from '../src/index.js'
import {
  C_EchoRequest,
  C_EchoResponse,
  decodeAs,
  type Echo,
  EchoRequest,
  EchoResponse,
  Peer,
  ping,
  pongId,
  request,
  startedEdge,
  stopEdges,
  testEdge,
  Unregistered,
} from './helpers.js'

afterEach(stopEdges)

describe('dispatch by constructor', () => {
  it('answers Ping with a Pong carrying the same ID and the request id', async () => {
    const { peer } = await startedEdge()
    peer.send(ping(5n, 9))
    const reply = await peer.next()
    expect(reply.requestId).toBe(5n)
    expect(pongId(reply)).toBe('9')
  })

  it('keeps 64-bit request ids exact, up to 2^64-1', async () => {
    const { peer } = await startedEdge()
    const ids = [1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 2n, 2n ** 64n - 1n]
    for (const id of ids) peer.send(ping(id))
    const replies = await Promise.all(ids.map(() => peer.next()))
    expect(replies.map((reply) => reply.requestId)).toEqual(ids)
  })

  it('dispatches a generated static-class request type', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(rony.KeyValue, (kv) => rony.KeyValue.create({ Key: kv.Value, Value: kv.Key }))
    })
    peer.send(request(rony.KeyValue, { Key: 'k', Value: 'v' }, 3n))
    const reply = await peer.next()
    expect(reply.requestId).toBe(3n)
    expect(reply.ctor).toBe(C_KeyValue)
    expect(rony.KeyValue.decode(reply.message).toJSON()).toEqual({ Key: 'v', Value: 'k' })
  })

  it('dispatches a reflected request type and encodes a reflected reply instance', async () => {
    const seen: unknown[] = []
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, (req) => {
        seen.push(req)
        return EchoResponse.create({ text: `echo ${req.text}` })
      })
    })
    peer.send(request(EchoRequest, { text: 'hi' }, 4n))
    const reply = await peer.next()
    expect(reply.requestId).toBe(4n)
    expect(reply.ctor).toBe(C_EchoResponse)
    expect(decodeAs(EchoResponse, reply).text).toBe('echo hi')
    // The handler got a decoded instance of the reflected type.
    expect(seen).toHaveLength(1)
    expect((seen[0] as { $type: unknown }).$type).toBe(EchoRequest)
  })

  it('registers the request type under the CRC-64 of its name', async () => {
    const { edge } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, (req) => EchoResponse.create(req))
    })
    expect(edge.registry.get(C_EchoRequest)?.type).toBe(EchoRequest)
  })

  it('`returns` lets a handler return a plain object', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, (req): Echo => ({ text: req.text.toUpperCase() }), {
        returns: EchoResponse,
      })
    })
    peer.send(request(EchoRequest, { text: 'plain' }, 6n))
    const reply = await peer.next()
    expect(reply.requestId).toBe(6n)
    expect(decodeAs(EchoResponse, reply).text).toBe('PLAIN')
  })

  it('`returns` also applies to an async handler', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(
        EchoRequest,
        async (req): Promise<Echo> => {
          await Promise.resolve()
          return { text: req.text }
        },
        { returns: EchoResponse },
      )
    })
    peer.send(request(EchoRequest, { text: 'later' }, 7n))
    expect(decodeAs(EchoResponse, await peer.next()).text).toBe('later')
  })

  it('encodes a reply instance of a type nobody registered (registered on first sight)', async () => {
    const ctor = constructorOf('Unregistered')
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, (req) => Unregistered.create({ note: req.text }))
    })
    expect(edge.registry.has(ctor)).toBe(false)
    peer.send(request(EchoRequest, { text: 'new' }, 8n))
    const reply = await peer.next()
    expect(reply.ctor).toBe(ctor)
    expect(decodeAs(Unregistered, reply).note).toBe('new')
    expect(edge.registry.get(ctor)?.type).toBe(Unregistered)
  })

  it('dispatches raw request types given as { ctor, decode }', async () => {
    const ctor = 0xfedcba9876543210n
    const decoded: string[] = []
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(
        { ctor, name: 'RawText', decode: (bytes) => new TextDecoder().decode(bytes) },
        (text, ctx) => {
          decoded.push(text)
          expect(ctx.ctor).toBe(ctor)
          return rony.KeyValue.create({ Key: 'raw', Value: text })
        },
      )
    })
    peer.send(encodeEnvelope({ ctor, requestId: 9n, message: new TextEncoder().encode('héllo') }))
    const reply = await peer.next()
    expect(reply.requestId).toBe(9n)
    expect(rony.KeyValue.decode(reply.message).Value).toBe('héllo')
    expect(decoded).toEqual(['héllo'])
  })

  it('throws TypeError when a type gets a second handler', () => {
    const { edge } = testEdge()
    const reply: Handler = () => rony.Pong.create()
    edge.handle(EchoRequest, reply)
    expect(() => edge.handle(EchoRequest, reply)).toThrow(TypeError)
    edge.handle(rony.KeyValue, reply)
    expect(() => edge.handle(rony.KeyValue, reply)).toThrow(TypeError)
    edge.handle({ ctor: 77n, decode: (bytes) => bytes }, reply)
    expect(() => edge.handle({ ctor: 77n, decode: (bytes) => bytes }, reply)).toThrow(TypeError)
    // A raw type under the constructor of a typed one is the same route.
    expect(() => edge.handle({ ctor: C_EchoRequest, decode: (bytes) => bytes }, reply)).toThrow(
      TypeError,
    )
  })

  it('throws TypeError when the handler is not a function', () => {
    const { edge } = testEdge()
    expect(() => edge.handle(EchoRequest, 'nope' as unknown as Handler)).toThrow(TypeError)
  })

  it('lets the application replace the built-in Ping handler', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(rony.Ping, (p) => rony.Pong.create({ ID: Number(p.ID) + 1000 }))
    })
    peer.send(ping(1n, 5))
    expect(pongId(await peer.next())).toBe('1005')
  })

  it('answers GetNodes and GetAllNodes with Edges naming this server and its addresses', async () => {
    const a = memoryGateway({ name: 'a' })
    const b = memoryGateway({ name: 'b' })
    const edge = createEdge({ id: 'edge-7', gateways: [a, b] })
    await edge.start()
    try {
      const peer = new Peer(b)
      peer.send(request(rony.GetNodes, { ReplicaSet: [] }, 11n))
      peer.send(encodeEnvelope({ ctor: C_GetAllNodes, requestId: 12n }))
      for (const requestId of [11n, 12n]) {
        const reply = await peer.next()
        expect(reply.requestId).toBe(requestId)
        expect(reply.ctor).toBe(C_Edges)
        const edges = rony.Edges.decode(reply.message)
        expect(edges.Nodes).toHaveLength(1)
        expect(edges.Nodes[0]?.ServerID).toBe('edge-7')
        expect(edges.Nodes[0]?.HostPorts).toEqual(['memory://a', 'memory://b'])
        expect(String(edges.Nodes[0]?.ReplicaSet)).toBe('0')
      }
      expect(C_GetNodes).toBe(constructorOf('GetNodes'))
    } finally {
      await edge.stop()
    }
  })

  it('lists every address of every gateway only while started', async () => {
    const { edge } = testEdge()
    expect(edge.addresses()).toEqual([])
    await edge.start()
    expect(edge.addresses()).toEqual(['memory://memory'])
    await edge.stop()
    expect(edge.addresses()).toEqual([])
  })
})

describe('hot path', () => {
  it('delivers a sync handler reply within send(), without a promise (logger disabled)', async () => {
    const gw = memoryGateway()
    const edge = createEdge({ id: 'n1', gateways: [gw] })
    edge.handle(EchoRequest, (req) => EchoResponse.create({ text: req.text }))
    await edge.start()
    try {
      const got: Uint8Array[] = []
      const client = gw.connect({ onMessage: (bytes) => got.push(bytes.slice()) })
      client.send(ping(1n, 2))
      // Received before send() returned: no microtask ran in between.
      expect(got).toHaveLength(1)
      client.send(request(EchoRequest, { text: 'sync' }, 2n))
      expect(got).toHaveLength(2)
      // Errors on the fast path are synchronous too.
      client.send(encodeEnvelope({ ctor: 424242n, requestId: 3n }))
      client.send(Uint8Array.of(0xff))
      expect(got).toHaveLength(4)
    } finally {
      await edge.stop()
    }
  })

  it('an async handler answers after send() returns', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(rony.Ping, async (p) => rony.Pong.create({ ID: p.ID }))
    })
    peer.send(ping(1n, 3))
    expect(peer.inbox).toHaveLength(0)
    expect(pongId(await peer.next())).toBe('3')
  })
})

describe('regressions', () => {
  it('a replaced built-in cannot be replaced a second time', () => {
    const { edge } = testEdge()
    edge.handle(rony.Ping, () => rony.Pong.create({ ID: 1 }))
    expect(() => edge.handle(rony.Ping, () => rony.Pong.create({ ID: 2 }))).toThrow(TypeError)
  })

  it('a raw type that happens to be named "Ping" still cannot get two handlers', () => {
    const { edge } = testEdge()
    const raw = { ctor: 1234n, name: 'Ping', decode: (bytes: Uint8Array) => bytes }
    edge.handle(raw, () => rony.Pong.create())
    expect(() => edge.handle(raw, () => rony.Pong.create())).toThrow(TypeError)
  })

  it('with `returns`, a reply that is an instance of another type is sent as that type', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(
        EchoRequest,
        (req) =>
          req.text === 'pong' ? rony.Pong.create({ ID: 5 }) : EchoResponse.create({ text: 'x' }),
        { returns: EchoResponse },
      )
    })
    peer.send(request(EchoRequest, { text: 'pong' }, 1n))
    const reply = await peer.next()
    expect(reply.ctor).toBe(C_Pong)
    expect(pongId(reply)).toBe('5')
  })
})
