import {
  type Clock,
  disabledLogger,
  Lifecycle,
  type Logger,
  type MessageStream,
  type Startable,
  type StreamTransport,
} from '@rony/interface'
import { systemClock } from '../clock.js'
import { messageTooLarge } from '../errors.js'
import { type PeerHandshake, type PeerHello, peerHandshake } from './handshake.js'
import { type Connection, type LinkHost, PeerLink, type SentFrame } from './link.js'
import { type PeerLinksInit, type PeerLinksLimits, resolveLimits } from './options.js'

/** A peer: its id, and the address its links listen at (`''`: not known here). */
export interface PeerAddress {
  readonly id: string
  readonly address: string
}

/** Counters of {@link PeerLinks.stats}. */
export interface PeerLinksStats {
  /** Queued frames dropped, oldest first, because a peer's queue was full. */
  readonly queueDrops: number
  /**
   * Inbound connections refused: no hello within `handshakeTimeout`, a first frame that is
   * not a hello, or a hello from this node's own id or meant for another node.
   */
  readonly refused: number
  /** Connections closed because the frame handler threw on one of their frames. */
  readonly rejected: number
}

/**
 * One connection per peer, both ways, over a {@link StreamTransport}: frames to a peer are
 * queued (bounded, oldest dropped first) until a connection is up, dialed on demand and
 * redialed with backoff; inbound connections are filed under the peer their hello names.
 * Frames keep their order per peer while a connection lasts; frames on a connection that
 * is lost are lost with it, so a user that needs every frame retries (Raft does by
 * protocol, a request/response tunnel by timeout).
 */
export interface PeerLinks extends Startable {
  /** This node's id. */
  readonly id: string
  /** The address peers reach this node at: the transport's (valid once started). */
  readonly address: string
  /** Largest frame `send` takes and a peer may send, in bytes: the transport's `maxMessageSize`. */
  readonly maxFrameSize: number
  /** Starts the transport and accepts connections. Concurrent calls share one start. */
  start(): Promise<void>
  /**
   * Closes every connection, drops every queue, ends pending dials and stops the transport;
   * `start()` again works if the transport restarts.
   */
  stop(): Promise<void>
  /**
   * Sets the function called with each inbound frame (owned by it) and the id of the peer
   * whose connection it came on, in order per connection, only while running. Set it before
   * `start()`; a later call replaces it. A handler that throws closes that connection (the
   * peer redials when it has frames): throw for bytes you cannot trust.
   */
  onFrame(handler: (frame: Uint8Array, from: string) => void): void
  /**
   * Queues `frame` for `to` and returns at once, connecting if needed. With `to.address`
   * `''` it waits for the connection the peer opens (a peer known only by the connections
   * it dialed); a non-empty address updates the one to dial.
   *
   * @returns the frame, to `withdraw()` while it is still queued (its sender gave up on it);
   *   `undefined` (the frame is dropped) when the links are not running.
   * @throws CodedError `RONY_ERR_MESSAGE_TOO_LARGE` when `frame` exceeds `maxFrameSize`
   *   (nothing is queued); TypeError when `to.id` is empty or this node's own id.
   */
  send(to: PeerAddress, frame: Uint8Array): SentFrame | undefined
  /** Whether a connection to `peer` is open now. */
  connected(peer: string): boolean
  /**
   * Closes the connection to `peer` and drops its queue (a peer that left): a later `send`
   * or an inbound connection from it starts afresh.
   */
  disconnect(peer: string): void
  /** Counters since creation. */
  stats(): PeerLinksStats
}

/**
 * Creates the peer links of one node on a stream transport.
 *
 * @throws TypeError for an empty id or an unknown option, RangeError for an option out of range.
 */
export function peerLinks(init: PeerLinksInit): PeerLinks {
  return new Links(init)
}

