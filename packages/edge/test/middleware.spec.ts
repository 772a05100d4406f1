import { RonyError, type rony } from '@rony/envelope'
import { afterEach, describe, expect, it } from 'vitest'
import type { Middleware } from '../src/index.js'
import {
  deferred,
  EchoRequest,
  EchoResponse,
  errorOf,
  ping,
  pongId,
  request,
  startedEdge,
  stopEdges,
  testEdge,
} from './helpers.js'

afterEach(stopEdges)

describe('middleware', () => {
  it('runs koa-style, in the order added, around the handler', async () => {
    const order: string[] = []
    const seenResponse: unknown[] = []
    const { peer } = await startedEdge({}, (edge) => {
      edge.use(async (ctx, next) => {
        order.push('a:before')
        await next()
        seenResponse.push(ctx.response)
        order.push('a:after')
      })
      edge.use(async (_ctx, next) => {
        order.push('b:before')
        await next()
        order.push('b:after')
      })
      edge.handle(EchoRequest, async (req) => {
        order.push('handler')
        await Promise.resolve()
        return EchoResponse.create(req)
      })
    })
    peer.send(request(EchoRequest, { text: 'm' }, 1n))
    const reply = await peer.next()
    expect(reply.requestId).toBe(1n)
    expect(EchoResponse.decode(reply.message).text).toBe('m')
    expect(order).toEqual(['a:before', 'b:before', 'handler', 'b:after', 'a:after'])
    expect(seenResponse).toHaveLength(1)
    expect(seenResponse[0]).toMatchObject({ text: 'm' })
  })

  it('runs around the built-in handlers too, and sees the decoded request', async () => {
    const seen: unknown[] = []
    const { peer } = await startedEdge({}, (edge) => {
      edge.use(async (ctx, next) => {
        seen.push(ctx.request)
        await next()
      })
    })
    peer.send(ping(1n, 5))
    expect(pongId(await peer.next())).toBe('5')
    expect(String((seen[0] as rony.Ping).ID)).toBe('5')
  })

  it('a middleware may replace the response after next()', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.use(async (ctx, next) => {
        await next()
        ctx.response = EchoResponse.create({ text: 'replaced' })
      })
      edge.handle(EchoRequest, (req) => EchoResponse.create(req))
    })
    peer.send(request(EchoRequest, { text: 'original' }, 1n))
    expect(EchoResponse.decode((await peer.next()).message).text).toBe('replaced')
  })

  it('passes data to the handler through ctx.store', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.use(async (ctx, next) => {
        ctx.store.set('user', ctx.headerValue('user') ?? 'anonymous')
        await next()
      })
      edge.handle(EchoRequest, (_req, ctx) =>
        EchoResponse.create({ text: String(ctx.store.get('user')) }),
      )
    })
    peer.send(request(EchoRequest, { text: '' }, 1n, { header: [{ key: 'user', value: 'ana' }] }))
    expect(EchoResponse.decode((await peer.next()).message).text).toBe('ana')
  })

  it('a middleware that throws a RonyError short-circuits: handler not called, error replied', async () => {
    let handlerCalls = 0
    const after: string[] = []
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.use(async (_ctx, next) => {
        try {
          await next()
        } finally {
          after.push('outer saw the end')
        }
      })
      edge.use((ctx) => {
        if (ctx.auth.length === 0) throw new RonyError('E07', 'AUTH', 'sign in first')
      })
      edge.handle(EchoRequest, (req) => {
        handlerCalls++
        return EchoResponse.create(req)
      })
    })
    const events: unknown[] = []
    edge.on('handler:error', (error) => events.push(error))
    peer.send(request(EchoRequest, { text: '' }, 4n))
    const reply = await peer.next()
    expect(reply.requestId).toBe(4n)
    expect(errorOf(reply)).toEqual({ code: 'E07', items: 'AUTH', description: 'sign in first' })
    expect(handlerCalls).toBe(0)
    expect(after).toEqual(['outer saw the end'])
    expect(events).toEqual([])
  })

  it('a middleware that throws a plain Error → E00/SERVER and handler:error', async () => {
    const boom = new Error('middleware bug')
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.use(() => {
        throw boom
      })
    })
    const events: unknown[] = []
    edge.on('handler:error', (error) => events.push(error))
    peer.send(ping(5n))
    const reply = await peer.next()
    expect(reply.requestId).toBe(5n)
    expect(errorOf(reply)).toEqual({
      code: 'E00',
      items: 'SERVER',
      description: 'internal server error',
    })
    expect(events).toEqual([boom])
  })

  it('a middleware that sets ctx.response without next() answers with it', async () => {
    let handlerCalls = 0
    const { peer } = await startedEdge({}, (edge) => {
      edge.use((ctx) => {
        ctx.response = EchoResponse.create({ text: 'cached' })
      })
      edge.handle(EchoRequest, (req) => {
        handlerCalls++
        return EchoResponse.create(req)
      })
    })
    peer.send(request(EchoRequest, { text: 'fresh' }, 6n))
    const reply = await peer.next()
    expect(reply.requestId).toBe(6n)
    expect(EchoResponse.decode(reply.message).text).toBe('cached')
    expect(handlerCalls).toBe(0)
  })

  it('a plain-object ctx.response is encoded with the handler’s `returns` type', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.use((ctx) => {
        ctx.response = { text: 'plain from middleware' }
      })
      edge.handle(EchoRequest, (req) => req, { returns: EchoResponse })
    })
    peer.send(request(EchoRequest, { text: '' }, 7n))
    expect(EchoResponse.decode((await peer.next()).message).text).toBe('plain from middleware')
  })

  it('a middleware that neither calls next() nor sets a response → E00/HANDLER', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.use(() => {})
    })
    peer.send(ping(8n))
    const reply = await peer.next()
    expect(reply.requestId).toBe(8n)
    expect(errorOf(reply)).toMatchObject({ code: 'E00', items: 'HANDLER' })
  })

  it('next() called twice rejects (and an unhandled second call answers E00)', async () => {
    const second = deferred<unknown>()
    let handlerCalls = 0
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.use(async (_ctx, next) => {
        await next()
        await next().then(
          () => second.resolve('resolved'),
          (error: unknown) => {
            second.resolve(error)
            throw error
          },
        )
      })
      edge.handle(EchoRequest, (req) => {
        handlerCalls++
        return EchoResponse.create(req)
      })
    })
    const events: unknown[] = []
    edge.on('handler:error', (error) => events.push(error))
    peer.send(request(EchoRequest, { text: 'x' }, 9n))
    const error = await second.promise
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/next\(\) called more than once/)
    expect(handlerCalls).toBe(1)
    const reply = await peer.next()
    expect(reply.requestId).toBe(9n)
    expect(errorOf(reply)).toMatchObject({ code: 'E00', items: 'SERVER' })
    expect(events).toEqual([error])
  })

  it('use() after start() throws; use() of a non-function throws TypeError', async () => {
    const { edge } = testEdge()
    expect(() => edge.use('x' as unknown as Middleware)).toThrow(TypeError)
    await edge.start()
    expect(() => edge.use(async (_ctx, next) => next())).toThrow(/before start/)
  })
})
