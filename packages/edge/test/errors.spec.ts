import {
  C_Error,
  C_MessageContainer,
  C_Ping,
  encodeContainer,
  encodeEnvelope,
  RonyError,
  rony,
} from '@rony/envelope'
import { afterEach, describe, expect, it } from 'vitest'
import type { RequestContext } from '../src/index.js'
import {
  container,
  EchoRequest,
  EchoResponse,
  errorOf,
  ping,
  pingInit,
  pongId,
  request,
  startedEdge,
  stopEdges,
  turns,
} from './helpers.js'

afterEach(stopEdges)

const INTERNAL = { code: 'E00', items: 'SERVER', description: 'internal server error' }

describe('error replies (DESIGN §3)', () => {
  it('unknown constructor → E01/HANDLER with the request id', async () => {
    const { peer } = await startedEdge()
    peer.send(encodeEnvelope({ ctor: 0x1234_5678_9abc_def0n, requestId: 2n ** 64n - 1n }))
    const reply = await peer.next()
    expect(reply.requestId).toBe(2n ** 64n - 1n)
    expect(errorOf(reply)).toMatchObject({ code: 'E01', items: 'HANDLER' })
    expect(errorOf(reply).description).toContain(String(0x1234_5678_9abc_def0n))
  })

  it('undecodable envelope bytes → E01/ENVELOPE with request id 0', async () => {
    const { peer } = await startedEdge()
    const truncated = ping(99n).subarray(0, 5) // cut inside the fixed64 request id
    for (const bytes of [Uint8Array.of(0xff), truncated, Uint8Array.of(0x0f)]) {
      peer.send(bytes)
      const reply = await peer.next()
      expect(reply.requestId).toBe(0n)
      expect(errorOf(reply)).toMatchObject({ code: 'E01', items: 'ENVELOPE' })
    }
  })

  it('undecodable payload → E01/ENVELOPE with the request id', async () => {
    const { peer } = await startedEdge()
    // Ping.ID is a varint; 0x08 0xff is a truncated one.
    peer.send(encodeEnvelope({ ctor: C_Ping, requestId: 21n, message: Uint8Array.of(0x08, 0xff) }))
    const reply = await peer.next()
    expect(reply.requestId).toBe(21n)
    expect(errorOf(reply)).toMatchObject({ code: 'E01', items: 'ENVELOPE' })
    expect(errorOf(reply).description).toContain('Ping')
  })

  it('a raw decoder that throws → E01/ENVELOPE with the request id', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(
        {
          ctor: 5n,
          name: 'Strict',
          decode: () => {
            throw new Error('no')
          },
        },
        () => rony.Pong.create(),
      )
    })
    peer.send(encodeEnvelope({ ctor: 5n, requestId: 22n }))
    const reply = await peer.next()
    expect(reply.requestId).toBe(22n)
    expect(errorOf(reply)).toMatchObject({ code: 'E01', items: 'ENVELOPE' })
    expect(errorOf(reply).description).toContain('Strict')
  })

  it('a raw decoder that throws a RonyError answers with that error', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(
        {
          ctor: 5n,
          decode: () => {
            throw new RonyError('E10', 'FIELD', 'out of range')
          },
        },
        () => rony.Pong.create(),
      )
    })
    peer.send(encodeEnvelope({ ctor: 5n, requestId: 23n }))
    expect(errorOf(await peer.next())).toEqual({
      code: 'E10',
      items: 'FIELD',
      description: 'out of range',
    })
  })

  it('a handler that throws a RonyError → its code, items and description', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, (req) => {
        throw new RonyError('E07', 'USER', `no access for ${req.text}`)
      })
      edge.handle(rony.KeyValue, async (kv) => {
        await Promise.resolve()
        throw new RonyError('E08', kv.Key, 'exists')
      })
    })
    peer.send(request(EchoRequest, { text: 'bob' }, 31n))
    const sync = await peer.next()
    expect(sync.requestId).toBe(31n)
    expect(errorOf(sync)).toEqual({ code: 'E07', items: 'USER', description: 'no access for bob' })
    peer.send(request(rony.KeyValue, { Key: 'ITEM' }, 32n))
    const async = await peer.next()
    expect(async.requestId).toBe(32n)
    expect(errorOf(async)).toEqual({ code: 'E08', items: 'ITEM', description: 'exists' })
  })

  it('a RonyError does not fire handler:error', async () => {
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, () => {
        throw new RonyError('E07', 'USER')
      })
    })
    const events: unknown[] = []
    edge.on('handler:error', (error) => events.push(error))
    peer.send(request(EchoRequest, { text: '' }, 1n))
    await peer.next()
    expect(events).toEqual([])
  })

  it('a handler that throws a plain Error → E00/SERVER, and handler:error fires with it and ctx', async () => {
    const boom = new Error('secret detail')
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, () => {
        throw boom
      })
    })
    const events: [unknown, RequestContext][] = []
    edge.on('handler:error', (error, ctx) => events.push([error, ctx]))
    peer.send(request(EchoRequest, { text: 'x' }, 41n))
    const reply = await peer.next()
    expect(reply.requestId).toBe(41n)
    // The client learns nothing of the error's message.
    expect(errorOf(reply)).toEqual(INTERNAL)
    expect(events).toHaveLength(1)
    expect(events[0]?.[0]).toBe(boom)
    expect(events[0]?.[1].requestId).toBe(41n)
    expect(events[0]?.[1].request).toMatchObject({ text: 'x' })
  })

  it('a handler that rejects → E00/SERVER, and handler:error fires with the reason and ctx', async () => {
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async () => {
        await Promise.resolve()
        throw new TypeError('async boom')
      })
      // Rejecting with something that is not even an Error.
      edge.handle(rony.KeyValue, () => Promise.reject('a string'))
    })
    const events: [unknown, bigint][] = []
    edge.on('handler:error', (error, ctx) => events.push([error, ctx.requestId]))
    peer.send(request(EchoRequest, { text: 'x' }, 42n))
    const reply = await peer.next()
    expect(reply.requestId).toBe(42n)
    expect(errorOf(reply)).toEqual(INTERNAL)
    peer.send(request(rony.KeyValue, {}, 43n))
    const second = await peer.next()
    expect(second.requestId).toBe(43n)
    expect(errorOf(second)).toEqual(INTERNAL)
    expect(events.map(([, id]) => id)).toEqual([42n, 43n])
    expect(events[0]?.[0]).toBeInstanceOf(TypeError)
    expect(events[1]?.[0]).toBe('a string')
  })

  it('a handler that returns nothing and sends nothing → E00/HANDLER (RONY_ERR_NO_REPLY)', async () => {
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, () => undefined)
      edge.handle(rony.KeyValue, async () => null as unknown as undefined)
    })
    const events: unknown[] = []
    edge.on('handler:error', (error) => events.push(error))
    peer.send(request(EchoRequest, { text: 'x' }, 51n))
    peer.send(request(rony.KeyValue, {}, 52n))
    for (const requestId of [51n, 52n]) {
      const reply = await peer.next()
      expect(reply.requestId).toBe(requestId)
      expect(errorOf(reply)).toEqual({
        code: 'E00',
        items: 'HANDLER',
        description: 'the handler returned no reply and sent none',
      })
    }
    expect(events).toEqual([])
  })

  it('a reply that cannot be encoded (plain object, no `returns`) → E00, reported as handler:error', async () => {
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, (req) => ({ text: req.text }))
      edge.handle(rony.KeyValue, async () => 'not a message')
    })
    const events: unknown[] = []
    edge.on('handler:error', (error) => events.push(error))
    peer.send(request(EchoRequest, { text: 'x' }, 61n))
    const reply = await peer.next()
    expect(reply.requestId).toBe(61n)
    expect(errorOf(reply)).toEqual(INTERNAL)
    peer.send(request(rony.KeyValue, {}, 62n))
    const second = await peer.next()
    expect(second.requestId).toBe(62n)
    expect(errorOf(second)).toEqual(INTERNAL)
    expect(events).toHaveLength(2)
    expect(events[0]).toBeInstanceOf(TypeError)
    // Exactly one reply per request: nothing else is queued.
    expect(peer.inbox).toEqual([])
  })
})

