import { constructorOf, RonyError, rony } from '@rony/envelope'
import { afterEach, describe, expect, it } from 'vitest'
import { createEdge, memoryGateway, type RequestContext } from '../src/index.js'
import {
  deferred,
  EchoRequest,
  EchoResponse,
  Peer,
  ping,
  pongId,
  request,
  startedEdge,
  stopEdges,
  turns,
} from './helpers.js'

afterEach(stopEdges)

/** Runs one EchoRequest through an edge and returns what the handler saw. */
async function capture(
  extra: Parameters<typeof request>[3] = {},
  connectInit: ConstructorParameters<typeof Peer>[1] = {},
): Promise<RequestContext> {
  const gw = memoryGateway({ name: 'mem' })
  const edge = createEdge({ id: 'server-1', gateways: [gw] })
  let seen: RequestContext | undefined
  edge.handle(EchoRequest, (req, ctx) => {
    seen = ctx as RequestContext
    return EchoResponse.create(req)
  })
  await edge.start()
  try {
    const peer = new Peer(gw, connectInit)
    peer.send(request(EchoRequest, { text: 'hi' }, 123n, extra))
    await peer.next()
  } finally {
    await edge.stop()
  }
  expect(seen).toBeDefined()
  return seen!
}

describe('ctx', () => {
  it('exposes serverId, gateway, requestId, ctor, request and conn', async () => {
    const ctx = await capture()
    expect(ctx.serverId).toBe('server-1')
    expect(ctx.receivedBy).toBe('server-1') // run where it arrived
    expect(ctx.gateway).toBe('mem')
    expect(ctx.requestId).toBe(123n)
    expect(ctx.ctor).toBe(constructorOf('EchoRequest'))
    expect(ctx.request).toMatchObject({ text: 'hi' })
    expect(ctx.conn.protocol).toBe('memory')
    expect(ctx.conn.persistent).toBe(true)
  })

  it('exposes envelope headers in wire order, duplicates kept; headerValue finds the first', async () => {
    const header = [
      { key: 'trace', value: 't1' },
      { key: 'lang', value: 'fa' },
      { key: 'trace', value: 't2' },
    ]
    const ctx = await capture({ header })
    expect(ctx.header).toEqual(header)
    expect(ctx.headerValue('trace')).toBe('t1')
    expect(ctx.headerValue('lang')).toBe('fa')
    expect(ctx.headerValue('missing')).toBeUndefined()
  })

  it('has no headers when none were sent', async () => {
    const ctx = await capture()
    expect(ctx.header).toEqual([])
    expect(ctx.headerValue('trace')).toBeUndefined()
  })

  it('exposes the transport headers of the connection', async () => {
    const ctx = await capture(
      {},
      { headers: { 'user-agent': 'test', 'x-forwarded-for': '1.2.3.4' } },
    )
    expect(ctx.transportHeaders.get('user-agent')).toBe('test')
    expect(ctx.transportHeaders.get('x-forwarded-for')).toBe('1.2.3.4')
    expect(ctx.transportHeaders.size).toBe(2)
  })

  it('exposes auth bytes, empty when none were sent', async () => {
    const auth = Uint8Array.of(1, 2, 3, 250)
    expect([...(await capture({ auth })).auth]).toEqual([1, 2, 3, 250])
    expect((await capture()).auth).toHaveLength(0)
  })

  it('gives each request its own store', async () => {
    const seen: unknown[] = []
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, (req, ctx) => {
        seen.push(ctx.store.get('text'))
        ctx.store.set('text', req.text)
        return EchoResponse.create(req)
      })
    })
    peer.send(request(EchoRequest, { text: 'a' }, 1n))
    peer.send(request(EchoRequest, { text: 'b' }, 2n))
    await peer.next()
    await peer.next()
    expect(seen).toEqual([undefined, undefined])
  })

  it('shares connStore across the requests of one connection, not across connections', async () => {
    const { connect, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, (req, ctx) => {
        const count = ((ctx.connStore.get('count') as number | undefined) ?? 0) + 1
        ctx.connStore.set('count', count)
        return EchoResponse.create({ text: `${req.text}${count}` })
      })
    })
    const other = connect()
    const texts: string[] = []
    for (const [client, text] of [
      [peer, 'a'],
      [peer, 'a'],
      [other, 'b'],
      [peer, 'a'],
      [other, 'b'],
    ] as const) {
      client.send(request(EchoRequest, { text }, 1n))
      texts.push(EchoResponse.decode((await client.next()).message).text)
    }
    expect(texts).toEqual(['a1', 'a2', 'b1', 'a3', 'b2'])
  })

  it('ctx.send sends several replies for one request, all carrying its id', async () => {
    const results: boolean[] = []
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (req, ctx) => {
        results.push(ctx.send(EchoResponse.create({ text: `${req.text}-1` })))
        await Promise.resolve()
        results.push(ctx.send({ text: `${req.text}-2` }, EchoResponse))
        return EchoResponse.create({ text: `${req.text}-3` })
      })
      // Sending only, returning nothing: no E00 follows.
      edge.handle(rony.KeyValue, (_kv, ctx) => {
        ctx.send(rony.Pong.create({ ID: 1 }))
        ctx.send(rony.Pong.create({ ID: 2 }))
        return undefined
      })
    })
    peer.send(request(EchoRequest, { text: 'r' }, 2n ** 64n - 1n))
    const replies = [await peer.next(), await peer.next(), await peer.next()]
    expect(replies.map((reply) => reply.requestId)).toEqual([
      2n ** 64n - 1n,
      2n ** 64n - 1n,
      2n ** 64n - 1n,
    ])
    expect(replies.map((reply) => EchoResponse.decode(reply.message).text)).toEqual([
      'r-1',
      'r-2',
      'r-3',
    ])
    expect(results).toEqual([true, true])

    peer.send(request(rony.KeyValue, {}, 8n))
    const pongs = [await peer.next(), await peer.next()]
    expect(pongs.map((reply) => [reply.requestId, pongId(reply)])).toEqual([
      [8n, '1'],
      [8n, '2'],
    ])
    await turns()
    expect(peer.inbox).toEqual([])
  })

  it('ctx.send returns false once the connection is closed', async () => {
    const gate = deferred()
    const sent = deferred<boolean>()
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (req, ctx) => {
        await gate.promise
        sent.resolve(ctx.send(EchoResponse.create(req)))
        return undefined
      })
    })
    peer.send(request(EchoRequest, { text: 'x' }, 1n))
    peer.close()
    gate.resolve()
    expect(await sent.promise).toBe(false)
  })

  it('ctx.push sends with request id 0 on a persistent connection, right away', async () => {
    const pushed: boolean[] = []
    const gate = deferred()
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (req, ctx) => {
        pushed.push(ctx.push(rony.Pong.create({ ID: 77 })))
        pushed.push(ctx.push({ text: 'update' }, EchoResponse))
        await gate.promise
        return EchoResponse.create(req)
      })
    })
    peer.send(request(EchoRequest, { text: 'req' }, 9n))
    // Both pushes arrived while the handler still waits.
    expect(peer.inbox.map((envelope) => envelope.requestId)).toEqual([0n, 0n])
    expect(pongId(peer.take())).toBe('77')
    expect(EchoResponse.decode(peer.take().message).text).toBe('update')
    expect(pushed).toEqual([true, true])
    gate.resolve()
    const reply = await peer.next()
    expect(reply.requestId).toBe(9n)
  })

  it('ctx.push returns false and sends nothing on a non-persistent connection', async () => {
    const pushed: boolean[] = []
    const { connect } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, (req, ctx) => {
        pushed.push(ctx.push(rony.Pong.create({ ID: 1 })))
        return EchoResponse.create(req)
      })
    })
    const http = connect({ persistent: false })
    http.send(request(EchoRequest, { text: 'once' }, 3n))
    const reply = await http.next()
    expect(reply.requestId).toBe(3n)
    expect(EchoResponse.decode(reply.message).text).toBe('once')
    expect(pushed).toEqual([false])
    expect(http.received).toHaveLength(1)
  })

  it('ctx.signal aborts when the connection closes while the handler awaits', async () => {
    const aborted = deferred<unknown>()
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (_req, ctx) => {
        expect(ctx.signal.aborted).toBe(false)
        ctx.signal.addEventListener('abort', () => aborted.resolve(ctx.signal.reason))
        await new Promise(() => {}) // never settles on its own
        return undefined
      })
    })
    peer.send(request(EchoRequest, { text: '' }, 1n))
    await turns(1)
    peer.close()
    const reason = await aborted.promise
    expect(reason).toBeInstanceOf(RonyError)
    expect((reason as RonyError).wireCode).toBe('E02')
    expect((reason as RonyError).items).toBe('CONNECTION')
  })

  it('ctx.signal is already aborted for a handler that reads it after the close', async () => {
    const gate = deferred()
    const result = deferred<boolean>()
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (_req, ctx) => {
        await gate.promise
        result.resolve(ctx.signal.aborted)
        return undefined
      })
    })
    peer.send(request(EchoRequest, { text: '' }, 1n))
    peer.close()
    gate.resolve()
    expect(await result.promise).toBe(true)
  })

  it('ctx.signal does not abort while the connection stays open', async () => {
    const signals: AbortSignal[] = []
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(rony.Ping, async (p, ctx) => {
        signals.push(ctx.signal)
        return rony.Pong.create({ ID: p.ID })
      })
    })
    peer.send(ping(1n))
    peer.send(ping(2n))
    await peer.next()
    await peer.next()
    expect(signals.map((signal) => signal.aborted)).toEqual([false, false])
  })

  it('ctx.signal aborts when stop() runs out of time', async () => {
    const aborted = deferred<unknown>()
    const started = deferred()
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (_req, ctx) => {
        ctx.signal.addEventListener('abort', () => aborted.resolve(ctx.signal.reason))
        started.resolve()
        await new Promise(() => {})
        return undefined
      })
    })
    peer.send(request(EchoRequest, { text: '' }, 1n))
    await started.promise
    await edge.stop({ timeout: 50 })
    const reason = await aborted.promise
    expect(reason).toBeInstanceOf(RonyError)
    expect((reason as RonyError).code).toBe('RONY_ERR_STOPPED')
    expect((reason as RonyError).wireCode).toBe('E02')
    expect(peer.closed).toBe(true)
  })

  it('a handler that passes ctx.signal on ends when it aborts; its late reply is dropped', async () => {
    const ended = deferred<unknown>()
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (_req, ctx) => {
        try {
          await new Promise((_resolve, reject) =>
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
          )
        } catch (error) {
          ended.resolve(error)
          throw error
        }
        return undefined
      })
    })
    peer.send(request(EchoRequest, { text: '' }, 1n))
    peer.close()
    expect(await ended.promise).toBeInstanceOf(RonyError)
    await turns()
    expect(peer.received).toEqual([])
  })
})
