import type { AbortOptions, MessageStream, StreamTransport, TimerHandle } from '@rony/interface'
import { dialFailed, notStarted, stopped, streamClosed, timedOut } from '../errors.js'
import type { MemoryNetworkImpl } from './network.js'
import { MemoryStream } from './stream.js'

/**
 * A stream endpoint of the memory network: dials and accepts {@link MemoryStream} pairs.
 *
 * A dial is one trip across the link: after the link's delay the network checks the target
 * (registered, started, with a handler, not partitioned, not crashed); if all is well the
 * target's handler gets its side and the dialer's promise resolves with the other, in the
 * same clock turn; otherwise the dial rejects with `RONY_ERR_DIAL_FAILED` at that moment.
 */

type State = 'idle' | 'started' | 'stopped' | 'crashed'

export interface MemoryStreamEndpointInit {
  readonly maxMessageSize: number
  readonly dialTimeout: number
}

export class MemoryStreamTransport implements StreamTransport {
  readonly address: string
  readonly maxMessageSize: number
  readonly #net: MemoryNetworkImpl
  readonly #dialTimeout: number
  #handler: ((stream: MessageStream) => void) | undefined
  #state: State = 'idle'
  readonly #open = new Set<MemoryStream>()
  /** Pending dials, each with the function that fails it (on stop or crash). */
  readonly #dials = new Set<(err: Error) => void>()

  constructor(net: MemoryNetworkImpl, address: string, init: MemoryStreamEndpointInit) {
    this.#net = net
    this.address = address
    this.maxMessageSize = init.maxMessageSize
    this.#dialTimeout = init.dialTimeout
  }

  start(): void {
    if (this.#state === 'crashed') throw stopped(`stream endpoint ${this.address} crashed and`)
    if (this.#state === 'started') return
    this.#net.register('stream', this)
    this.#state = 'started'
  }

  stop(): void {
    if (this.#state !== 'started') return
    this.#net.unregister('stream', this)
    this.#state = 'stopped'
    this.#shutdown(stopped(`stream endpoint ${this.address}`), true)
  }

  onStream(handler: (stream: MessageStream) => void): void {
    this.#handler = handler
  }

  dial(to: string, opts: AbortOptions = {}): Promise<MessageStream> {
    const net = this.#net
    const signal = opts.signal
    if (signal?.aborted === true) return Promise.reject(signal.reason)
    if (this.#state !== 'started') {
      return Promise.reject(
        this.#state === 'idle'
          ? notStarted(`stream endpoint ${this.address}`)
          : stopped('endpoint'),
      )
    }
    net.counters.streams.dials++
    const from = this.address
    return new Promise<MessageStream>((resolve, reject) => {
      let arrival: TimerHandle | undefined
      let timeout: TimerHandle | undefined
      const cleanup = (): void => {
        if (arrival !== undefined) net.clock.clearTimeout(arrival)
        if (timeout !== undefined) net.clock.clearTimeout(timeout)
        signal?.removeEventListener('abort', onAbort)
        this.#dials.delete(fail)
      }
      const fail = (err: Error): void => {
        cleanup()
        net.counters.streams.dialsFailed++
        reject(err)
      }
      const onAbort = (): void => fail(signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#dials.add(fail)
      timeout = net.clock.setTimeout(
        () => fail(timedOut(`dial ${to}`, this.#dialTimeout)),
        this.#dialTimeout,
      )
      arrival = net.clock.setTimeout(
        () => {
          arrival = undefined
          const reason = net.unreachable(from, to, 'stream')
          const target = net.streamEndpoint(to)
          if (reason !== undefined || target === undefined) {
            return fail(dialFailed(to, reason ?? 'unreachable'))
          }
          if (!target.#accepting()) return fail(dialFailed(to, 'no stream handler'))
          cleanup()
          const ours = this.#side(from, to)
          const theirs = target.#side(to, from)
          ours.peer = theirs
          theirs.peer = ours
          resolve(ours)
          target.#handler?.(theirs)
        },
        net.delay(from, to),
      )
    })
  }

  /** Aborts, on both sides, every open stream a partition now cuts. */
  abortCut(): void {
    for (const s of [...this.#open]) {
      if (!this.#net.connected(s.local, s.peer.local)) {
        const err = streamClosed(`stream to ${s.remote} aborted: network partition`)
        s.fail(err)
        s.peer.fail(err)
      }
    }
  }

  /** Called by the network: the process died. */
  crash(): void {
    if (this.#state === 'started') this.#net.unregister('stream', this)
    this.#state = 'crashed'
    this.#shutdown(stopped(`stream endpoint ${this.address} crashed;`), false)
  }

  /** Aborts open streams (the peers get a reset) and fails pending dials. */
  #shutdown(err: Error, local: boolean): void {
    for (const fail of [...this.#dials]) fail(err)
    for (const s of [...this.#open]) {
      if (local) s.abort(err)
      else {
        s.fail(err)
        s.peer.fail(streamClosed(`stream to ${s.local} reset: peer crashed`))
      }
    }
  }

  #accepting(): boolean {
    return this.#state === 'started' && this.#handler !== undefined
  }

  #side(local: string, remote: string): MemoryStream {
    const s = new MemoryStream({
      net: this.#net,
      local,
      remote,
      maxMessageSize: this.maxMessageSize,
      highWaterMark: this.#net.defaults.streamHighWaterMark,
      onFinish: (done) => this.#open.delete(done),
    })
    this.#open.add(s)
    return s
  }
}
