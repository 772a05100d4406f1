import { isCodedError, type Tunnel, type TunnelFactory } from '@rony/interface'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type MemoryNetwork,
  memoryNetwork,
  peerHandshake,
  peerLinks,
  seededRandom,
  type TunnelInit,
  tunnel,
  type VirtualClock,
  virtualClock,
} from '../src/index.js'

let stops: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(stops.map((stop) => stop()))
  stops = []
})

interface Env {
  clock: VirtualClock
  net: MemoryNetwork
}

function simulation(): Env {
  const clock = virtualClock()
  const net = memoryNetwork({
    clock,
    random: seededRandom(7),
    faults: { delay: { min: 1, max: 3 } },
  })
  return { clock, net }
}

function node(env: Env, id: string, opts: Partial<TunnelInit> = {}): Tunnel {
  const t = tunnel({
    id,
    transport: env.net.stream(`memory:${id}`, { maxMessageSize: 1024 + 5 }),
    clock: env.clock,
    ...opts,
  })
  stops.push(async () => await t.stop())
  return t
}

const at = (t: Tunnel) => ({ id: t.id, address: t.address })
const bytes = (text: string) => new TextEncoder().encode(text)
const text = (b: Uint8Array) => new TextDecoder().decode(b)
const sleep = (env: Env, ms: number) =>
  new Promise<void>((r) => env.clock.setTimeout(() => r(), ms))

/** The settled outcome of `p`, without an unhandled rejection while the clock runs. */
function outcome<T>(p: Promise<T>): {
  readonly value?: T
  readonly error?: unknown
  readonly done: boolean
} {
  const box: { value?: T; error?: unknown; done: boolean } = { done: false }
  p.then(
    (value) => Object.assign(box, { value, done: true }),
    (error: unknown) => Object.assign(box, { error, done: true }),
  )
  return box
}

/** A handler that waits until its signal aborts, and records it. */
function hanging(aborted: unknown[]) {
  return (_r: Uint8Array, _from: string, signal: AbortSignal) =>
    new Promise<Uint8Array>(() => {
      signal.addEventListener('abort', () => aborted.push(signal.reason))
    })
}

