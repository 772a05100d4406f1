import {
  C_Error,
  C_Ping,
  createRegistry,
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  RonyError,
  rony,
} from '@rony/envelope'
import { describe, expect, it } from 'vitest'
import { EMPTY_HEADERS, type RequestOrigin } from '../src/connection.js'
import type { Middleware, RequestContext } from '../src/context.js'
import { disabledLogger } from '../src/logger.js'
import { Pipeline } from '../src/pipeline.js'
import { HandlerRegistry } from '../src/registry.js'
import { BatchSink, DISCARD_SINK, type ReplySink } from '../src/reply.js'
import { WorkCounter } from '../src/work.js'
import {
  C_EchoRequest,
  deferred,
  EchoRequest,
  EchoResponse,
  errorOf,
  request,
  requestInit,
} from './helpers.js'

/**
 * The pipeline on its own: requests run from envelope fields and an origin that is no
 * connection (as a replica applying the log, or a request relayed over a tunnel, will),
 * answering into a sink.
 */

interface Rig {
  pipeline: Pipeline
  handlers: HandlerRegistry
  work: WorkCounter
  middleware: Middleware[]
  failures: [unknown, RequestContext][]
}

function rig(): Rig {
  const handlers = new HandlerRegistry(createRegistry())
  const work = new WorkCounter()
  const middleware: Middleware[] = []
  const failures: [unknown, RequestContext][] = []
  const pipeline = new Pipeline('n2', handlers, middleware, work, disabledLogger, {
    handlerError: (error, ctx) => failures.push([error, ctx]),
  })
  return { pipeline, handlers, work, middleware, failures }
}

/** An origin with no connection on this edge. */
function remoteOrigin(): RequestOrigin {
  return {
    conn: undefined,
    gateway: 'log',
    headers: EMPTY_HEADERS,
    store: new Map(),
    signal: new AbortController().signal,
    inFlight: 0,
  }
}

function echoEnvelope(text: string, requestId: bigint): Envelope {
  return decodeEnvelope(
    request(EchoRequest, { text }, requestId, {
      auth: Uint8Array.of(9, 8),
      header: [{ key: 'session', value: 's1' }],
    }),
  )
}

/** Runs `envelope` to completion and returns what the sink collected, as wire bytes. */
async function answersOf(
  { pipeline, handlers }: Rig,
  envelope: Envelope,
  origin = remoteOrigin(),
): Promise<Envelope[]> {
  const sink = new BatchSink()
  await pipeline.run(handlers.get(envelope.ctor)!, envelope, origin, sink)
  return sink.replies.map((init) => decodeEnvelope(encodeEnvelope(init)))
}

