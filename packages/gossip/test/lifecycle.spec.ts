import { describe, expect, it } from 'vitest'
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