describe('tunnel on the memory network', () => {
  it('correlates many concurrent requests both ways, answered out of order', async () => {
    const env = simulation()
    const a = node(env, 'a')
    const b = node(env, 'b')
    for (const t of [a, b]) {
      t.onRequest(async (request, from) => {
        const n = Number(text(request).split(':')[1])
        await sleep(env, (n * 7) % 13) // later requests often answered first
        return bytes(`${t.id} answers ${from}:${text(request)}`)
      })
    }
    await a.start()
    await b.start()
    const calls = []
    for (let i = 0; i < 100; i++) {
      calls.push({ want: `b answers a:q:${i}`, got: outcome(a.request(at(b), bytes(`q:${i}`))) })
      calls.push({ want: `a answers b:q:${i}`, got: outcome(b.request(at(a), bytes(`q:${i}`))) })
    }
    await env.clock.advanceAsync(500)
    for (const { want, got } of calls) {
      expect(got.done).toBe(true)
      expect(text(got.value as Uint8Array)).toBe(want)
    }
  })

  it('a handler that throws rejects the request with RONY_ERR_REMOTE and its message', async () => {
    const env = simulation()
    const a = node(env, 'a')
    const b = node(env, 'b')
    b.onRequest(() => {
      throw new Error('no such shard')
    })
    await a.start()
    await b.start()
    const got = outcome(a.request(at(b), bytes('x')))
    await env.clock.advanceAsync(100)
    expect(isCodedError(got.error, 'RONY_ERR_REMOTE')).toBe(true)
    expect((got.error as Error).message).toBe('no such shard')
    // A node without a handler answers the same way.
    const c = node(env, 'c')
    await c.start()
    const none = outcome(a.request(at(c), bytes('x')))
    await env.clock.advanceAsync(100)
    expect(isCodedError(none.error, 'RONY_ERR_REMOTE')).toBe(true)
  })

  it('a slow handler times out with RONY_ERR_TIMEOUT, and its signal aborts', async () => {
    const env = simulation()
    const a = node(env, 'a', { requestTimeout: 1_000 })
    const b = node(env, 'b')
    const aborted: unknown[] = []
    b.onRequest(hanging(aborted))
    await a.start()
    await b.start()
    const byDefault = outcome(a.request(at(b), bytes('x')))
    const shorter = outcome(a.request(at(b), bytes('y'), { timeout: 200 }))
    await env.clock.advanceAsync(199)
    expect(shorter.done).toBe(false)
    await env.clock.advanceAsync(10)
    expect(isCodedError(shorter.error, 'RONY_ERR_TIMEOUT')).toBe(true)
    expect(aborted).toHaveLength(1) // the cancel frame reached b
    await env.clock.advanceAsync(800)
    expect(isCodedError(byDefault.error, 'RONY_ERR_TIMEOUT')).toBe(true)
    expect(aborted).toHaveLength(2)
  })

  it('an aborted signal rejects with its reason and aborts the remote handler', async () => {
    const env = simulation()
    const a = node(env, 'a')
    const b = node(env, 'b')
    const aborted: unknown[] = []
    b.onRequest(hanging(aborted))
    await a.start()
    await b.start()
    const controller = new AbortController()
    const got = outcome(a.request(at(b), bytes('x'), { signal: controller.signal }))
    await env.clock.advanceAsync(10)
    controller.abort(new Error('caller gave up'))
    await env.clock.advanceAsync(10)
    expect((got.error as Error).message).toBe('caller gave up')
    expect(aborted).toHaveLength(1)
    await expect(a.request(at(b), bytes('x'), { signal: controller.signal })).rejects.toThrow(
      'caller gave up',
    )
  })

  describe('a request given up while its link is down never runs on the peer once it is back', () => {
    /** a and b linked, then cut apart; b counts the requests its handler runs. */
    async function partitioned() {
      const env = simulation()
      const a = node(env, 'a')
      const b = node(env, 'b')
      const ran: string[] = []
      b.onRequest((request) => {
        ran.push(text(request))
        return request
      })
      await a.start()
      await b.start()
      const before = outcome(a.request(at(b), bytes('before')))
      await env.clock.advanceAsync(20)
      expect(before.value).toEqual(bytes('before'))
      env.net.partition(['memory:a'], ['memory:b'])
      await env.clock.advanceAsync(10)
      return { env, a, b, ran }
    }

    /** Heals, lets the links redial (backoff up to 2 s), and checks the link works again. */
    async function healed({ env, a, b }: Awaited<ReturnType<typeof partitioned>>) {
      env.net.heal()
      await env.clock.advanceAsync(5_000)
      const after = outcome(a.request(at(b), bytes('after')))
      await env.clock.advanceAsync(20)
      expect(after.value).toEqual(bytes('after'))
    }

    it('on its timeout', async () => {
      const sim = await partitioned()
      const cut = outcome(sim.a.request(at(sim.b), bytes('cut'), { timeout: 1_000 }))
      await sim.env.clock.advanceAsync(1_000)
      expect(isCodedError(cut.error, 'RONY_ERR_TIMEOUT')).toBe(true)
      await healed(sim)
      expect(sim.ran).toEqual(['before', 'after'])
    })

    it('when its signal aborts', async () => {
      const sim = await partitioned()
      const controller = new AbortController()
      const cut = outcome(sim.a.request(at(sim.b), bytes('cut'), { signal: controller.signal }))
      await sim.env.clock.advanceAsync(500)
      controller.abort(new Error('caller gave up'))
      await sim.env.clock.advanceAsync(1)
      expect((cut.error as Error).message).toBe('caller gave up')
      await healed(sim)
      expect(sim.ran).toEqual(['before', 'after'])
    })
  })

  it('bounds requests in flight (RONY_ERR_BUSY at once) and handlers running (answered busy)', async () => {
    const env = simulation()
    const a = node(env, 'a', { maxInFlight: 3 })
    const b = node(env, 'b', { maxConcurrent: 2 })
    b.onRequest(hanging([]))
    await a.start()
    await b.start()
    const running = [1, 2].map(() => outcome(a.request(at(b), bytes('x'))))
    await env.clock.advanceAsync(10)
    const refused = outcome(a.request(at(b), bytes('x')))
    await env.clock.advanceAsync(10)
    expect(isCodedError(refused.error, 'RONY_ERR_BUSY')).toBe(true) // b's bound
    expect(running.map((r) => r.done)).toEqual([false, false])
    const third = outcome(a.request(at(b), bytes('x')))
    await expect(a.request(at(b), bytes('x'))).rejects.toSatisfy((e) =>
      isCodedError(e, 'RONY_ERR_BUSY'),
    ) // a's bound: 3 in flight
    await env.clock.advanceAsync(10)
    expect(isCodedError(third.error, 'RONY_ERR_BUSY')).toBe(true)
  })

  it('refuses an oversize request at once and reports an oversize response', async () => {
    const env = simulation()
    const a = node(env, 'a')
    const b = node(env, 'b')
    expect(a.maxMessageSize).toBe(1024) // the transport's room, less the frame header
    b.onRequest((request) => new Uint8Array(request.byteLength * 2))
    await a.start()
    await b.start()
    await expect(a.request(at(b), new Uint8Array(1025))).rejects.toSatisfy((e) =>
      isCodedError(e, 'RONY_ERR_MESSAGE_TOO_LARGE'),
    )
    const full = outcome(a.request(at(b), new Uint8Array(512)))
    const over = outcome(a.request(at(b), new Uint8Array(513)))
    await env.clock.advanceAsync(20)
    expect(full.value?.byteLength).toBe(1024)
    expect(isCodedError(over.error, 'RONY_ERR_MESSAGE_TOO_LARGE')).toBe(true)
    expect(() =>
      tunnel({ id: 'c', transport: env.net.stream('memory:c'), maxMessageSize: 1 << 30 }),
    ).toThrow(RangeError)
  })

  it('a peer that is unreachable or crashes fails the request at its timeout', async () => {
    const env = simulation()
    const a = node(env, 'a', { requestTimeout: 500 })
    const b = node(env, 'b')
    const aborted: unknown[] = []
    b.onRequest(hanging(aborted))
    await a.start()
    const nobody = outcome(a.request({ id: 'z', address: 'memory:z' }, bytes('x')))
    await b.start()
    const crashed = outcome(a.request(at(b), bytes('x')))
    await env.clock.advanceAsync(20)
    env.net.crash('memory:b')
    await env.clock.advanceAsync(500)
    expect(isCodedError(nobody.error, 'RONY_ERR_TIMEOUT')).toBe(true)
    expect(isCodedError(crashed.error, 'RONY_ERR_TIMEOUT')).toBe(true)
  })

  it('stop() rejects pending requests with RONY_ERR_STOPPED and aborts running handlers', async () => {
    const env = simulation()
    const a = node(env, 'a')
    const b = node(env, 'b')
    const aborted: unknown[] = []
    b.onRequest(hanging(aborted))
    a.onRequest(hanging(aborted))
    await a.start()
    await b.start()
    const fromA = outcome(a.request(at(b), bytes('x')))
    const fromB = outcome(b.request(at(a), bytes('x')))
    await env.clock.advanceAsync(20)
    expect(aborted).toEqual([])
    await b.stop()
    // b's own request, and the handler it ran for a.
    expect(isCodedError(fromB.error, 'RONY_ERR_STOPPED')).toBe(true)
    expect(aborted).toHaveLength(1)
    expect(isCodedError(aborted[0], 'RONY_ERR_STOPPED')).toBe(true)
    expect(fromA.done).toBe(false)
    await expect(b.request(at(a), bytes('x'))).rejects.toSatisfy((e) =>
      isCodedError(e, 'RONY_ERR_NOT_STARTED'),
    )
  })

  it('a node restarted under the same id is not mistaken for its previous run', async () => {
    const env = simulation()
    const b = node(env, 'b')
    b.onRequest((request) => (request[0] === 1 ? new Promise<Uint8Array>(() => {}) : request))
    await b.start()
    const first = node(env, 'a', { random: seededRandom(1) })
    await first.start()
    void first.request(at(b), new Uint8Array([1])).catch(() => {}) // b runs it on
    await env.clock.advanceAsync(20)
    env.net.crash('memory:a') // gone without a cancel
    await first.stop()
    const second = node(env, 'a', { random: seededRandom(2) })
    await second.start()
    const got = outcome(second.request(at(b), new Uint8Array([2])))
    await env.clock.advanceAsync(1_000)
    expect(got.value).toEqual(new Uint8Array([2]))
  })

  it('checks the peer it is given', async () => {
    const env = simulation()
    const a = node(env, 'a')
    await a.start()
    await expect(a.request({ id: 'a', address: a.address }, bytes('x'))).rejects.toThrow(TypeError)
    await expect(a.request({ id: '', address: 'memory:b' }, bytes('x'))).rejects.toThrow(TypeError)
  })

  it('closes the connection of a peer that sends bytes that are not tunnel frames', async () => {
    const env = simulation()
    const a = node(env, 'a')
    a.onRequest((request) => request)
    await a.start()
    const rogue = peerLinks({
      id: 'r',
      transport: env.net.stream('memory:r'),
      handshake: peerHandshake('rony-tunnel/1'),
      clock: env.clock,
    })
    stops.push(() => rogue.stop())
    const echoes: number[] = []
    rogue.onFrame((frame) => echoes.push(frame[0] ?? -1))
    await rogue.start()
    rogue.send(at(a), new Uint8Array([9, 0, 0, 0, 1])) // unknown kind
    await env.clock.advanceAsync(200) // r > a: r waits dialGrace before it dials
    expect(rogue.connected('a')).toBe(false)
    rogue.send(at(a), new Uint8Array([1, 0, 0, 0, 1, 42])) // a well-formed request
    await env.clock.advanceAsync(1_000) // the rogue redials after its backoff
    expect(echoes).toEqual([2]) // answered: a kept running
  })
})