describe('the connection survives every bad input', () => {
  it('answers a Ping after each of 10 kinds of malformed input', async () => {
    const { edge, peer } = await startedEdge(
      { limits: { maxEnvelopeBytes: 256, maxContainerEnvelopes: 4 } },
      (edge) => {
        edge.handle(EchoRequest, (req) => EchoResponse.create(req))
      },
    )
    const overlongVarint = Uint8Array.of(0x08, ...new Array<number>(11).fill(0xff), 0x01)
    const badInputs: [name: string, bytes: Uint8Array, code: string, items: string][] = [
      ['garbage byte', Uint8Array.of(0xff), 'E01', 'ENVELOPE'],
      ['truncated envelope', ping(7n).subarray(0, 4), 'E01', 'ENVELOPE'],
      ['overlong varint', overlongVarint, 'E01', 'ENVELOPE'],
      ['bytes field longer than the frame', Uint8Array.of(0x22, 0x7f, 0x00), 'E01', 'ENVELOPE'],
      ['empty frame (constructor 0)', new Uint8Array(0), 'E01', 'HANDLER'],
      ['unknown constructor', encodeEnvelope({ ctor: 99n, requestId: 1n }), 'E01', 'HANDLER'],
      [
        'undecodable payload',
        request(EchoRequest, { text: '' }, 1n, { message: Uint8Array.of(0x0a, 0x05, 0x61) }),
        'E01',
        'ENVELOPE',
      ],
      [
        'garbage container',
        encodeEnvelope({ ctor: C_MessageContainer, message: Uint8Array.of(0x12, 0x40) }),
        'E01',
        'ENVELOPE',
      ],
      [
        'container over maxContainerEnvelopes',
        container([1n, 2n, 3n, 4n, 5n].map((id) => pingInit(id))),
        'E03',
        'ENVELOPES',
      ],
      ['envelope over maxEnvelopeBytes', new Uint8Array(257), 'E01', 'ENVELOPE'],
    ]
    const events: unknown[] = []
    edge.on('handler:error', (error) => events.push(error))
    let id = 1000n
    for (const [name, bytes, code, items] of badInputs) {
      peer.send(bytes)
      const error = await peer.next()
      expect(errorOf(error), name).toMatchObject({ code, items })
      id++
      peer.send(ping(id, Number(id)))
      const pong = await peer.next()
      expect(pong.requestId, `Ping after ${name}`).toBe(id)
      expect(pongId(pong), `Ping after ${name}`).toBe(String(id))
    }
    expect(peer.closed).toBe(false)
    expect(edge.connectionCount).toBe(1)
    expect(events).toEqual([])
  })

  it('keeps answering after handler failures of every kind', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, (req) => {
        if (req.text === 'throw') throw new Error('x')
        if (req.text === 'rony') throw new RonyError('E09', 'BUSY')
        if (req.text === 'reject') return Promise.reject(new Error('y'))
        if (req.text === 'plain') return { text: 'no type' }
        return undefined
      })
    })
    const kinds = ['throw', 'rony', 'reject', 'plain', 'nothing']
    let id = 0n
    for (const text of kinds) {
      peer.send(request(EchoRequest, { text }, ++id))
      const error = await peer.next()
      expect(error.ctor, text).toBe(C_Error)
      expect(error.requestId, text).toBe(id)
      peer.send(ping(++id))
      expect((await peer.next()).requestId, `Ping after ${text}`).toBe(id)
    }
  })

  it('survives a container of malformed envelopes, each answered in the batch', async () => {
    const { peer } = await startedEdge()
    peer.send(
      encodeEnvelope({
        ctor: C_MessageContainer,
        message: encodeContainer({
          envelopes: [
            { ctor: C_Ping, requestId: 1n, message: Uint8Array.of(0x08) },
            { ctor: 12345n, requestId: 2n },
            pingInit(3n, 3),
          ],
        }),
      }),
    )
    const batch = await peer.next()
    expect(batch.ctor).toBe(C_MessageContainer)
    peer.send(ping(4n))
    expect((await peer.next()).requestId).toBe(4n)
  })
})

