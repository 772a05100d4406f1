import type { MessageStream, TimerHandle } from '@rony/interface'
import { messageTooLarge, streamClosed } from '../errors.js'
import { Inbox } from '../inbox.js'
import type { MemoryNetworkImpl } from './network.js'

/**
 * One side of an in-memory stream. Two sides make a connection; each direction is an
 * ordered queue of deliveries on the network's clock.
 *
 * Back pressure is credit based: a side counts the bytes it sent that the remote iterator
 * has not yet taken (`#outstanding`, which includes messages still in flight). `send`
 * resolves at once while that count is below the high-water mark and waits, in FIFO order,
 * above it; each message the remote iterator takes returns its bytes. So the receive
 * buffer of a side is bounded by the sender's high-water mark plus one message.
 */

type State = 'open' | 'closing' | 'closed' | 'aborted'

interface PendingSend {
  readonly msg: Uint8Array
  readonly resolve: () => void
  readonly reject: (err: Error) => void
}

export interface MemoryStreamInit {
  readonly net: MemoryNetworkImpl
  /** Address of the endpoint this side belongs to. */
  readonly local: string
  /** Address of the other side's endpoint (as dialed, for the dialer). */
  readonly remote: string
  readonly maxMessageSize: number
  readonly highWaterMark: number
  /** Called once when this side is finished (aborted, or closed both ways). */
  readonly onFinish: (s: MemoryStream) => void
}

export class MemoryStream implements MessageStream {
  readonly remote: string
  readonly local: string
  peer!: MemoryStream
  readonly #init: MemoryStreamInit
  #state: State = 'open'
  #remoteEnded = false
  #error: Error | undefined
  /** Each message the iterator takes returns its bytes to the sender's credit. */
  readonly #inbox = new Inbox({
    onTake: (msg) => this.peer.#credit(msg.byteLength),
    onDone: () => this.#checkFinished(),
  })
  #outstanding = 0
  readonly #waiting: PendingSend[] = []
  #closing: (() => void) | undefined
  /** Due time of the latest delivery scheduled in our direction, so none overtakes another. */
  #lastDue = Number.NEGATIVE_INFINITY
  readonly #timers = new Set<TimerHandle>()
  #finished = false

  constructor(init: MemoryStreamInit) {
    this.#init = init
    this.remote = init.remote
    this.local = init.local
  }

  send(msg: Uint8Array): Promise<void> {
    if (this.#state !== 'open' || this.#remoteEnded) {
      return Promise.reject(streamClosed('stream closed', this.#error))
    }
    if (msg.byteLength > this.#init.maxMessageSize) {
      return Promise.reject(messageTooLarge(msg.byteLength, this.#init.maxMessageSize))
    }
    if (this.#waiting.length === 0 && this.#outstanding < this.#init.highWaterMark) {
      this.#admit(msg)
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => this.#waiting.push({ msg, resolve, reject }))
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#inbox.iterator()
  }

  async close(): Promise<void> {
    if (this.#state === 'aborted' || this.#state === 'closed') return
    if (this.#state === 'open') {
      this.#state = 'closing'
      if (this.#waiting.length > 0) {
        // Flush: sends accepted before close() still go out, once credit allows.
        await new Promise<void>((resolve) => {
          this.#closing = resolve
        })
      }
      if (this.#state !== 'closing') return
      this.#state = 'closed'
      this.#schedule(() => this.peer.#onFin(), true)
      this.#inbox.end()
      this.#checkFinished()
    }
  }

  abort(err?: Error): void {
    if (this.#state === 'aborted' || this.#state === 'closed') return
    this.fail(err ?? streamClosed('stream aborted'))
    // The reset travels like any packet, but may overtake queued messages, as a TCP RST does.
    const net = this.#init.net
    const peer = this.peer
    net.clock.setTimeout(
      () => peer.fail(streamClosed('stream reset by peer')),
      net.delay(this.local, peer.local),
    )
  }

  /**
   * Aborts this side only (no reset is sent): the local half of an abort, or what a
   * partition or crash does to each side.
   */
  fail(err: Error): void {
    if (this.#state === 'aborted') return
    const wasClosing = this.#state === 'closing'
    this.#state = 'aborted'
    this.#error = err
    this.#init.net.counters.streams.aborted++
    this.#inbox.fail(err)
    for (const t of this.#timers) this.#init.net.clock.clearTimeout(t)
    this.#timers.clear()
    for (const w of this.#waiting.splice(0)) w.reject(err)
    if (wasClosing) this.#closing?.()
    this.#checkFinished()
  }

  #admit(msg: Uint8Array): void {
    this.#outstanding += msg.byteLength
    this.#init.net.counters.streams.sent++
    const peer = this.peer
    this.#schedule(() => peer.#onMessage(msg), false)
  }

  /** Schedules a delivery in our direction, never before an earlier one. */
  #schedule(fn: () => void, last: boolean): void {
    const net = this.#init.net
    const now = net.clock.now()
    const due = Math.max(this.#lastDue, now + net.delay(this.local, this.peer.local))
    this.#lastDue = due
    const handle = net.clock.setTimeout(() => {
      this.#timers.delete(handle)
      fn()
    }, due - now)
    // The FIN must arrive even after we are finished; only data timers die with an abort.
    if (!last) this.#timers.add(handle)
  }

  #onMessage(msg: Uint8Array): void {
    const counters = this.#init.net.counters.streams
    if (this.#state === 'aborted' || this.#state === 'closed') {
      counters.dropped++
      this.peer.#credit(msg.byteLength)
      return
    }
    counters.delivered++
    this.#inbox.push(msg)
  }

  #onFin(): void {
    if (this.#state === 'aborted') return
    this.#remoteEnded = true
    for (const w of this.#waiting.splice(0)) w.reject(streamClosed('stream closed by peer'))
    if (this.#state === 'closing') this.#closing?.()
    this.#inbox.end()
    this.#checkFinished()
  }

  #credit(bytes: number): void {
    this.#outstanding = Math.max(0, this.#outstanding - bytes)
    while (this.#waiting.length > 0 && this.#outstanding < this.#init.highWaterMark) {
      if (this.#state !== 'open' && this.#state !== 'closing') return
      const w = this.#waiting.shift()!
      this.#admit(w.msg)
      w.resolve()
    }
    if (this.#waiting.length === 0 && this.#state === 'closing') this.#closing?.()
  }

  #checkFinished(): void {
    if (this.#finished) return
    const done =
      this.#state === 'aborted' ||
      (this.#state === 'closed' && this.#remoteEnded && this.#inbox.length === 0)
    if (!done) return
    this.#finished = true
    this.#init.onFinish(this)
  }
}
