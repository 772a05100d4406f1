import type { AbortOptions, Clock, TimerHandle } from '@rony/interface'
import { raftError } from '../errors.js'

/** One call waiting for the protocol: settles once, then forgets its timer and signal. */
export interface Pending<T> {
  readonly promise: Promise<T>
  /** Resolved, rejected, timed out or aborted. */
  readonly settled: boolean
  resolve(value: T): void
  reject(error: Error): void
}

/**
 * Every call in flight on a node, each bounded by the node's default timeout and by the
 * caller's signal, so that `stop()` can reject them all and nothing waits forever.
 */
export class PendingCalls {
  readonly #clock: Clock
  readonly #timeout: number
  readonly #all = new Set<Pending<unknown>>()

  constructor(clock: Clock, timeout: number) {
    this.#clock = clock
    this.#timeout = timeout
  }

  /**
   * A new pending call. `onSettle` runs once however it ends (to drop it from an index).
   *
   * @param what - For the timeout message.
   * @param timeoutError - The error when the default timeout elapses, if not `RONY_ERR_TIMEOUT`
   * (undefined: that one), asked when it elapses.
   */
  create<T>(
    what: string,
    opts: AbortOptions | undefined,
    onSettle?: () => void,
    timeoutError?: () => Error | undefined,
  ): Pending<T> {
    const signal = opts?.signal
    let timer: TimerHandle | undefined
    let done = false
    let resolve!: (value: T) => void
    let reject!: (error: Error) => void
    const promise = new Promise<T>((res, rej) => {
      resolve = res
      reject = rej
    })
    const onAbort = (): void => pending.reject(signal?.reason as Error)
    const settle = (): boolean => {
      if (done) return false
      done = true
      this.#all.delete(pending as Pending<unknown>)
      if (timer !== undefined) this.#clock.clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      onSettle?.()
      return true
    }
    const pending: Pending<T> = {
      promise,
      get settled() {
        return done
      },
      resolve: (value) => {
        if (settle()) resolve(value)
      },
      reject: (error) => {
        if (settle()) reject(error)
      },
    }
    this.#all.add(pending as Pending<unknown>)
    if (signal?.aborted) {
      pending.reject(signal.reason as Error)
      return pending
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    timer = this.#clock.setTimeout(
      () =>
        pending.reject(
          timeoutError?.() ??
            raftError('RONY_ERR_TIMEOUT', `${what}: no answer in ${this.#timeout} ms`),
        ),
      this.#timeout,
    )
    return pending
  }

  /** Rejects every call still pending. */
  rejectAll(error: Error): void {
    for (const p of [...this.#all]) p.reject(error)
  }
}
