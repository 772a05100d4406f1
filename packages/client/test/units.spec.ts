import { describe, expect, it } from 'vitest'
import { backoffDelay, DEFAULT_BACKOFF, resolveBackoff } from '../src/backoff.js'
import { Emitter } from '../src/events.js'
import { Keepalive } from '../src/keepalive.js'
import { mergeHeader, resolveOptions } from '../src/options.js'
import { Pending, PendingTable } from '../src/pending.js'

/** A manual clock: timers fire only when the test advances time. */
class FakeClock {
  time = 1_000_000
  private timers: { at: number; fn: () => void; id: number }[] = []
  private ids = 0
  now = (): number => this.time
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.ids
    this.timers.push({ at: this.time + Math.max(0, ms), fn, id })
    return id
  }
  clearTimeout = (id: unknown): void => {
    this.timers = this.timers.filter((t) => t.id !== id)
  }
  get pending(): number {
    return this.timers.length
  }
  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id)
      const next = this.timers[0]
      if (!next || next.at > end) break
      this.timers.shift()
      this.time = next.at
      next.fn()
    }
    this.time = end
  }
}

/** A manual clock whose timers, as Node's, can be unreferenced (`ref`/`unref`). */
class RefClock {
  readonly base = new FakeClock()
  /** Timers set so far. */
  set = 0
  readonly unreferenced = new Set<number>()
  now = (): number => this.base.now()
  setTimeout = (fn: () => void, ms: number): unknown => {
    this.set++
    const id = this.base.setTimeout(fn, ms) as number
    return { id, ref: () => this.unreferenced.delete(id), unref: () => this.unreferenced.add(id) }
  }
  clearTimeout = (handle: unknown): void => this.base.clearTimeout((handle as { id: number }).id)
}

describe('backoff', () => {
  it('grows by factor up to maxDelay, without jitter', () => {
    const options = resolveBackoff({ ...DEFAULT_BACKOFF, jitter: 0 })
    const delays = Array.from({ length: 10 }, (_, attempt) => backoffDelay(options, attempt, 0.9))
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000])
  })

  it('takes up to `jitter` of each delay off, at random', () => {
    const options = { ...DEFAULT_BACKOFF } // jitter 0.5
    expect(backoffDelay(options, 3, 0)).toBe(800)
    expect(backoffDelay(options, 3, 0.5)).toBe(600)
    expect(backoffDelay(options, 3, 0.999999)).toBe(400)
  })

  it('stays finite for huge attempt counts and a zero initial delay', () => {
    expect(backoffDelay({ ...DEFAULT_BACKOFF, jitter: 0 }, 5000, 0)).toBe(10_000)
    expect(backoffDelay({ ...DEFAULT_BACKOFF, initialDelay: 0, jitter: 0 }, 5000, 0)).toBe(0)
  })

  it('rejects nonsense', () => {
    expect(() => resolveBackoff({ ...DEFAULT_BACKOFF, jitter: 2 })).toThrow(RangeError)
    expect(() => resolveBackoff({ ...DEFAULT_BACKOFF, initialDelay: -1 })).toThrow(RangeError)
    expect(() => resolveOptions({ keepalive: -5 })).toThrow(RangeError)
  })
})

