import type { Gateway } from '@rony/interface'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createEdge,
  DEFAULT_EDGE_LIMITS,
  type EdgeInit,
  type EdgeLimits,
  memoryGateway,
} from '../src/index.js'
import {
  deferred,
  EchoRequest,
  EchoResponse,
  errorOf,
  Peer,
  ping,
  request,
  sleep,
  startedEdge,
  stopEdges,
  testEdge,
  track,
} from './helpers.js'

afterEach(stopEdges)

describe('maxInFlight', () => {
  it('answers the (max+1)th request at once with E03/REQUESTS; other connections unaffected; accepts again after release', async () => {
    const gate = deferred()
    let calls = 0
    const { connect, peer } = await startedEdge({ limits: { maxInFlight: 2 } }, (edge) => {
      edge.handle(EchoRequest, async (req) => {
        calls++
        await gate.promise
        return EchoResponse.create(req)
      })
    })
    peer.send(request(EchoRequest, { text: 'a1' }, 1n))
    peer.send(request(EchoRequest, { text: 'a2' }, 2n))
    expect(peer.inbox).toEqual([])
    peer.send(request(EchoRequest, { text: 'a3' }, 3n))
    // Answered within send(), never queued.
    const rejected = peer.take()
    expect(rejected.requestId).toBe(3n)
    expect(errorOf(rejected)).toMatchObject({ code: 'E03', items: 'REQUESTS' })
    expect(calls).toBe(2)

    const other = connect()
    other.send(request(EchoRequest, { text: 'b1' }, 1n))
    other.send(request(EchoRequest, { text: 'b2' }, 2n))
    expect(other.inbox).toEqual([])
    expect(calls).toBe(4)

    gate.resolve()
    const replies = [await peer.next(), await peer.next(), await other.next(), await other.next()]
    expect(replies.map((reply) => EchoResponse.decode(reply.message).text)).toEqual([
      'a1',
      'a2',
      'b1',
      'b2',
    ])

    peer.send(request(EchoRequest, { text: 'a4' }, 4n))
    peer.send(request(EchoRequest, { text: 'a5' }, 5n))
    const again = [await peer.next(), await peer.next()]
    expect(again.map((reply) => reply.requestId)).toEqual([4n, 5n])
    expect(again.map((reply) => EchoResponse.decode(reply.message).text)).toEqual(['a4', 'a5'])
  })

  it('sync handlers never count as in flight', async () => {
    const { peer } = await startedEdge({ limits: { maxInFlight: 1 } })
    for (let id = 1n; id <= 5n; id++) peer.send(ping(id))
    expect(peer.inbox.map((reply) => reply.requestId)).toEqual([1n, 2n, 3n, 4n, 5n])
  })

  it('a handler that throws frees its slot', async () => {
    const { peer } = await startedEdge({ limits: { maxInFlight: 1 } }, (edge) => {
      edge.handle(EchoRequest, async () => {
        throw new Error('x')
      })
    })
    for (let id = 1n; id <= 3n; id++) {
      peer.send(request(EchoRequest, { text: '' }, id))
      expect(errorOf(await peer.next())).toMatchObject({ code: 'E00', items: 'SERVER' })
    }
  })
})

describe('maxEnvelopeBytes', () => {
  it('answers a larger frame with E01/ENVELOPE (RONY_ERR_ENVELOPE_TOO_LARGE), request id 0', async () => {
    const { peer } = await startedEdge({ limits: { maxEnvelopeBytes: 64 } }, (edge) => {
      edge.handle(EchoRequest, (req) => EchoResponse.create(req))
    })
    const overhead = request(EchoRequest, { text: 'x' }, 1n).length - 1
    const fits = request(EchoRequest, { text: 'x'.repeat(64 - overhead) }, 1n)
    expect(fits.length).toBe(64)
    peer.send(fits)
    expect(EchoResponse.decode((await peer.next()).message).text).toHaveLength(64 - overhead)

    const tooLarge = request(EchoRequest, { text: 'x'.repeat(65 - overhead) }, 2n)
    expect(tooLarge.length).toBe(65)
    peer.send(tooLarge)
    const reply = await peer.next()
    expect(reply.requestId).toBe(0n)
    expect(errorOf(reply)).toMatchObject({ code: 'E01', items: 'ENVELOPE' })
    expect(errorOf(reply).description).toMatch(/65 bytes exceed maxEnvelopeBytes \(64\)/)
    peer.send(ping(3n))
    expect((await peer.next()).requestId).toBe(3n)
  })
})