describe('tunnel(init) overloads', () => {
  it('without an id returns a factory the host completes with its id and logger', async () => {
    const env = simulation()
    const scopes: string[] = []
    const logger = {
      forComponent(name: string) {
        scopes.push(name)
        return Object.assign(() => {}, { enabled: false, error: () => {}, warn: () => {} })
      },
    }
    const factory: TunnelFactory = tunnel({
      transport: env.net.stream('memory:n1'),
      clock: env.clock,
    })
    expect(typeof factory).toBe('function')
    const t = factory({ id: 'n1', logger } as never)
    stops.push(async () => await t.stop())
    expect(t.id).toBe('n1')
    expect(scopes).toEqual(['rony:tunnel:n1'])
    const b = node(env, 'b')
    b.onRequest((r, from) => bytes(`${from}:${text(r)}`))
    await t.start()
    await b.start()
    const got = outcome(t.request(at(b), bytes('hi')))
    await env.clock.advanceAsync(200) // n1 > b: n1 waits dialGrace for b's connection first
    expect(text(got.value as Uint8Array)).toBe('n1:hi')
  })

  it('checks options at once', () => {
    expect(() => tunnel({ bind: '127.0.0.1:0', maxInFlight: 0 })).toThrow(RangeError)
    expect(() => tunnel({ bind: '127.0.0.1:0', nope: 1 } as never)).toThrow(TypeError)
    expect(() => tunnel({} as never)).toThrow(/bind/)
    expect(() => tunnel({ id: '', bind: '127.0.0.1:0' } as never)).toThrow(TypeError)
  })
})

describe('tunnel on TCP', () => {
  it('answers both ways on 127.0.0.1, with payloads well above 64 KiB', async () => {
    const a = tunnel({ id: 'a', bind: '127.0.0.1:0' })
    const b = tunnel({ id: 'b', bind: '127.0.0.1:0' })
    stops.push(
      async () => await a.stop(),
      async () => await b.stop(),
    )
    a.onRequest((request) => request.subarray(0, 3))
    b.onRequest((request) => new Uint8Array(2 * request.byteLength).fill(7))
    await a.start()
    await b.start()
    expect(a.maxMessageSize).toBe(4 * 1024 * 1024)
    const big = await a.request(at(b), new Uint8Array(1024 * 1024))
    expect(big.byteLength).toBe(2 * 1024 * 1024)
    expect(big[big.byteLength - 1]).toBe(7)
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => b.request(at(a), new Uint8Array([i, i, i, i]))),
    )
    expect(answers.map((x) => x[0])).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })
})
