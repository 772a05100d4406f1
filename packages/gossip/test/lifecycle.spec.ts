import { describe, expect, it } from 'vitest'
import { gossip } from '../src/index.js'
import { sim, view } from './sim.js'

describe('lifecycle', () => {
  it('start is idempotent; stop clears every timer and silences events', async () => {
    const s = sim({ seed: 31 })
    const a = await s.spawn('a')
    const b = await s.spawn('b')
    await Promise.all([a.start(), a.start()])
    await s.run(10_000)
    expect(view(a)).toEqual(['a', 'b'])
    let late = 0
    a.on('member:leave', () => late++)
    a.on('member:suspect', () => late++)
    await a.stop()
    await a.stop()
    await b.stop()
    await s.run(120_000)
    expect(late).toBe(0)
    expect(s.clock.pending).toBe(0)
  })

  it('leave resolves at once when alone, and a second leave is a no-op', async () => {
    const s = sim({ seed: 32 })
    const a = await s.spawn('a')
    await a.leave()
    await a.leave()
    expect(a.local.state).toBe('left')
    await s.close()
  })

  it('a node started before its seed keeps retrying and joins later', async () => {
    const s = sim({ seed: 33 })
    const a = await s.spawn('a', { seeds: ['memory:b'] })
    await s.run(20_000)
    expect(view(a)).toEqual(['a'])
    const b = await s.spawn('b', { seeds: [] })
    await s.run(40_000)
    expect(view(a)).toEqual(['a', 'b'])
    expect(view(b)).toEqual(['a', 'b'])
    await s.close()
  })
})

describe('start and stop (the shared Lifecycle)', () => {
  /** A node on the memory network at `memory:<id>`, not started. */
  const make = (s: ReturnType<typeof sim>, id: string) =>
    gossip({
      id,
      clock: s.clock,
      transport: { packet: s.net.packet(`memory:${id}`), stream: s.net.stream(`memory:${id}`) },
    })
  /** Whether both endpoints at `memory:<id>` are free (new ones can take the address). */
  const free = async (s: ReturnType<typeof sim>, id: string): Promise<boolean> => {
    const packet = s.net.packet(`memory:${id}`)
    const stream = s.net.stream(`memory:${id}`)
    try {
      await packet.start()
      await stream.start()
      return true
    } catch {
      return false
    } finally {
      await packet.stop()
      await stream.stop()
    }
  }

  it('concurrent start() calls all resolve once started', async () => {
    const s = sim({ seed: 34 })
    const g = make(s, 'a')
    const started: boolean[] = []
    await Promise.all(
      [1, 2].map(async () => {
        await g.start()
        started.push(g.local.address === 'memory:a')
      }),
    )
    expect(started).toEqual([true, true])
    await g.stop()
  })

  it('stop() during start() releases the transports and leaves no timer', async () => {
    const s = sim({ seed: 35 })
    const g = make(s, 'a')
    const starting = g.start()
    const stopping = g.stop()
    await starting
    await stopping
    expect(await free(s, 'a')).toBe(true)
    expect(s.clock.pending).toBe(0)
    await expect(g.start()).rejects.toMatchObject({ code: 'RONY_ERR_STOPPED' })
  })

  it('a failed start() releases what it bound, and can be retried', async () => {
    const s = sim({ seed: 36 })
    const squatter = s.net.stream('memory:a')
    await squatter.start()
    const g = make(s, 'a')
    await expect(g.start()).rejects.toMatchObject({ code: 'RONY_ERR_ADDRESS_IN_USE' })
    // The packet endpoint, started before the stream endpoint failed, was released.
    const packet = s.net.packet('memory:a')
    await packet.start()
    await packet.stop()
    await squatter.stop()
    await g.start()
    expect(g.local.address).toBe('memory:a')
    await g.stop()
    expect(await free(s, 'a')).toBe(true)
  })

  it('start() after or during stop() rejects with RONY_ERR_STOPPED', async () => {
    const s = sim({ seed: 37 })
    const g = make(s, 'a')
    await g.start()
    const stopping = g.stop()
    await expect(g.start()).rejects.toMatchObject({ code: 'RONY_ERR_STOPPED' })
    await stopping
    await expect(g.start()).rejects.toMatchObject({ code: 'RONY_ERR_STOPPED' })
    expect(await free(s, 'a')).toBe(true)
  })
})

describe('options', () => {
  it('rejects invalid options at construction, naming them', () => {
    expect(() => gossip({ id: '' })).toThrow(/id must be a non-empty string/)
    expect(() => gossip({ id: 'n1', profile: 'moon' as 'lan' })).toThrow(
      /profile must be one of lan, wan, local/,
    )
    expect(() => gossip({ id: 'n1', probeInterval: 0 })).toThrow(RangeError)
    expect(() => gossip({ id: 'n1', probeInterval: 100, probeTimeout: 200 })).toThrow(
      /probeTimeout/,
    )
    expect(() => gossip({ id: 'n1', tcpFallback: 'yes' as unknown as boolean })).toThrow(
      /tcpFallback/,
    )
    expect(() => gossip({ id: 'n1', leaveTimeout: -5 })).toThrow(/leaveTimeout must be an integer/)
    expect(() => gossip({ id: 'n1', profile: 'local', probeInterval: 500 })).not.toThrow()
  })
})
