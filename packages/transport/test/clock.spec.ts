import type { TimerHandle } from '@rony/interface'
import { describe, expect, it } from 'vitest'
import { seededRandom, systemClock, virtualClock } from '../src/index.js'

describe('virtualClock', () => {
  it('starts at init.now and never fires synchronously', () => {
    const clock = virtualClock({ now: 1_000 })
    const fired: number[] = []
    clock.setTimeout(() => fired.push(clock.now()), 0)
    clock.setTimeout(() => fired.push(clock.now()), -5)
    expect(fired).toEqual([])
    expect(clock.now()).toBe(1_000)
    expect(clock.pending).toBe(2)
    clock.advance(0)
    expect(fired).toEqual([1_000, 1_000])
    expect(clock.pending).toBe(0)
  })

  it('fires in time order, same-time timers in scheduling order', () => {
    const clock = virtualClock()
    const log: string[] = []
    clock.setTimeout(() => log.push('c30'), 30)
    clock.setTimeout(() => log.push('a10'), 10)
    clock.setTimeout(() => log.push('b10'), 10)
    clock.setTimeout(() => log.push('d10'), 10)
    clock.advance(100)
    expect(log).toEqual(['a10', 'b10', 'd10', 'c30'])
    expect(clock.now()).toBe(100)
  })

  it('runs timers scheduled by callbacks within the window, at their due time', () => {
    const clock = virtualClock()
    const log: Array<[string, number]> = []
    clock.setTimeout(() => {
      log.push(['first', clock.now()])
      clock.setTimeout(() => log.push(['nested', clock.now()]), 5)
      clock.setTimeout(() => log.push(['late', clock.now()]), 50)
    }, 10)
    clock.advance(20)
    expect(log).toEqual([
      ['first', 10],
      ['nested', 15],
    ])
    expect(clock.pending).toBe(1)
    clock.advance(40)
    expect(log.at(-1)).toEqual(['late', 60])
  })

  it('clearTimeout cancels, and is a no-op on fired or unknown handles', () => {
    const clock = virtualClock()
    let n = 0
    const h = clock.setTimeout(() => n++, 5)
    const g = clock.setTimeout(() => n++, 5)
    clock.clearTimeout(h)
    clock.clearTimeout(h)
    expect(clock.pending).toBe(1)
    clock.advance(5)
    clock.clearTimeout(g)
    expect(n).toBe(1)
  })

  it('rethrows a callback error from the advancing call, and stays usable', () => {
    const clock = virtualClock()
    const log: number[] = []
    clock.setTimeout(() => log.push(1), 1)
    clock.setTimeout(() => {
      throw new Error('boom')
    }, 2)
    clock.setTimeout(() => log.push(3), 3)
    expect(() => clock.advance(10)).toThrow('boom')
    expect(clock.now()).toBe(2)
    expect(log).toEqual([1])
    clock.advance(8)
    expect(log).toEqual([1, 3])
  })

  it('next() and runAll() fire pending timers; runAll guards endless timers', () => {
    const clock = virtualClock()
    const log: number[] = []
    clock.setTimeout(() => log.push(clock.now()), 7)
    clock.setTimeout(() => log.push(clock.now()), 3)
    expect(clock.next()).toBe(true)
    expect(log).toEqual([3])
    expect(clock.runAll()).toBe(1)
    expect(clock.next()).toBe(false)
    const tick = (): void => {
      clock.setTimeout(tick, 1)
    }
    tick()
    expect(() => clock.runAll(50)).toThrow(/more than 50/)
  })

  it('fires thousands of random timers exactly in (due, seq) order, as one sorted list would', () => {
    // Fractional and zero delays, timers scheduled and cleared from callbacks, advances that
    // stop inside a millisecond: the order must be that of sorting every timer by (due, seq).
    const random = seededRandom(17)
    const clock = virtualClock({ now: 1_700_000_000_000.25 })
    const model: Array<{ due: number; seq: number; cleared: boolean }> = []
    const handles: TimerHandle[] = []
    const fired: number[] = []
    let seq = 0
    const schedule = (depth: number): void => {
      const r = random.next()
      const ms = r < 0.1 ? 0 : r < 0.6 ? 1 + 4 * random.next() : Math.floor(2_000 * random.next())
      const id = seq++
      model.push({ due: clock.now() + ms, seq: id, cleared: false })
      handles.push(
        clock.setTimeout(() => {
          fired.push(id)
          if (depth < 3 && random.next() < 0.7) schedule(depth + 1)
          if (random.next() < 0.2) {
            const victim = random.int(0, handles.length)
            clock.clearTimeout(handles[victim]!)
            model[victim]!.cleared = true
          }
        }, ms),
      )
    }
    for (let i = 0; i < 3_000; i++) schedule(0)
    while (clock.pending > 0) clock.advance(random.next() * 7)
    const expected = model
      .filter((t, i) => !t.cleared || fired.includes(i))
      .sort((a, b) => a.due - b.due || a.seq - b.seq)
      .map((t) => t.seq)
    expect(fired.length).toBeGreaterThan(4_000)
    expect(fired).toEqual(expected)
  })

  it('refuses to be advanced from inside a callback', () => {
    const clock = virtualClock()
    clock.setTimeout(() => clock.advance(1), 1)
    expect(() => clock.advance(1)).toThrow(/inside a timer/)
  })

  it('advanceAsync lets promise chains progress between timers', async () => {
    const clock = virtualClock()
    const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms))
    const log: number[] = []
    const task = (async () => {
      for (let i = 0; i < 5; i++) {
        await sleep(10)
        await Promise.resolve()
        log.push(clock.now())
      }
    })()
    await clock.advanceAsync(50)
    await task
    expect(log).toEqual([10, 20, 30, 40, 50])
  })

  it('runAllAsync drives async code to completion', async () => {
    const clock = virtualClock()
    let done = false
    void (async () => {
      await new Promise<void>((r) => clock.setTimeout(r, 100))
      await new Promise<void>((r) => clock.setTimeout(r, 100))
      done = true
    })()
    expect(await clock.runAllAsync()).toBe(2)
    expect(done).toBe(true)
    expect(clock.now()).toBe(200)
  })
})

describe('systemClock', () => {
  it('fires real timers and can cancel them', async () => {
    let fired = false
    const h = systemClock.setTimeout(() => {
      fired = true
    }, 1)
    systemClock.clearTimeout(h)
    await new Promise((r) => systemClock.setTimeout(() => r(undefined), 5))
    expect(fired).toBe(false)
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(1_000)
  })
})
