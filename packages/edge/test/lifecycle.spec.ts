import { RonyError } from '@rony/envelope'
import type { CloseReason, Gateway, GatewayConn } from '@rony/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { createEdge, type MemoryGateway, memoryGateway } from '../src/index.js'
import {
  deferred,
  EchoRequest,
  EchoResponse,
  errorOf,
  Peer,
  ping,
  pongId,
  request,
  settlesWithin,
  sleep,
  startedEdge,
  stopEdges,
  testEdge,
  track,
  turns,
} from './helpers.js'

afterEach(stopEdges)

/** A memory gateway with some of its methods replaced. */
function wrapGateway(
  inner: MemoryGateway,
  overrides: Partial<Pick<Gateway, 'start' | 'stop'>>,
): MemoryGateway {
  return {
    name: inner.name,
    features: inner.features,
    attach: (handlers) => inner.attach(handlers),
    addresses: () => inner.addresses(),
    connect: (init) => inner.connect(init),
    start: overrides.start ?? (() => inner.start()),
    stop: overrides.stop ?? (() => inner.stop()),
  }
}

/** A memory gateway that counts start/stop calls. */
function countingGateway(name = 'memory'): MemoryGateway & { starts: number; stops: number } {
  const inner = memoryGateway({ name })
  const counts = { starts: 0, stops: 0 }
  const wrapped = wrapGateway(inner, {
    start: () => {
      counts.starts++
      return inner.start()
    },
    stop: () => {
      counts.stops++
      return inner.stop()
    },
  })
  return Object.defineProperties(wrapped, {
    starts: { get: () => counts.starts },
    stops: { get: () => counts.stops },
  }) as MemoryGateway & { starts: number; stops: number }
}

/** A gateway whose start() throws. */
function failingGateway(error: Error): Gateway & { stops: number } {
  const gateway = {
    name: 'failing',
    features: { serverPush: false, json: false, maxMessageSize: 1024 },
    stops: 0,
    attach: () => {},
    addresses: () => [],
    start: async () => {
      throw error
    },
    stop: () => {
      gateway.stops++
    },
  }
  return gateway
}