describe('pipeline without a connection', () => {
  it('runs a request from its envelope and an origin, and captures the reply as bytes', async () => {
    const t = rig()
    let seen: RequestContext | undefined
    t.handlers.add(
      EchoRequest,
      (req, ctx) => {
        seen = ctx as RequestContext
        return EchoResponse.create({ text: `${req.text}!` })
      },
      {},
    )
    const origin = remoteOrigin()
    const [reply, ...rest] = await answersOf(t, echoEnvelope('hi', 2n ** 64n - 1n), origin)
    expect(rest).toEqual([])
    expect(reply!.requestId).toBe(2n ** 64n - 1n)
    expect(EchoResponse.decode(reply!.message).text).toBe('hi!')
    // The handler sees the envelope's fields and the origin's, and this edge's id.
    expect(seen!.serverId).toBe('n2')
    expect(seen!.ctor).toBe(C_EchoRequest)
    expect([...seen!.auth]).toEqual([9, 8])
    expect(seen!.headerValue('session')).toBe('s1')
    expect(seen!.gateway).toBe('log')
    expect(seen!.connStore).toBe(origin.store)
    expect(() => seen!.conn).toThrow(TypeError)
    expect(origin.inFlight).toBe(0)
  })

  it('a throw is an answer: a RonyError as itself, anything else E00/SERVER and reported', async () => {
    const t = rig()
    const boom = new Error('boom')
    t.handlers.add(
      EchoRequest,
      async (req) => {
        if (req.text === 'rony') throw new RonyError('E08', 'KEY', 'exists')
        throw boom
      },
      {},
    )
    const [coded] = await answersOf(t, echoEnvelope('rony', 1n))
    expect(coded!.requestId).toBe(1n)
    expect(errorOf(coded!)).toEqual({ code: 'E08', items: 'KEY', description: 'exists' })
    expect(t.failures).toEqual([])

    const [internal] = await answersOf(t, echoEnvelope('other', 2n))
    expect(internal!.requestId).toBe(2n)
    expect(errorOf(internal!)).toMatchObject({ code: 'E00', items: 'SERVER' })
    expect(t.failures.map(([error, ctx]) => [error, ctx.requestId])).toEqual([[boom, 2n]])
  })

  it('answers a payload that does not decode with E01 and runs no handler', async () => {
    const t = rig()
    let calls = 0
    t.handlers.add(
      rony.Ping,
      () => {
        calls++
        return rony.Pong.create()
      },
      {},
    )
    const envelope = decodeEnvelope(
      encodeEnvelope({ ctor: C_Ping, requestId: 5n, message: Uint8Array.of(0x08, 0xff) }),
    )
    const [reply] = await answersOf(t, envelope)
    expect(reply!.requestId).toBe(5n)
    expect(errorOf(reply!)).toMatchObject({ code: 'E01', items: 'ENVELOPE' })
    expect(calls).toBe(0)
  })

  it('runs the middleware chain around the handler', async () => {
    const t = rig()
    t.middleware.push(async (ctx, next) => {
      ctx.store.set('by', 'middleware')
      await next()
    })
    t.handlers.add(
      EchoRequest,
      (req, ctx) => EchoResponse.create({ text: `${req.text} ${String(ctx.store.get('by'))}` }),
      {},
    )
    const [reply] = await answersOf(t, echoEnvelope('set', 3n))
    expect(EchoResponse.decode(reply!.message).text).toBe('set middleware')
  })

  it('a batch sink with no connection collects every ctx.send; pushes go nowhere', async () => {
    const t = rig()
    const results: boolean[] = []
    t.handlers.add(
      EchoRequest,
      (req, ctx) => {
        results.push(ctx.send(EchoResponse.create({ text: `${req.text}-1` })))
        results.push(ctx.push(rony.Pong.create({ ID: 1 })))
        return EchoResponse.create({ text: `${req.text}-2` })
      },
      {},
    )
    const replies = await answersOf(t, echoEnvelope('b', 4n))
    expect(
      replies.map((reply) => [reply.requestId, EchoResponse.decode(reply.message).text]),
    ).toEqual([
      [4n, 'b-1'],
      [4n, 'b-2'],
    ])
    expect(results).toEqual([true, false])
  })

  it('the discard sink runs the handler and keeps nothing; the work is counted until it ends', async () => {
    const t = rig()
    const gate = deferred()
    const results: boolean[] = []
    let applied = 0
    t.handlers.add(
      EchoRequest,
      async (req, ctx) => {
        applied++
        results.push(ctx.send(EchoResponse.create(req)), ctx.push(rony.Pong.create({ ID: 1 })))
        await gate.promise
        return EchoResponse.create(req)
      },
      {},
    )
    const origin = remoteOrigin()
    const pending = t.pipeline.run(
      t.handlers.get(C_EchoRequest)!,
      echoEnvelope('d', 6n),
      origin,
      DISCARD_SINK,
    )
    expect(pending).toBeDefined()
    expect(applied).toBe(1)
    expect([origin.inFlight, t.work.running]).toEqual([1, 1])
    gate.resolve()
    await pending
    expect([origin.inFlight, t.work.running]).toEqual([0, 0])
    expect(results).toEqual([false, false])
    expect(DISCARD_SINK.canPush).toBe(false)
  })

  it('a sync handler with no middleware answers before run() returns, with no promise', () => {
    const t = rig()
    t.handlers.add(rony.Ping, (ping) => rony.Pong.create({ ID: ping.ID }), {})
    const answers: bigint[] = []
    const sink: ReplySink = {
      canPush: false,
      reply: (envelope) => {
        answers.push(envelope.ctor === C_Error ? -1n : (envelope.requestId ?? 0n))
        return true
      },
      push: () => false,
    }
    const envelope = decodeEnvelope(encodeEnvelope(requestInit(rony.Ping, { ID: 3 }, 12n)))
    expect(
      t.pipeline.run(t.handlers.get(envelope.ctor)!, envelope, remoteOrigin(), sink),
    ).toBeUndefined()
    expect(answers).toEqual([12n])
  })
})
