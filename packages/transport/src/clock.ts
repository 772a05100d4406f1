import type { Clock, TimerHandle } from '@rony/interface'

/**
 * Clocks: the real one, and a virtual one that moves only when a test advances it.
 *
 * The virtual clock keeps its timers in a binary min-heap ordered by (due time, scheduling
 * sequence), so timers due at the same instant fire in the order they were scheduled, as the
 * `Clock` contract requires for replayable simulations.
 */

/** Options of {@link virtualClock}. */
export interface VirtualClockInit {
  /** Initial value of `now()`, in milliseconds (any epoch you like). Default `0`. */
  now?: number | undefined
}

/**
 * A {@link Clock} for deterministic simulation: time stands still until you advance it.
 *
 * Which method to use:
 * - Code driven only by timer callbacks (synchronous protocol steps, packet handlers):
 *   {@link VirtualClock.advance}, {@link VirtualClock.next}, {@link VirtualClock.runAll}.
 * - Code that awaits promises between steps (stream iteration, `await stream.send()`,
 *   `async` handlers, anything on top of the memory network's streams):
 *   {@link VirtualClock.advanceAsync} / {@link VirtualClock.runAllAsync}. They let pending
 *   promise continuations run after every timer, so `await`s resolved by a timer make
 *   progress before the clock moves on, exactly as they would on a real event loop.
 */
export interface VirtualClock extends Clock {
  /** Timers scheduled and not yet fired or cleared. */
  readonly pending: number
  /**
   * Moves time forward by `ms`, firing every timer due within it in time order, including
   * timers that those callbacks schedule within the window; then sets `now()` to the end of
   * the window. While a callback runs, `now()` is its due time. A callback that throws stops
   * the advance and the error is rethrown from here (time stays at that timer's due time).
   *
   * Promise continuations do not run in between callbacks: use {@link advanceAsync} for
   * async code.
   *
   * @param ms - Milliseconds to advance; at least 0.
   */
  advance(ms: number): void
  /**
   * Like {@link advance}, but yields to the event loop before the first timer, after every
   * timer and at the end, so that promise continuations (and the timers they schedule) run
   * at the simulated instant they belong to.
   */
  advanceAsync(ms: number): Promise<void>
  /**
   * Fires the earliest pending timer (and moves time to its due time).
   *
   * @returns `false` when no timer was pending.
   */
  next(): boolean
  /**
   * Fires timers until none is pending.
   *
   * @param limit - Most timers to fire before throwing, which catches periodic timers that
   * would run forever. Default `10_000`.
   * @returns How many timers fired.
   */
  runAll(limit?: number): number
  /** {@link runAll}, yielding to promise continuations after every timer. */
  runAllAsync(limit?: number): Promise<number>
}

interface Timer {
  readonly id: number
  readonly due: number
  readonly seq: number
  fn: (() => void) | undefined
}

function before(a: Timer, b: Timer): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq)
}

/**
 * Waits for one macrotask, so every microtask queued so far (and those they queue) runs.
 * `setImmediate` on Node; `MessageChannel` in browsers; `setTimeout` as a last resort.
 */
const yieldToEventLoop: () => Promise<void> = (() => {
  const g = globalThis as unknown as {
    setImmediate?: (fn: () => void) => unknown
    MessageChannel?: new () => {
      port1: { onmessage: (() => void) | null }
      port2: { postMessage(v: unknown): void }
    }
  }
  const immediate = g.setImmediate
  if (typeof immediate === 'function') return () => new Promise<void>((r) => immediate(r))
  const Channel = g.MessageChannel
  if (typeof Channel === 'function') {
    return () =>
      new Promise<void>((r) => {
        const ch = new Channel()
        ch.port1.onmessage = () => r()
        ch.port2.postMessage(0)
      })
  }
  return () => new Promise<void>((r) => setTimeout(r, 0))
})()

class VirtualClockImpl implements VirtualClock {
  #now: number
  #seq = 0
  #heap: Timer[] = []
  #byId = new Map<number, Timer>()
  #advancing = false

  constructor(init: VirtualClockInit) {
    this.#now = init.now ?? 0
  }

