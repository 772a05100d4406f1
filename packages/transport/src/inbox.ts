/**
 * The receiving half of a `MessageStream`, shared by the memory and TCP streams: messages
 * queued for the iterator, at most one waiting reader, the end of the stream, and failure.
 */

interface Reader {
  readonly resolve: (r: IteratorResult<Uint8Array>) => void
  readonly reject: (err: Error) => void
}

export interface InboxHooks {
  /** A message went to the iterator (for credit or resuming a paused socket). */
  readonly onTake?: (msg: Uint8Array) => void
  /** A read returned `done`: the inbox is empty and ended. */
  readonly onDone?: () => void
}

const DONE: IteratorResult<Uint8Array> = { done: true, value: undefined }

export class Inbox {
  readonly #queue: Uint8Array[] = []
  #bytes = 0
  #reader: Reader | undefined
  #ended = false
  #error: Error | undefined
  readonly #hooks: InboxHooks

  constructor(hooks: InboxHooks = {}) {
    this.#hooks = hooks
  }

  /** Messages queued and not yet read. */
  get length(): number {
    return this.#queue.length
  }

  /** Bytes queued and not yet read. */
  get bytes(): number {
    return this.#bytes
  }

  /** A message arrived: it goes to the waiting reader, or waits in the queue. */
  push(msg: Uint8Array): void {
    const reader = this.#reader
    if (reader !== undefined && this.#queue.length === 0) {
      this.#reader = undefined
      this.#hooks.onTake?.(msg)
      reader.resolve({ done: false, value: msg })
      return
    }
    this.#queue.push(msg)
    this.#bytes += msg.byteLength
  }

  /** No more messages will arrive: once the queue is read, iteration ends. Idempotent. */
  end(): void {
    this.#ended = true
    const reader = this.#reader
    if (reader !== undefined && this.#queue.length === 0) {
      this.#reader = undefined
      reader.resolve(DONE)
    }
  }

  /** Drops what is queued; the waiting reader and every later read fail with `err`. */
  fail(err: Error): void {
    this.#error = err
    this.#queue.length = 0
    this.#bytes = 0
    const reader = this.#reader
    this.#reader = undefined
    reader?.reject(err)
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#error !== undefined) return Promise.reject(this.#error)
    if (this.#reader !== undefined) {
      return Promise.reject(new Error('MessageStream supports one iteration at a time'))
    }
    const msg = this.#queue.shift()
    if (msg !== undefined) {
      this.#bytes -= msg.byteLength
      this.#hooks.onTake?.(msg)
      return Promise.resolve({ done: false, value: msg })
    }
    if (this.#ended) {
      this.#hooks.onDone?.()
      return Promise.resolve(DONE)
    }
    return new Promise((resolve, reject) => {
      this.#reader = { resolve, reject }
    })
  }

  /** The stream's iterator. Leaving a for-await loop releases it; it neither closes nor aborts. */
  iterator(): AsyncIterator<Uint8Array> {
    return {
      next: () => this.next(),
      return: (): Promise<IteratorResult<Uint8Array>> => {
        const reader = this.#reader
        this.#reader = undefined
        reader?.resolve(DONE)
        return Promise.resolve(DONE)
      },
    }
  }
}