class Links implements PeerLinks, LinkHost {
  readonly id: string
  readonly clock: Clock
  readonly log: Logger
  readonly limits: PeerLinksLimits
  running = false
  readonly #transport: StreamTransport
  readonly #handshake: PeerHandshake
  readonly #links = new Map<string, PeerLink>()
  /** Aborted by `stop()`: pending dials end with it. */
  #shutdown = new AbortController()
  #onFrame: (frame: Uint8Array, from: string) => void = () => {}
  #queueDrops = 0
  #refused = 0
  #rejected = 0
  readonly #lifecycle = new Lifecycle({
    start: async () => {
      this.#shutdown = new AbortController()
      this.#transport.onStream((stream) => void this.#accept(stream))
      await this.#transport.start()
      this.running = true
    },
    stop: async () => {
      this.running = false
      this.#shutdown.abort()
      for (const link of this.#links.values()) link.close()
      this.#links.clear()
      await this.#transport.stop()
    },
  })

  constructor(init: PeerLinksInit) {
    this.limits = resolveLimits(init)
    if (typeof init.id !== 'string' || init.id === '') {
      throw new TypeError('peerLinks: id must be a non-empty string')
    }
    this.id = init.id
    this.#transport = init.transport
    this.#handshake = init.handshake ?? peerHandshake()
    this.clock = init.clock ?? systemClock
    this.log = init.logger ?? disabledLogger
  }

  get address(): string {
    return this.#transport.address
  }

  get maxFrameSize(): number {
    return this.#transport.maxMessageSize
  }

  start(): Promise<void> {
    return this.#lifecycle.start()
  }

  stop(): Promise<void> {
    return this.#lifecycle.stop()
  }

  onFrame(handler: (frame: Uint8Array, from: string) => void): void {
    this.#onFrame = handler
  }

  send(to: PeerAddress, frame: Uint8Array): SentFrame | undefined {
    if (typeof to.id !== 'string' || to.id === '' || to.id === this.id) {
      throw new TypeError(`peerLinks: cannot link to ${JSON.stringify(to.id)}`)
    }
    if (frame.byteLength > this.maxFrameSize) {
      throw messageTooLarge(frame.byteLength, this.maxFrameSize)
    }
    if (!this.running) return undefined
    return this.#link(to.id, to.address).send(frame, to.address)
  }

  connected(peer: string): boolean {
    return this.#links.get(peer)?.connected === true
  }

  disconnect(peer: string): void {
    this.#links.get(peer)?.close()
    this.#links.delete(peer)
  }

  stats(): PeerLinksStats {
    return { queueDrops: this.#queueDrops, refused: this.#refused, rejected: this.#rejected }
  }

  dial(address: string): Promise<MessageStream> {
    return this.#transport.dial(address, { signal: this.#shutdown.signal })
  }

  dropped(): void {
    this.#queueDrops++
  }

  async read({ stream, frames }: Connection, peer: string): Promise<void> {
    try {
      for (let next = await frames.next(); !next.done; next = await frames.next()) {
        if (!this.running) continue
        try {
          this.#onFrame(next.value, peer)
        } catch (error) {
          this.#rejected++
          if (this.log.enabled) {
            this.log('frame from %s refused, closing: %s', peer, (error as Error).message)
          }
          stream.abort()
          return
        }
      }
    } catch (error) {
      // An aborted connection: the link redials if it has frames.
      if (this.log.enabled) this.log('connection with %s ended: %s', peer, (error as Error).message)
    }
  }

  #link(peer: string, address: string): PeerLink {
    let link = this.#links.get(peer)
    if (link === undefined) {
      link = new PeerLink(this, peer, address, this.#handshake.encode(this.id, peer))
      this.#links.set(peer, link)
    }
    return link
  }

  /** An inbound connection: its first frame must be a hello addressed to this node. */
  async #accept(stream: MessageStream): Promise<void> {
    const frames = stream[Symbol.asyncIterator]()
    const timer = this.clock.setTimeout(() => stream.abort(), this.limits.handshakeTimeout)
    try {
      const first = await frames.next()
      const hello = first.done ? undefined : this.#hello(first.value)
      if (
        hello === undefined ||
        hello.to !== this.id ||
        hello.from === this.id ||
        hello.from === ''
      ) {
        this.#refused++
        stream.abort()
        return
      }
      if (!this.running) stream.abort()
      // stream.remote is the dialer's ephemeral port on TCP: not an address to dial back.
      else this.#link(hello.from, '').accept({ stream, frames })
    } catch {
      this.#refused++
      stream.abort()
    } finally {
      this.clock.clearTimeout(timer)
    }
  }

  #hello(frame: Uint8Array): PeerHello | undefined {
    try {
      return this.#handshake.decode(frame)
    } catch {
      return undefined
    }
  }
}