  get pending(): number {
    return this.#byId.size
  }

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0
    const seq = ++this.#seq
    const timer: Timer = { id: seq, due: this.#now + delay, seq, fn }
    this.#byId.set(seq, timer)
    this.#push(timer)
    return seq as unknown as TimerHandle
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.#byId.get(handle as unknown as number)
    if (timer === undefined) return
    // Lazy deletion: the heap entry stays and is skipped when it surfaces.
    timer.fn = undefined
    this.#byId.delete(timer.id)
  }

  advance(ms: number): void {
    const end = this.#now + Math.max(0, ms)
    this.#guard(() => {
      for (let t = this.#peek(); t !== undefined && t.due <= end; t = this.#peek()) this.#fire()
    })
    this.#now = Math.max(this.#now, end)
  }

  async advanceAsync(ms: number): Promise<void> {
    const end = this.#now + Math.max(0, ms)
    await yieldToEventLoop()
    for (let t = this.#peek(); t !== undefined && t.due <= end; t = this.#peek()) {
      this.#guard(() => this.#fire())
      await yieldToEventLoop()
    }
    this.#now = Math.max(this.#now, end)
    await yieldToEventLoop()
  }

  next(): boolean {
    if (this.#peek() === undefined) return false
    this.#guard(() => this.#fire())
    return true
  }

  runAll(limit = 10_000): number {
    let fired = 0
    while (this.#peek() !== undefined) {
      if (fired >= limit) throw new Error(`runAll: more than ${limit} timers fired`)
      this.#guard(() => this.#fire())
      fired++
    }
    return fired
  }

  async runAllAsync(limit = 10_000): Promise<number> {
    let fired = 0
    await yieldToEventLoop()
    while (this.#peek() !== undefined) {
      if (fired >= limit) throw new Error(`runAllAsync: more than ${limit} timers fired`)
      this.#guard(() => this.#fire())
      fired++
      await yieldToEventLoop()
    }
    return fired
  }

  /** Runs `body` as the one advancing call: advancing from inside a timer is a bug. */
  #guard(body: () => void): void {
    if (this.#advancing) throw new Error('virtual clock advanced from inside a timer callback')
    this.#advancing = true
    try {
      body()
    } finally {
      this.#advancing = false
    }
  }

  /** Pops the earliest live timer, moves time to it and runs it. */
  #fire(): void {
    const timer = this.#pop()
    if (timer === undefined) return
    const fn = timer.fn
    timer.fn = undefined
    this.#byId.delete(timer.id)
    this.#now = Math.max(this.#now, timer.due)
    fn?.()
  }

  /** The earliest live timer, discarding cleared ones on the way. */
  #peek(): Timer | undefined {
    let top = this.#heap[0]
    while (top !== undefined && top.fn === undefined) {
      this.#pop()
      top = this.#heap[0]
    }
    return top
  }

  #push(timer: Timer): void {
    const heap = this.#heap
    heap.push(timer)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(timer, heap[parent]!)) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = timer
  }

  #pop(): Timer | undefined {
    const heap = this.#heap
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= heap.length) break
      const r = l + 1
      const child = r < heap.length && before(heap[r]!, heap[l]!) ? r : l
      if (!before(heap[child]!, last)) break
      heap[i] = heap[child]!
      i = child
    }
    heap[i] = last
    return top
  }
}

/**
 * Creates a virtual clock: `now()` starts at `init.now` (default 0) and moves only through
 * `advance`, `advanceAsync`, `next`, `runAll` or `runAllAsync`.
 *
 * @example
 * ```ts
 * const clock = virtualClock()
 * clock.setTimeout(() => console.log('fired at', clock.now()), 100)
 * clock.advance(99) // nothing yet
 * clock.advance(1) // "fired at 100"
 * ```
 */
export function virtualClock(init: VirtualClockInit = {}): VirtualClock {
  return new VirtualClockImpl(init)
}

type NodeTimer = ReturnType<typeof setTimeout> & { unref?: () => unknown }

/**
 * The real clock: `Date.now()` and the platform's timers. Timers are `unref()`ed where the
 * platform supports it (Node), as the `Clock` contract allows: a component's sockets keep
 * the process alive, and its `stop()` clears its timers.
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle => {
    const t = setTimeout(fn, Math.max(0, ms)) as NodeTimer
    if (typeof t === 'object' && typeof t.unref === 'function') t.unref()
    return t as unknown as TimerHandle
  },
  clearTimeout: (h: TimerHandle): void => clearTimeout(h as unknown as NodeTimer),
})