describe('logging', () => {
  it('logs through the injected logger under rony:edge:<id>, without changing replies', async () => {
    const lines: string[] = []
    const names: string[] = []
    const log = (level: string) =>
      Object.assign(
        (format: string, ...args: unknown[]) => lines.push(`${level} ${format} ${args.length}`),
        {
          enabled: true,
        },
      )
    const logger = {
      forComponent: (name: string) => {
        names.push(name)
        return Object.assign(log('debug'), {
          error: log('error'),
          warn: log('warn'),
          trace: log('trace'),
        })
      },
    }
    const { peer } = await startedEdge({ id: 'n9', logger }, (edge) => {
      edge.handle(EchoRequest, () => {
        throw new Error('boom')
      })
    })
    expect(names).toEqual(['rony:edge:n9'])
    peer.send(Uint8Array.of(0xff))
    expect(errorOf(await peer.next())).toMatchObject({ code: 'E01', items: 'ENVELOPE' })
    peer.send(request(EchoRequest, { text: '' }, 1n))
    expect(errorOf(await peer.next())).toMatchObject({ code: 'E00', items: 'SERVER' })
    peer.send(ping(2n))
    expect((await peer.next()).requestId).toBe(2n)
    expect(lines.some((line) => line.startsWith('debug undecodable frame'))).toBe(true)
    expect(lines.some((line) => line.startsWith('error handler for %s failed'))).toBe(true)
  })
})

describe('regressions', () => {
  it('a throwing handler:error listener neither loses the E00 reply nor leaks an unhandled rejection (async handler)', async () => {
    const unhandled: unknown[] = []
    const saved = process.listeners('unhandledRejection')
    process.removeAllListeners('unhandledRejection')
    const catcher = (reason: unknown): void => {
      unhandled.push(reason)
    }
    process.on('unhandledRejection', catcher)
    let replied: string
    try {
      const { edge, peer } = await startedEdge({}, (edge) => {
        edge.handle(EchoRequest, async () => {
          throw new Error('handler failure')
        })
      })
      edge.on('handler:error', () => {
        throw new Error('bug in a listener')
      })
      peer.send(request(EchoRequest, { text: '' }, 1n))
      replied = await peer.next(500).then(
        (reply) => errorOf(reply).code,
        () => 'no reply',
      )
      await turns(3)
    } finally {
      process.off('unhandledRejection', catcher)
      for (const listener of saved) process.on('unhandledRejection', listener)
    }
    expect(unhandled).toEqual([])
    expect(replied).toBe('E00')
  })
})