describe('start and stop', () => {
  it('a second start() is a no-op', async () => {
    const gw = countingGateway()
    const edge = createEdge({ id: 'n1', gateways: [gw] })
    await edge.start()
    const peer = new Peer(gw)
    await edge.start()
    expect(gw.starts).toBe(1)
    expect(peer.closed).toBe(false)
    peer.send(ping(1n))
    expect((await peer.next()).requestId).toBe(1n)
    await edge.stop()
    expect(gw.stops).toBe(1)
  })

  it('stop() of an edge never started, or already stopped, is a no-op', async () => {
    const gw = countingGateway()
    const edge = createEdge({ id: 'n1', gateways: [gw] })
    await edge.stop()
    expect(gw.stops).toBe(0)
    await edge.start()
    await edge.stop()
    await edge.stop()
    expect(gw.stops).toBe(1)
  })

  it('concurrent stop() calls share one shutdown', async () => {
    const gw = countingGateway()
    const edge = createEdge({ id: 'n1', gateways: [gw] })
    await edge.start()
    await Promise.all([edge.stop(), edge.stop(), edge.stop()])
    expect(gw.stops).toBe(1)
  })

  it('graceful stop waits for the handler in flight, answers newcomers E02/SERVER, closes new connections', async () => {
    const gate = deferred()
    const started = deferred()
    const { edge, gw, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (req) => {
        started.resolve()
        await gate.promise
        return EchoResponse.create(req)
      })
    })
    peer.send(request(EchoRequest, { text: 'in flight' }, 1n))
    await started.promise
    const stopped = track(edge.stop())
    await turns()
    expect(stopped.settled).toBe(false)

    // A request arriving during the drain.
    peer.send(request(EchoRequest, { text: 'late' }, 2n))
    const late = peer.take()
    expect(late.requestId).toBe(2n)
    expect(errorOf(late)).toEqual({
      code: 'E02',
      items: 'SERVER',
      description: 'the server is shutting down',
    })
    peer.send(ping(3n))
    expect(errorOf(peer.take())).toMatchObject({ code: 'E02', items: 'SERVER' })

    // A connection arriving during the drain.
    const newcomer = gw.connect()
    expect(newcomer.closed).toBe(true)

    gate.resolve()
    await stopped.promise
    const reply = await peer.next()
    expect(reply.requestId).toBe(1n)
    expect(EchoResponse.decode(reply.message).text).toBe('in flight')
    expect(peer.closed).toBe(true)
    expect(edge.connectionCount).toBe(0)
  })

  it('stop({ timeout }) with a never-ending handler aborts ctx.signal, closes connections and resolves', async () => {
    const started = deferred<AbortSignal>()
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (_req, ctx) => {
        started.resolve(ctx.signal)
        await new Promise(() => {}) // ignores its signal, never ends
        return undefined
      })
    })
    const closes: CloseReason[] = []
    edge.on('connection:close', (_conn, reason) => closes.push(reason))
    peer.send(request(EchoRequest, { text: '' }, 1n))
    const signal = await started.promise
    await edge.stop({ timeout: 50 })
    expect(signal.aborted).toBe(true)
    expect((signal.reason as RonyError).code).toBe('RONY_ERR_STOPPED')
    expect(peer.closed).toBe(true)
    expect(closes).toEqual([expect.objectContaining({ initiator: 'local', code: 1001 })])
    expect(peer.received).toEqual([])
  })

  it('a handler that honours ctx.signal ends when stop() times out', async () => {
    const ended = deferred<unknown>()
    const { edge, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, async (_req, ctx) => {
        await new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))
        }).catch((error: unknown) => {
          ended.resolve(error)
          throw error
        })
        return undefined
      })
    })
    peer.send(request(EchoRequest, { text: '' }, 1n))
    await turns(1)
    await edge.stop({ timeout: 20 })
    expect(await ended.promise).toBeInstanceOf(RonyError)
  })

  it('the edge starts again after stop()', async () => {
    const { edge, gw, peer } = await startedEdge({}, (edge) => {
      edge.handle(EchoRequest, (req) => EchoResponse.create(req))
      edge.use(async (_ctx, next) => next())
    })
    await edge.stop()
    expect(peer.closed).toBe(true)
    expect(() => gw.connect()).toThrow(/not started/)
    await edge.start()
    const again = new Peer(gw)
    again.send(request(EchoRequest, { text: 'again' }, 1n))
    expect(EchoResponse.decode((await again.next()).message).text).toBe('again')
    again.send(ping(2n, 2))
    expect(pongId(await again.next())).toBe('2')
    expect(edge.connectionCount).toBe(1)
  })

  it('emits connection:open and connection:close', async () => {
    const { edge, gw } = testEdge()
    const events: [string, GatewayConn, unknown][] = []
    edge.on('connection:open', (conn, gateway) => events.push(['open', conn, gateway]))
    edge.on('connection:close', (conn, reason) => events.push(['close', conn, reason]))
    await edge.start()
    const a = gw.connect()
    const b = gw.connect()
    expect(edge.connectionCount).toBe(2)
    expect(events.map(([kind, conn, extra]) => [kind, conn.id, extra])).toEqual([
      ['open', a.id, 'memory'],
      ['open', b.id, 'memory'],
    ])
    a.close()
    expect(events[2]?.[0]).toBe('close')
    expect(events[2]?.[1]).toBe(events[0]?.[1])
    expect(events[2]?.[2]).toMatchObject({ initiator: 'remote' })
    expect(edge.connectionCount).toBe(1)
    await edge.stop()
    expect(events[3]?.[0]).toBe('close')
    expect(events[3]?.[1].id).toBe(b.id)
    expect(events[3]?.[2]).toMatchObject({ initiator: 'local', code: 1001 })
    expect(events).toHaveLength(4)
  })

  it('if a gateway fails to start, the started ones are stopped and start() rejects', async () => {
    const boom = new Error('port in use')
    const ok = countingGateway('ok')
    const failing = failingGateway(boom)
    const edge = createEdge({ id: 'n1', gateways: [ok, failing] })
    await expect(edge.start()).rejects.toBe(boom)
    expect(ok.starts).toBe(1)
    expect(ok.stops).toBe(1)
    expect(failing.stops).toBe(0)
    expect(edge.addresses()).toEqual([])
    expect(() => ok.connect()).toThrow(/not started/)
    // Still idle: a later start() tries again (and fails again, the same way).
    await expect(edge.start()).rejects.toBe(boom)
    expect(ok.starts).toBe(2)
    expect(ok.stops).toBe(2)
    await edge.stop() // idle: a no-op
    expect(ok.stops).toBe(2)
  })

  it('stop() rejects with a gateway’s stop rejection, and leaves the edge stopped', async () => {
    const gw = memoryGateway()
    const boom = new Error('stuck socket')
    const broken = wrapGateway(gw, {
      stop: async () => {
        gw.stop()
        throw boom
      },
    })
    const edge = createEdge({ id: 'n1', gateways: [broken] })
    await edge.start()
    await expect(edge.stop()).rejects.toBe(boom)
    await edge.stop() // already idle
    expect(edge.addresses()).toEqual([])
  })
})

