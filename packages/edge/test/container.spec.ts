import {
  C_Error,
  C_MessageContainer,
  C_Pong,
  decodeEnvelope,
  encodeContainer,
  encodeEnvelope,
  RonyError,
  rony,
} from '@rony/envelope'
import { afterEach, describe, expect, it } from 'vitest'
import type { Edge } from '../src/index.js'
import {
  container,
  containerOf,
  deferred,
  EchoRequest,
  EchoResponse,
  errorOf,
  ping,
  pingInit,
  pongId,
  requestInit,
  Slow,
  sleep,
  startedEdge,
  stopEdges,
  track,
  turns,
} from './helpers.js'

afterEach(stopEdges)

const compareIds = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0)

/** Handlers for Slow: wait `delay` ms, record start/end by `tag`. */
function slowHandlers(order: string[]): (edge: Edge) => void {
  return (edge) => {
    edge.handle(Slow, async (req) => {
      order.push(`start ${req.tag}`)
      await sleep(req.delay)
      order.push(`end ${req.tag}`)
      return rony.Pong.create({ ID: req.tag })
    })
  }
}

describe('containers', () => {
  it('batches every reply, errors included, in ONE container envelope with inner request ids', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (req) => {
        await sleep(5)
        return EchoResponse.create(req)
      })
      edge.handle(rony.KeyValue, () => {
        throw new RonyError('E07', 'USER')
      })
    })
    peer.send(
      container([
        pingInit(1n, 1),
        { ctor: 4242n, requestId: 2n },
        requestInit(EchoRequest, { text: 'slow' }, 3n),
        requestInit(rony.KeyValue, {}, 4n),
        pingInit(2n ** 64n - 1n, 5),
      ]),
    )
    const reply = await peer.next()
    expect(reply.ctor).toBe(C_MessageContainer)
    expect(reply.requestId).toBe(0n)
    const inner = containerOf(reply)
    expect(inner).toHaveLength(5)
    const byId = new Map(inner.map((envelope) => [envelope.requestId, envelope]))
    expect([...byId.keys()].sort(compareIds)).toEqual([1n, 2n, 3n, 4n, 2n ** 64n - 1n])
    expect(pongId(byId.get(1n)!)).toBe('1')
    expect(errorOf(byId.get(2n)!)).toMatchObject({ code: 'E01', items: 'HANDLER' })
    expect(EchoResponse.decode(byId.get(3n)!.message).text).toBe('slow')
    expect(errorOf(byId.get(4n)!)).toMatchObject({ code: 'E07', items: 'USER' })
    expect(pongId(byId.get(2n ** 64n - 1n)!)).toBe('5')
    // One frame for the whole batch.
    await turns()
    expect(peer.received).toHaveLength(1)
  })

  it('collects every ctx.send of a container request into the batch', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, (req, ctx) => {
        ctx.send(EchoResponse.create({ text: `${req.text}-a` }))
        ctx.send(EchoResponse.create({ text: `${req.text}-b` }))
        return undefined
      })
    })
    peer.send(container([requestInit(EchoRequest, { text: 'x' }, 7n), pingInit(8n)]))
    const inner = containerOf(await peer.next())
    expect(inner.map((envelope) => envelope.requestId)).toEqual([7n, 7n, 8n])
    await turns()
    expect(peer.received).toHaveLength(1)
  })

  it('runs the envelopes concurrently by default', async () => {
    const order: string[] = []
    const { peer } = await startedEdge({}, slowHandlers(order))
    peer.send(
      container([
        requestInit(Slow, { delay: 30, tag: 1 }, 1n),
        requestInit(Slow, { delay: 10, tag: 2 }, 2n),
        requestInit(Slow, { delay: 0, tag: 3 }, 3n),
      ]),
    )
    const inner = containerOf(await peer.next())
    // Every handler started before any finished.
    expect(order.slice(0, 3)).toEqual(['start 1', 'start 2', 'start 3'])
    expect(order.slice(3).sort()).toEqual(['end 1', 'end 2', 'end 3'])
    expect(inner.map((envelope) => envelope.requestId).sort(compareIds)).toEqual([1n, 2n, 3n])
  })

  it('with syncRun, runs the handlers strictly one after another, in order', async () => {
    const order: string[] = []
    const { peer } = await startedEdge({}, slowHandlers(order))
    peer.send(
      container(
        [
          requestInit(Slow, { delay: 30, tag: 1 }, 1n),
          requestInit(Slow, { delay: 10, tag: 2 }, 2n),
          pingInit(3n, 3),
          requestInit(Slow, { delay: 0, tag: 4 }, 4n),
        ],
        true,
      ),
    )
    const inner = containerOf(await peer.next())
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 4', 'end 4'])
    expect(inner.map((envelope) => envelope.requestId)).toEqual([1n, 2n, 3n, 4n])
    expect(inner.map((envelope) => pongId(envelope))).toEqual(['1', '2', '3', '4'])
  })

  it('with syncRun, a failing envelope does not stop the ones after it', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async () => {
        throw new Error('fails')
      })
    })
    peer.send(
      container([pingInit(1n), requestInit(EchoRequest, { text: '' }, 2n), pingInit(3n)], true),
    )
    const inner = containerOf(await peer.next())
    expect(inner.map((envelope) => [envelope.requestId, envelope.ctor])).toEqual([
      [1n, C_Pong],
      [2n, C_Error],
      [3n, C_Pong],
    ])
  })

  it('an undecodable container → E01/ENVELOPE with the outer request id', async () => {
    const { peer } = await startedEdge()
    peer.send(
      encodeEnvelope({
        ctor: C_MessageContainer,
        requestId: 77n,
        message: Uint8Array.of(0x12, 0x05, 0x08),
      }),
    )
    const reply = await peer.next()
    expect(reply.requestId).toBe(77n)
    expect(errorOf(reply)).toMatchObject({ code: 'E01', items: 'ENVELOPE' })
    peer.send(ping(78n))
    expect((await peer.next()).requestId).toBe(78n)
  })

  it('a container over maxContainerEnvelopes → E03, none of its envelopes run', async () => {
    let calls = 0
    const { peer } = await startedEdge({ limits: { maxContainerEnvelopes: 3 } }, (edge) => {
      edge.handle(rony.Ping, (p) => {
        calls++
        return rony.Pong.create({ ID: p.ID })
      })
    })
    peer.send(
      container(
        [1n, 2n, 3n, 4n].map((id) => pingInit(id)),
        false,
        5n,
      ),
    )
    const reply = await peer.next()
    expect(reply.requestId).toBe(5n)
    expect(errorOf(reply)).toMatchObject({ code: 'E03', items: 'ENVELOPES' })
    expect(calls).toBe(0)
    // Exactly at the limit is fine.
    peer.send(container([1n, 2n, 3n].map((id) => pingInit(id))))
    expect(containerOf(await peer.next())).toHaveLength(3)
  })

  it('ctx.push inside a container handler goes out at once, not in the batch', async () => {
    const gate = deferred()
    const { peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (req, ctx) => {
        ctx.push(rony.Pong.create({ ID: 99 }))
        await gate.promise
        return EchoResponse.create(req)
      })
    })
    peer.send(container([requestInit(EchoRequest, { text: 'c' }, 1n), pingInit(2n)]))
    // The push arrived while the batch waits for the handler.
    expect(peer.inbox).toHaveLength(1)
    const push = peer.take()
    expect(push.requestId).toBe(0n)
    expect(pongId(push)).toBe('99')
    gate.resolve()
    const inner = containerOf(await peer.next())
    expect(inner.map((envelope) => envelope.requestId)).toEqual([2n, 1n])
    expect(inner.some((envelope) => envelope.ctor === C_Pong && envelope.requestId === 0n)).toBe(
      false,
    )
  })

  it('an empty container is answered E01/ENVELOPES under its own request id, and breaks nothing', async () => {
    const { peer } = await startedEdge()
    peer.send(container([], false, 41n))
    const reply = await peer.next()
    expect(reply.requestId).toBe(41n)
    expect(errorOf(reply)).toEqual({
      code: 'E01',
      items: 'ENVELOPES',
      description: 'a MessageContainer with no envelopes',
    })
    // A container envelope whose message is zero bytes long is an empty container too.
    peer.send(
      encodeEnvelope({ ctor: C_MessageContainer, requestId: 42n, message: new Uint8Array() }),
    )
    const zeroLength = await peer.next()
    expect(zeroLength.requestId).toBe(42n)
    expect(errorOf(zeroLength)).toMatchObject({ code: 'E01', items: 'ENVELOPES' })
    peer.send(ping(1n))
    expect((await peer.next()).requestId).toBe(1n)
    await turns()
    expect(peer.received).toHaveLength(3)
  })

  it('an empty container on a non-persistent connection (HTTP) gets its answer, so the request ends', async () => {
    const { gw } = await startedEdge()
    const client = gw.connect({ persistent: false })
    client.send(container([], true, 9n))
    const reply = decodeEnvelope(await client.next())
    expect(reply.requestId).toBe(9n)
    expect(errorOf(reply)).toMatchObject({ code: 'E01', items: 'ENVELOPES' })
    expect(client.closed).toBe(true)
  })

  it('every envelope of a container gets its one answer: a nested container, an unknown constructor, a middleware that never calls next()', async () => {
    const { peer } = await startedEdge({}, (edge) => {
      edge.use(async (ctx, next) => {
        if (ctx.requestId !== 3n) await next() // request 3: a middleware that answers nothing
      })
    })
    peer.send(
      container([
        {
          ctor: C_MessageContainer,
          requestId: 1n,
          message: encodeContainer({ envelopes: [pingInit(5n)] }),
        },
        { ctor: 4242n, requestId: 2n },
        pingInit(3n),
        pingInit(4n),
      ]),
    )
    const inner = containerOf(await peer.next())
    const byId = new Map(inner.map((envelope) => [envelope.requestId, envelope]))
    expect([...byId.keys()].sort(compareIds)).toEqual([1n, 2n, 3n, 4n])
    expect(inner).toHaveLength(4)
    expect(errorOf(byId.get(1n)!)).toMatchObject({
      code: 'E01',
      items: 'HANDLER',
      description: `no handler for MessageContainer (${C_MessageContainer})`,
    })
    expect(errorOf(byId.get(2n)!)).toMatchObject({ code: 'E01', items: 'HANDLER' })
    expect(errorOf(byId.get(3n)!)).toMatchObject({ code: 'E00', items: 'HANDLER' })
    expect(pongId(byId.get(4n)!)).toBe('1')
    await turns()
    expect(peer.received).toHaveLength(1)
  })

  it('a concurrent container counts against maxInFlight', async () => {
    const gate = deferred()
    const { peer } = await startedEdge({ limits: { maxInFlight: 2 } }, (edge) => {
      edge.handle(EchoRequest, async (req) => {
        await gate.promise
        return EchoResponse.create(req)
      })
    })
    peer.send(container([1n, 2n, 3n].map((id) => requestInit(EchoRequest, { text: '' }, id))))
    gate.resolve()
    const inner = containerOf(await peer.next())
    const third = inner.find((envelope) => envelope.requestId === 3n)!
    expect(errorOf(third)).toMatchObject({ code: 'E03', items: 'REQUESTS' })
    expect(inner.filter((envelope) => envelope.ctor !== C_Error)).toHaveLength(2)
  })
})

