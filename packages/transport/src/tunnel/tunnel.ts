import {
  type Clock,
  CodedError,
  disabledLogger,
  integerOption,
  Lifecycle,
  type Logger,
  type Random,
  type StreamTransport,
  type Tunnel,
  type TunnelHandler,
  type TunnelPeer,
  type TunnelRequestOptions,
} from '@rony/interface'
import { systemClock } from '../clock.js'
import { messageTooLarge, notStarted, stopped, timedOut } from '../errors.js'
import { peerHandshake } from '../peer/handshake.js'
import type { SentFrame } from '../peer/link.js'
import { type PeerLinks, peerLinks } from '../peer/links.js'
import { systemRandom } from '../random.js'
import { tcpTransport } from '../tcp/transport.js'
import { decodeFrame, encodeFrame, FRAME_HEADER_BYTES, FrameKind } from './frame.js'
import { resolveTunnelLimits, type TunnelInit, type TunnelLimits } from './options.js'

/** The hello of the tunnel's links: a dial to a peer's Raft port is refused at once. */
export const TUNNEL_PROTOCOL = 'rony-tunnel/1'

/** Longest remote error message carried back, in UTF-8 bytes (longer ones are cut). */
const MAX_ERROR_MESSAGE_BYTES = 1024

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** An outbound request awaiting its response. */
interface Pending {
  readonly peer: TunnelPeer
  settle(outcome: { response: Uint8Array } | { error: unknown }): void
}

/**
 * A {@link Tunnel} on {@link peerLinks}: one connection per peer both ways, each request a
 * frame tagged with this node's counter, each answer a frame with the same tag.
 */
