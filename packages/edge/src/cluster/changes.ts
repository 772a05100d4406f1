import type { Clock, TimerHandle } from '@rony/interface'

/** The wall clock and Node's timers: what an edge uses unless a test gives it another clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)) as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle as unknown as ReturnType<typeof setTimeout>),
}

/**
 * Wakes whoever waits for the cluster to change (a leader elected, a member's record, the
 * consensus started), so a request held for a leader goes on as soon as it can.
 */
export class ChangeNotifier {
  private readonly waiters = new Set<() => void>()

  constructor(private readonly clock: Clock) {}

  /** Something changed: wake every waiter. */
  notify(): void {
    for (const wake of [...this.waiters]) wake()
  }

  /** Resolves at the next change, or after `ms` (at most), or when `signal` aborts. */
  next(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.waiters.delete(done)
        this.clock.clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = this.clock.setTimeout(done, ms)
      signal?.addEventListener('abort', done, { once: true })
      this.waiters.add(done)
    })
  }
}