describe('regressions', () => {
  it('graceful stop delivers the batched reply of a container whose handler was in flight', async () => {
    const gate = deferred()
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (req) => {
        await gate.promise
        return EchoResponse.create(req)
      })
    })
    peer.send(container([requestInit(EchoRequest, { text: 'in flight' }, 1n), pingInit(2n)]))
    const stopped = track(edge.stop())
    await turns(2)
    expect(stopped.settled).toBe(false)
    gate.resolve()
    await stopped.promise
    // stop() waited for the handler, so its reply (batched with the Pong) was sent.
    expect(peer.received).toHaveLength(1)
    expect(containerOf(peer.received[0]!).map((envelope) => envelope.requestId)).toEqual([2n, 1n])
  })

  it('graceful stop delivers the batch of a syncRun container it waited for', async () => {
    const gate = deferred()
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (req) => {
        await gate.promise
        return EchoResponse.create(req)
      })
    })
    peer.send(container([requestInit(EchoRequest, { text: 'first' }, 1n), pingInit(2n)], true))
    const stopped = track(edge.stop())
    await turns(2)
    gate.resolve()
    await stopped.promise
    // The container was accepted before the drain, so all its envelopes run, in order.
    expect(peer.received).toHaveLength(1)
    const inner = containerOf(peer.received[0]!)
    expect(inner.map((envelope) => envelope.requestId)).toEqual([1n, 2n])
    expect(inner[1]!.ctor).toBe(C_Pong)
  })
})
