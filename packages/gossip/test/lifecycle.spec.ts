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