/** An edge whose memory gateway starts only once `gate` is resolved. */
function gatedEdge() {
  const gate = deferred()
  const gw = memoryGateway()
  const slow = wrapGateway(gw, {
    start: async () => {
      await gate.promise
      gw.start()
    },
  })
  return { gate, gw, edge: createEdge({ id: 'n1', gateways: [slow] }) }
}

describe('regressions', () => {
  it('after a stop that gave up on a handler, the next stop() does not wait for it again', async () => {
    const started = deferred()
    const forever = deferred() // resolved only at the end, to let the test clean up
    const { edge, gw, peer } = await startedEdge({ limits: { stopTimeout: 60_000 } }, (edge) => {
      edge.handle(EchoRequest, async () => {
        started.resolve()
        await forever.promise // ignores its signal
        return undefined
      })
    })
    peer.send(request(EchoRequest, { text: '' }, 1n))
    await started.promise
    await edge.stop({ timeout: 20 })
    await edge.start()
    new Peer(gw).send(ping(1n)) // a fresh, idle connection
    // Nothing runs on the restarted edge: stop() should resolve at once, not after 60 s.
    const stopped = edge.stop()
    const outcome = await settlesWithin(stopped, 2_000)
    forever.resolve()
    await stopped
    expect(outcome).toBe('settled')
  })

  it('a start() while another start() is pending resolves only once the edge is started', async () => {
    const { gate, edge } = gatedEdge()
    const first = edge.start()
    const second = track(edge.start())
    await turns()
    // The edge is not started yet, so the second start() must not have resolved.
    const earlySettled = second.settled
    gate.resolve()
    await first
    await second.promise
    await edge.stop()
    expect(earlySettled).toBe(false)
  })

  it('start(), stop(), start() in a row: the last call wins, and its start() resolves on a started edge', async () => {
    const { gate, gw, edge } = gatedEdge()
    const first = edge.start()
    const stopped = edge.stop()
    const last = edge.start()
    gate.resolve()
    await Promise.all([first, stopped, last])
    // The stop ran between the two starts: the gateway is up again, and serves.
    expect(edge.addresses()).toEqual(['memory://memory'])
    const peer = new Peer(gw)
    peer.send(ping(1n))
    expect(pongId(await peer.next())).toBe('1')
    await edge.stop()
  })

  it('a stop({ timeout }) of an idle edge does not shorten a later stop()', async () => {
    const gate = deferred()
    const started = deferred<AbortSignal>()
    const { edge, gw, peer } = await startedEdge({ limits: { stopTimeout: 60_000 } }, (edge) => {
      edge.handle(EchoRequest, async (req, ctx) => {
        started.resolve(ctx.signal)
        await gate.promise
        return EchoResponse.create(req)
      })
    })
    await edge.stop({ timeout: 1 })
    await edge.stop({ timeout: 1 }) // idle: a no-op, whose timeout must not linger
    await edge.start()
    const again = new Peer(gw)
    again.send(request(EchoRequest, { text: 'slow' }, 1n))
    const signal = await started.promise
    const stopped = track(edge.stop())
    await sleep(30)
    expect(stopped.settled).toBe(false) // still waiting for the handler, up to 60 s
    expect(signal.aborted).toBe(false)
    gate.resolve()
    await stopped.promise
    expect(EchoResponse.decode((await again.next()).message).text).toBe('slow')
    expect(peer.closed).toBe(true)
  })

  it('stop() during start() waits for the start, then releases every gateway', async () => {
    const gate = deferred()
    const gw = countingGateway()
    const slow = wrapGateway(gw, {
      start: async () => {
        await gate.promise
        return gw.start()
      },
      stop: () => gw.stop(),
    })
    const edge = createEdge({ id: 'n1', gateways: [slow] })
    const started = edge.start()
    const stopped = track(edge.stop())
    await turns()
    expect(stopped.settled).toBe(false)
    gate.resolve()
    await started
    await stopped.promise
    expect(gw.starts).toBe(1)
    expect(gw.stops).toBe(1)
    expect(edge.addresses()).toEqual([])
    expect(() => gw.connect()).toThrow(/not started/)
  })

  it('a gateway whose stop() throws synchronously does not leave the edge stuck in "stopping"', async () => {
    const a = memoryGateway({ name: 'a' })
    const b = memoryGateway({ name: 'b' })
    const boom = new Error('sync stop failure')
    const broken = wrapGateway(a, {
      stop: () => {
        a.stop()
        throw boom
      },
    })
    const edge = createEdge({ id: 'n1', gateways: [broken, b] })
    await edge.start()
    const peerB = new Peer(b)
    // Rejecting with the error is acceptable; what matters is what happens to the rest.
    await edge.stop().catch((error: unknown) => expect(error).toBe(boom))
    expect(peerB.closed).toBe(true) // the other gateway was stopped too
    expect(edge.connectionCount).toBe(0)
    await expect(edge.stop()).resolves.toBeUndefined() // idle again: a no-op
    const restart = edge.start().catch(() => {})
    await restart
    expect(b.addresses()).toEqual(['memory://b']) // start() was not a silent no-op
    await edge.stop().catch(() => {})
  })

  it('calls the gateways’ optional lifecycle hooks in order (interface: Startable, "Hooks and order")', async () => {
    const calls: string[] = []
    const make = (name: string): Gateway => {
      const inner = memoryGateway({ name })
      return {
        ...wrapGateway(inner, {
          start: () => {
            calls.push(`${name}.start`)
            return inner.start()
          },
          stop: () => {
            calls.push(`${name}.stop`)
            return inner.stop()
          },
        }),
        beforeStart: () => void calls.push(`${name}.beforeStart`),
        afterStart: () => void calls.push(`${name}.afterStart`),
        beforeStop: () => void calls.push(`${name}.beforeStop`),
        afterStop: () => void calls.push(`${name}.afterStop`),
      }
    }
    const edge = createEdge({ id: 'n1', gateways: [make('a'), make('b')] })
    await edge.start()
    await edge.stop()
    expect(calls).toEqual([
      'a.beforeStart',
      'b.beforeStart',
      'a.start',
      'b.start',
      'a.afterStart',
      'b.afterStart',
      'a.beforeStop',
      'b.beforeStop',
      'a.stop',
      'b.stop',
      'a.afterStop',
      'b.afterStop',
    ])
  })
})