describe('pending table', () => {
  function add(
    table: PendingTable,
    clock: { now(): number },
    id: bigint,
    timeout: number,
  ): Pending {
    const pending = new Pending(
      table,
      id,
      new Uint8Array(0),
      'Ping',
      clock.now() + timeout,
      timeout,
      false,
      undefined,
      undefined,
    )
    pending.promise.catch(() => {})
    table.add(pending)
    return pending
  }

  it('times requests out on their deadlines with a single timer, and reports each', async () => {
    const clock = new FakeClock()
    const abandoned: bigint[] = []
    const table = new PendingTable(clock, (p) => abandoned.push(p.id))
    const rejected: bigint[] = []
    for (const [id, timeout] of [
      [1n, 300],
      [2n, 100],
      [3n, 200],
    ] as const) {
      add(table, clock, id, timeout).promise.catch(() => rejected.push(id))
    }
    expect(clock.pending).toBe(1)
    clock.advance(150)
    await Promise.resolve()
    expect(rejected).toEqual([2n])
    expect(clock.pending).toBe(1)
    clock.advance(1000)
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(rejected).toEqual([2n, 3n, 1n])
    expect(abandoned).toEqual(rejected)
    expect(table.size).toBe(0)
    expect(clock.pending).toBe(0)
  })

  it('releases its timer once the table empties', () => {
    const clock = new FakeClock()
    const table = new PendingTable(clock, () => {})
    add(table, clock, 1n, 100)
    expect(clock.pending).toBe(1)
    table.take(1n)?.resolve(undefined)
    expect(clock.pending).toBe(0)
  })

  it('keeps an unreferenced timer across an empty table, so one request at a time sets none', async () => {
    const clock = new RefClock()
    const table = new PendingTable(clock, () => {})
    add(table, clock, 1n, 100)
    table.take(1n)?.resolve(undefined)
    expect(clock.base.pending).toBe(1)
    expect(clock.unreferenced.size).toBe(1) // it no longer holds the process open
    for (let id = 2n; id < 10n; id++) {
      clock.base.advance(5)
      add(table, clock, id, 100)
      expect(clock.unreferenced.size).toBe(0)
      table.take(id)?.resolve(undefined)
    }
    expect(clock.set).toBe(1)
    // A request made while the kept timer waits still times out on its own deadline.
    const late = add(table, clock, 10n, 100)
    const rejected = late.promise.then(
      () => undefined,
      (error: { code: string }) => [clock.now(), error.code],
    )
    clock.base.advance(99)
    clock.base.advance(1)
    expect(await rejected).toEqual([1_000_000 + 40 + 100, 'RONY_ERR_TIMEOUT'])
    expect(clock.base.pending).toBe(0)
  })

  it('rejects with TIMEOUT carrying the message name and timeout', async () => {
    const clock = new FakeClock()
    const table = new PendingTable(clock, () => {})
    const pending = add(table, clock, 9n, 250)
    clock.advance(250)
    await expect(pending.promise).rejects.toMatchObject({
      code: 'RONY_ERR_TIMEOUT',
      message: 'E06:TIMEOUT (no reply to Ping within 250 ms)',
    })
  })
})

describe('keepalive', () => {
  it('pings after `interval` of silence and declares death `timeout` after an unanswered ping', () => {
    const clock = new FakeClock()
    const log: string[] = []
    const keepalive = new Keepalive(clock, 1000, 300, {
      ping: () => log.push(`ping@${clock.time - 1_000_000}`),
      dead: () => log.push(`dead@${clock.time - 1_000_000}`),
    })
    keepalive.start()
    clock.advance(600)
    keepalive.receivedFrame() // traffic postpones the ping
    clock.advance(1000)
    expect(log).toEqual(['ping@1600'])
    clock.advance(100)
    keepalive.receivedFrame() // the Pong
    clock.advance(1000)
    expect(log).toEqual(['ping@1600', 'ping@2700'])
    clock.advance(300)
    expect(log).toEqual(['ping@1600', 'ping@2700', 'dead@3000'])
    expect(clock.pending).toBe(0)
  })

  it('is off with interval 0 and stops cleanly', () => {
    const clock = new FakeClock()
    const off = new Keepalive(clock, 0, 300, { ping: () => {}, dead: () => {} })
    off.start()
    expect(clock.pending).toBe(0)
    const on = new Keepalive(clock, 100, 300, { ping: () => {}, dead: () => {} })
    on.start()
    on.stop()
    expect(clock.pending).toBe(0)
  })
})

describe('headers and events', () => {
  it('merges request headers over the defaults, per key', () => {
    const defaults = [
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
      { key: 'b', value: '3' },
    ]
    expect(mergeHeader(defaults, undefined)).toBe(defaults)
    expect(mergeHeader(defaults, { b: 'x', c: 'y' })).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: 'x' },
      { key: 'c', value: 'y' },
    ])
    expect(mergeHeader([], [{ key: 'k', value: 'v' }])).toEqual([{ key: 'k', value: 'v' }])
  })

  it('emits to a snapshot of listeners, so one may remove itself while emitting', () => {
    const emitter = new Emitter<{ tick: (n: number) => void }>()
    const seen: string[] = []
    const once = (n: number): void => {
      seen.push(`once ${n}`)
      emitter.off('tick', once)
    }
    emitter.on('tick', once)
    emitter.on('tick', (n) => seen.push(`always ${n}`))
    emitter.emit('tick', 1)
    emitter.emit('tick', 2)
    expect(seen).toEqual(['once 1', 'always 1', 'always 2'])
    expect(emitter.has('tick')).toBe(true)
  })
})
