import { updatesOverflow } from './errors.js'
import type { Update } from './events.js'

export interface UpdatesOptions {
  /** Ends the iteration: the pending `next()` rejects with `signal.reason`. */
  signal?: AbortSignal
  /**
   * Most updates held for a slow consumer; one more ends the iteration with `RonyError`
   * E03, code `RONY_ERR_UPDATES_OVERFLOW`, rather than growing without bound.
   * Default: 10_000.
   */
  maxBuffered?: number
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined })

/**
 * One `client.updates()` iteration: a queue between the socket, which pushes, and a
 * `for await` loop, which pulls. Implemented as a plain object rather than an async
 * generator so a push never waits for the consumer and `close()` can end it at once.
 */
export class UpdateStream implements AsyncIterableIterator<Update, undefined> {
  private queue: Update[] = []
  private head = 0
  private waiting:
    | { resolve(r: IteratorResult<Update, undefined>): void; reject(e: unknown): void }
    | undefined
  /** Set once the stream ends: `null` for a normal end, otherwise the error to throw. */
  private ended: { error: unknown } | null | undefined
  private readonly maxBuffered: number
  private readonly signal: AbortSignal | undefined

  constructor(
    options: UpdatesOptions,
    private readonly detach: (stream: UpdateStream) => void,
  ) {
    this.maxBuffered = options.maxBuffered ?? 10_000
    this.signal = options.signal
    if (this.signal?.aborted) this.end({ error: this.signal.reason })
    else this.signal?.addEventListener('abort', this, { once: true })
  }

  /** From the client: one more update. */
  push(update: Update): void {
    if (this.ended !== undefined) return
    if (this.waiting) {
      const { resolve } = this.waiting
      this.waiting = undefined
      resolve({ done: false, value: update })
      return
    }
    if (this.queue.length - this.head >= this.maxBuffered) {
      this.end({ error: updatesOverflow(this.maxBuffered) })
      return
    }
    this.queue.push(update)
  }

  /** From the client (`close()`) or the consumer: no more updates. Buffered ones are dropped only on error. */
  end(outcome: { error: unknown } | null = null): void {
    if (this.ended !== undefined) return
    this.ended = outcome
    this.signal?.removeEventListener('abort', this)
    this.detach(this)
    if (outcome) {
      this.queue = []
      this.head = 0
    }
    const waiting = this.waiting
    this.waiting = undefined
    if (!waiting) return
    if (outcome) {
      this.ended = null // delivered to the waiting next(); later calls see a normal end
      waiting.reject(outcome.error)
    } else waiting.resolve(DONE)
  }

  /** The abort listener (an object, not a closure). */
  handleEvent(): void {
    this.end({ error: this.signal?.reason })
  }

  next(): Promise<IteratorResult<Update, undefined>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head]!
      this.head++
      // Compact once the consumed prefix dominates, so the array does not grow forever.
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head)
        this.head = 0
      }
      return Promise.resolve({ done: false, value })
    }
    if (this.ended === null) return Promise.resolve(DONE)
    if (this.ended) {
      const { error } = this.ended
      this.ended = null // the error is thrown once; later calls see the end
      return Promise.reject(error)
    }
    if (this.waiting)
      return Promise.reject(new Error('updates(): next() called while one is pending'))
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject }
    })
  }

  /** `break` out of a `for await` loop lands here. */
  return(): Promise<IteratorResult<Update, undefined>> {
    this.end()
    this.queue = []
    this.head = 0
    return Promise.resolve(DONE)
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}