describe('maxConnections', () => {
  it('closes a connection beyond the limit at once; its client sees closed', async () => {
    const { edge, gw, connect, peer } = await startedEdge({ limits: { maxConnections: 2 } })
    const opened: number[] = []
    edge.on('connection:open', (conn) => opened.push(conn.id))
    const second = connect()
    const third = gw.connect()
    expect(third.closed).toBe(true)
    await expect(third.next()).rejects.toThrow(/closed/)
    expect(() => third.send(ping(1n))).toThrow()
    expect(edge.connectionCount).toBe(2)
    expect(opened).toEqual([second.client.id])
    // The open ones work; closing one makes room.
    peer.send(ping(1n))
    expect((await peer.next()).requestId).toBe(1n)
    second.close()
    expect(edge.connectionCount).toBe(1)
    const fourth = connect()
    expect(fourth.closed).toBe(false)
    fourth.send(ping(2n))
    expect((await fourth.next()).requestId).toBe(2n)
  })

  it('counts connections across all gateways', async () => {
    const a = memoryGateway({ name: 'a' })
    const b = memoryGateway({ name: 'b' })
    const edge = createEdge({ id: 'n1', gateways: [a, b], limits: { maxConnections: 1 } })
    await edge.start()
    try {
      expect(new Peer(a).closed).toBe(false)
      expect(new Peer(b).closed).toBe(true)
    } finally {
      await edge.stop()
    }
  })
})

describe('options validation', () => {
  const gateways = (): Gateway[] => [memoryGateway()]

  it('merges limits over DEFAULT_EDGE_LIMITS without touching the caller’s object', () => {
    expect(DEFAULT_EDGE_LIMITS).toEqual({
      maxEnvelopeBytes: 1024 * 1024,
      maxContainerEnvelopes: 1024,
      maxInFlight: 1024,
      maxConnections: 10_000,
      stopTimeout: 10_000,
    })
    expect(Object.isFrozen(DEFAULT_EDGE_LIMITS)).toBe(true)
    const limits = { maxInFlight: 3 }
    const { edge } = testEdge({ limits })
    expect(edge.limits).toEqual({ ...DEFAULT_EDGE_LIMITS, maxInFlight: 3 })
    expect(Object.isFrozen(edge.limits)).toBe(true)
    expect(limits).toEqual({ maxInFlight: 3 })
  })

  it.each([
    'maxEnvelopeBytes',
    'maxContainerEnvelopes',
    'maxInFlight',
    'maxConnections',
    'stopTimeout',
  ] as const)('rejects a %s that is not a positive integer with RangeError', (key) => {
    for (const value of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5', 2 ** 53]) {
      const limits = { [key]: value } as unknown as Partial<EdgeLimits>
      expect(() => createEdge({ id: 'n1', gateways: gateways(), limits }), String(value)).toThrow(
        RangeError,
      )
    }
    expect(() => createEdge({ id: 'n1', gateways: gateways(), limits: { [key]: 1 } })).not.toThrow()
  })

  it('rejects an unknown limit name (a typo) with TypeError', () => {
    const limits = { maxInflight: 3 } as unknown as { maxInFlight: number }
    expect(() => createEdge({ id: 'n1', gateways: gateways(), limits })).toThrow(/maxInflight/)
  })

  it('createEdge rejects an empty or missing id with TypeError', () => {
    expect(() => createEdge({ id: '', gateways: gateways() })).toThrow(TypeError)
    expect(() => createEdge({ gateways: gateways() } as unknown as EdgeInit)).toThrow(TypeError)
    expect(() => createEdge(undefined as unknown as EdgeInit)).toThrow(TypeError)
  })

  it('createEdge rejects no gateways with TypeError', () => {
    expect(() => createEdge({ id: 'n1', gateways: [] })).toThrow(TypeError)
    expect(() => createEdge({ id: 'n1' } as unknown as EdgeInit)).toThrow(TypeError)
  })

  it('createEdge rejects two gateways of the same name with TypeError', () => {
    expect(() => createEdge({ id: 'n1', gateways: [memoryGateway(), memoryGateway()] })).toThrow(
      /named 'memory'/,
    )
    expect(() =>
      createEdge({
        id: 'n1',
        gateways: [memoryGateway({ name: 'x' }), memoryGateway({ name: 'x' })],
      }),
    ).toThrow(TypeError)
    expect(() =>
      createEdge({
        id: 'n1',
        gateways: [memoryGateway({ name: 'x' }), memoryGateway({ name: 'y' })],
      }),
    ).not.toThrow()
  })
})

describe('regressions', () => {
  it('a stopTimeout above the timer maximum (2^31-1 ms) is rejected, or honoured — never cut to 1 ms', async () => {
    const stopTimeout = 2 ** 31 // a safe integer, so resolveEdgeLimits accepts it
    const gw = memoryGateway()
    let edge: ReturnType<typeof createEdge>
    try {
      edge = createEdge({ id: 'n1', gateways: [gw], limits: { stopTimeout } })
    } catch (error) {
      expect(error).toBeInstanceOf(RangeError) // rejecting it is a fine fix too
      return
    }
    const gate = deferred()
    let signal: AbortSignal | undefined
    edge.handle(EchoRequest, async (req, ctx) => {
      signal = ctx.signal
      await gate.promise
      return EchoResponse.create(req)
    })
    await edge.start()
    const peer = new Peer(gw)
    peer.send(request(EchoRequest, { text: 'long' }, 1n))
    const stopped = track(edge.stop())
    // Node turns a delay above 2^31-1 into 1 ms (TimeoutOverflowWarning).
    await sleep(50)
    const abortedEarly = signal?.aborted
    gate.resolve()
    await stopped.promise
    expect(abortedEarly).toBe(false)
    expect(peer.received.map((reply) => reply.requestId)).toEqual([1n])
  })
})
