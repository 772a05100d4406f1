import type { RegisteredType } from '@rony/envelope'
import { timeoutError } from './errors.js'
import type { ClientClock } from './options.js'

/**
 * Requests waiting for their reply, by request id, and their deadlines.
 *
 * One timer serves the whole table: it is set for the earliest deadline, and each sweep
 * rejects what has expired and sets it again for the next. With one timeout for every
 * request a sweep runs about once per timeout, not once per request. When the table
 * empties, a timer that can be unreferenced (Node's) is kept but stops holding the process
 * open, so requests made one at a time do not each set and clear a timer; another clock's
 * timer is cleared.
 */

/** One request: its encoded envelope (kept for sending later or again) and its promise. */
export class Pending {
  readonly promise: Promise<unknown>
  resolve!: (value: unknown) => void
  reject!: (reason: unknown) => void
  /** Written to the current connection; false while queued or awaiting a re-send. */
  sent = false

  constructor(
    readonly table: PendingTable,
    readonly id: bigint,
    /** The encoded envelope, sent as is (and again, for an idempotent request). */
    readonly frame: Uint8Array,
    /** The request's message name, for error messages. */
    readonly name: string,
    /** `clock.now()` after which the request times out. */
    readonly deadline: number,
    readonly timeout: number,
    readonly idempotent: boolean,
    /** The expected reply type, when the caller named one. */
    readonly response: RegisteredType | undefined,
    readonly signal: AbortSignal | undefined,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    // The request itself is the abort listener: no closure per request.
    signal?.addEventListener('abort', this)
  }

  /** `signal` aborted: forget the request (a late reply is dropped) and reject as fetch does. */
  handleEvent(): void {
    if (this.table.take(this.id) !== this) return
    this.table.onAbandon(this)
    this.reject(this.signal!.reason)
  }
}

/** What Node's `setTimeout` returns, as far as the table uses it. */
interface NodeTimer {
  ref(): void
  unref(): void
}

export class PendingTable {
  private readonly byId = new Map<bigint, Pending>()
  private timer: unknown
  /** The timer is kept for the next request, unreferenced, while the table is empty. */
  private unreferenced = false
  /** When the sweep timer fires; Infinity when none is set. */
  private sweepAt = Number.POSITIVE_INFINITY

  constructor(
    private readonly clock: ClientClock,
    /** A request was given up on (timed out or aborted), not answered. */
    readonly onAbandon: (pending: Pending) => void,
    /** Why there is no connection, if there is none: the cause of an unsent request's timeout. */
    private readonly noConnectionCause: () => unknown = () => undefined,
  ) {
    this.sweep = this.sweep.bind(this)
  }

  get size(): number {
    return this.byId.size
  }

  /** In insertion order, which is request order: queued requests go out in the order made. */
  values(): IterableIterator<Pending> {
    return this.byId.values()
  }

  add(pending: Pending): void {
    this.byId.set(pending.id, pending)
    if (this.unreferenced) {
      this.unreferenced = false
      ;(this.timer as NodeTimer).ref()
    }
    if (pending.deadline < this.sweepAt) this.schedule(pending.deadline)
  }

  /** Removes and returns the request with this id, if it is still waiting. */
  take(id: bigint): Pending | undefined {
    const pending = this.byId.get(id)
    if (pending === undefined) return undefined
    this.byId.delete(id)
    pending.signal?.removeEventListener('abort', pending)
    // An idle client's timer does not keep a Node process alive.
    if (this.byId.size === 0) this.release()
    return pending
  }

  /** Rejects every request with `error`, or only those `which` selects. */
  rejectAll(error: unknown, which?: (pending: Pending) => boolean): void {
    for (const pending of this.byId.values()) {
      if (which && !which(pending)) continue
      this.take(pending.id)
      pending.reject(error)
    }
  }

  /** Stops the timer; requests left in the table no longer time out. */
  dispose(): void {
    this.cancel()
  }

  private schedule(at: number): void {
    this.cancel()
    this.sweepAt = at
    // At least 1 ms: Node may fire a timer a little before Date.now() reaches its deadline.
    this.timer = this.clock.setTimeout(this.sweep, Math.max(1, at - this.clock.now()))
  }

  private cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.unreferenced = false
    this.sweepAt = Number.POSITIVE_INFINITY
  }

  /** The table emptied: unreference the timer if it can be, else clear it. */
  private release(): void {
    const timer = this.timer as Partial<NodeTimer> | undefined
    if (typeof timer?.unref === 'function' && typeof timer.ref === 'function') {
      timer.unref()
      this.unreferenced = true
    } else {
      this.cancel()
    }
  }

  private sweep(): void {
    this.timer = undefined
    this.unreferenced = false
    this.sweepAt = Number.POSITIVE_INFINITY
    const now = this.clock.now()
    let next = Number.POSITIVE_INFINITY
    for (const pending of this.byId.values()) {
      if (pending.deadline <= now) {
        this.take(pending.id)
        this.onAbandon(pending)
        const cause = pending.sent ? undefined : this.noConnectionCause()
        pending.reject(timeoutError(pending.name, pending.timeout, cause))
      } else if (pending.deadline < next) {
        next = pending.deadline
      }
    }
    if (next !== Number.POSITIVE_INFINITY && next < this.sweepAt) this.schedule(next)
  }
}