export class TunnelNode implements Tunnel {
  readonly id: string
  readonly maxMessageSize: number
  readonly #limits: TunnelLimits
  readonly #clock: Clock
  readonly #log: Logger
  readonly #random: Random
  readonly #links: PeerLinks
  #handler: TunnelHandler | undefined
  #up = false
  #nextId = 0
  readonly #pending = new Map<number, Pending>()
  /** Handlers running, by `from` and request id, with the controller of their signal. */
  readonly #serving = new Map<string, AbortController>()
  readonly #lifecycle = new Lifecycle({
    start: async () => {
      this.#nextId = Math.floor(this.#random.next() * 2 ** 32) >>> 0
      await this.#links.start()
      this.#up = true
    },
    stop: async () => {
      this.#up = false
      const reason = stopped('tunnel')
      for (const pending of [...this.#pending.values()]) pending.settle({ error: reason })
      for (const controller of this.#serving.values()) controller.abort(reason)
      this.#serving.clear()
      await this.#links.stop()
    },
  })

  constructor(init: TunnelInit) {
    const limits = resolveTunnelLimits(init)
    if (typeof init.id !== 'string' || init.id === '') {
      throw new TypeError('tunnel: id must be a non-empty string')
    }
    this.id = init.id
    this.#clock = init.clock ?? systemClock
    this.#log = init.logger ?? disabledLogger
    this.#random = init.random ?? systemRandom
    let transport: StreamTransport
    if (init.transport === undefined) {
      this.maxMessageSize = limits.maxMessageSize
      transport = tcpTransport({
        bind: init.bind as string,
        maxMessageSize: this.maxMessageSize + FRAME_HEADER_BYTES,
        logger: this.#log,
      })
    } else {
      transport = init.transport
      const room = transport.maxMessageSize - FRAME_HEADER_BYTES
      this.maxMessageSize = init.maxMessageSize ?? Math.min(limits.maxMessageSize, room)
      if (this.maxMessageSize > room) {
        throw new RangeError(
          `tunnel: maxMessageSize ${this.maxMessageSize} needs a transport maxMessageSize of at least ${this.maxMessageSize + FRAME_HEADER_BYTES}`,
        )
      }
    }
    this.#limits = limits
    this.#links = peerLinks({
      id: this.id,
      transport,
      handshake: peerHandshake(TUNNEL_PROTOCOL),
      clock: this.#clock,
      logger: this.#log,
    })
    this.#links.onFrame((frame, from) => this.#receive(frame, from))
  }

  get address(): string {
    return this.#links.address
  }

  start(): Promise<void> {
    return this.#lifecycle.start()
  }

  stop(): Promise<void> {
    return this.#lifecycle.stop()
  }

  onRequest(handler: TunnelHandler): void {
    this.#handler = handler
  }

  request(to: TunnelPeer, request: Uint8Array, opts?: TunnelRequestOptions): Promise<Uint8Array> {
    try {
      return this.#request(to, request, opts)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  #request(to: TunnelPeer, request: Uint8Array, opts?: TunnelRequestOptions): Promise<Uint8Array> {
    if (typeof to.id !== 'string' || to.id === '' || to.id === this.id) {
      throw new TypeError(`tunnel: cannot send a request to ${JSON.stringify(to.id)}`)
    }
    const timeout =
      opts?.timeout === undefined
        ? this.#limits.requestTimeout
        : integerOption('timeout', opts.timeout, 1)
    if (!this.#up) throw notStarted('tunnel')
    const signal = opts?.signal
    if (signal?.aborted === true) throw signal.reason
    if (request.byteLength > this.maxMessageSize) {
      throw messageTooLarge(request.byteLength, this.maxMessageSize)
    }
    if (this.#pending.size >= this.#limits.maxInFlight) {
      throw new CodedError(
        `tunnel: ${this.#pending.size} requests in flight (maxInFlight)`,
        'RONY_ERR_BUSY',
      )
    }
    const id = this.#freeId()
    return new Promise<Uint8Array>((resolve, reject) => {
      let sent: SentFrame | undefined
      const giveUp = (error: unknown): void => {
        settle({ error })
        // Still queued (the link is down): taken back, so the peer never runs a request nobody
        // waits for. Written: tell the peer, so its handler's signal aborts (best effort).
        if (sent?.withdraw() === false) {
          this.#links.send({ id: to.id, address: '' }, encodeFrame(FrameKind.Cancel, id))
        }
      }
      const onAbort = (): void => giveUp(signal?.reason)
      const timer = this.#clock.setTimeout(
        () => giveUp(timedOut('tunnel request', timeout)),
        timeout,
      )
      const settle: Pending['settle'] = (outcome) => {
        if (this.#pending.get(id)?.settle !== settle) return
        this.#pending.delete(id)
        this.#clock.clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        if ('response' in outcome) resolve(outcome.response)
        else reject(outcome.error)
      }
      this.#pending.set(id, { peer: to, settle })
      signal?.addEventListener('abort', onAbort, { once: true })
      sent = this.#links.send(to, encodeFrame(FrameKind.Request, id, request))
    })
  }

  /** The next request id (a 32-bit counter) not pending; `maxInFlight` bounds the search. */
  #freeId(): number {
    let id = this.#nextId
    while (this.#pending.has(id)) id = (id + 1) >>> 0
    this.#nextId = (id + 1) >>> 0
    return id
  }

  /** One frame from `from`; a frame that is not a tunnel frame throws and closes the link. */
  #receive(bytes: Uint8Array, from: string): void {
    const { kind, id, payload } = decodeFrame(bytes)
    if (kind === FrameKind.Request) {
      this.#serve(from, id, payload)
      return
    }
    if (kind === FrameKind.Cancel) {
      this.#serving.get(servingKey(from, id))?.abort()
      return
    }
    const pending = this.#pending.get(id)
    // A late answer (the request timed out) or one from a peer it was not sent to: dropped.
    if (pending === undefined || pending.peer.id !== from) return
    pending.settle(this.#outcome(kind, payload, from))
  }

  #outcome(
    kind: FrameKind,
    payload: Uint8Array,
    from: string,
  ): { response: Uint8Array } | { error: unknown } {
    switch (kind) {
      case FrameKind.Response:
        return { response: payload }
      case FrameKind.Busy:
        return { error: new CodedError(`tunnel: ${from} is busy (maxConcurrent)`, 'RONY_ERR_BUSY') }
      case FrameKind.TooLarge:
        return {
          error: new CodedError(
            `tunnel: the response from ${from} exceeds its maxMessageSize`,
            'RONY_ERR_MESSAGE_TOO_LARGE',
          ),
        }
      default:
        return { error: new CodedError(decoder.decode(payload), 'RONY_ERR_REMOTE') }
    }
  }

  #serve(from: string, id: number, request: Uint8Array): void {
    const key = servingKey(from, id)
    if (this.#serving.has(key)) return // a duplicate of a request running now
    const back = { id: from, address: '' } // over the connection the request came on
    if (this.#serving.size >= this.#limits.maxConcurrent) {
      this.#links.send(back, encodeFrame(FrameKind.Busy, id))
      return
    }
    const controller = new AbortController()
    this.#serving.set(key, controller)
    void this.#run(from, request, controller.signal).then((reply) => {
      if (this.#serving.get(key) === controller) this.#serving.delete(key)
      // Cancelled or stopped: nobody waits for the answer.
      if (!controller.signal.aborted) this.#links.send(back, reply(id))
    })
  }

  /** Runs the handler; resolves to the answer frame's encoder, never rejects. */
  async #run(
    from: string,
    request: Uint8Array,
    signal: AbortSignal,
  ): Promise<(id: number) => Uint8Array> {
    try {
      if (this.#handler === undefined) throw new Error('no request handler on this node')
      const response = await this.#handler(request, from, signal)
      if (!(response instanceof Uint8Array)) throw new TypeError('the handler returned no bytes')
      if (response.byteLength > this.maxMessageSize) {
        if (this.#log.enabled) {
          this.#log('response of %d bytes to %s too large', response.byteLength, from)
        }
        return (id) => encodeFrame(FrameKind.TooLarge, id)
      }
      return (id) => encodeFrame(FrameKind.Response, id, response)
    } catch (error) {
      const message = encoder
        .encode(error instanceof Error ? error.message : String(error))
        .subarray(0, MAX_ERROR_MESSAGE_BYTES)
      return (id) => encodeFrame(FrameKind.RemoteError, id, message)
    }
  }
}

function servingKey(from: string, id: number): string {
  return `${id}:${from}`
}
