import type { Clock, Logger, MessageStream, TimerHandle } from '@rony/interface'
import type { PeerLinksLimits } from './options.js'

/** A frame handed to {@link PeerLinks.send}, which its sender may still take back. */
export interface SentFrame {
  /**
   * Takes the frame back if it has not been written to a connection yet, so the peer never
   * gets it (a request its sender gave up on must not run later, when the link is back).
   *
   * @returns `true` when the peer will not get the frame: it was still queued (now removed),
   *   or it was dropped already; `false` once it was written to a connection (it may arrive).
   */
  withdraw(): boolean
}

/** A frame in a link's queue; `written` once the link took it to write. */
class QueuedFrame implements SentFrame {
  written = false
  readonly #link: PeerLink
  readonly bytes: Uint8Array

  constructor(link: PeerLink, bytes: Uint8Array) {
    this.#link = link
    this.bytes = bytes
  }

  withdraw(): boolean {
    if (this.written) return false
    this.#link.withdraw(this)
    return true
  }
}

/** A stream with the iterator it is read with (an accepted one's hello was read from it). */
export interface Connection {
  readonly stream: MessageStream
  readonly frames: AsyncIterator<Uint8Array>
}

/** What a link needs from the links that own it. */
export interface LinkHost {
  readonly id: string
  readonly running: boolean
  readonly clock: Clock
  readonly log: Logger
  readonly limits: PeerLinksLimits
  dial(address: string): Promise<MessageStream>
  /** Reads the connection until it ends; resolves then (never rejects). */
  read(connection: Connection, peer: string): Promise<void>
  /** A queued frame was dropped because the queue was full. */
  dropped(peer: string): void
}

/**
 * The one connection between this node and one peer, used in both directions. Either side
 * dials when it has frames to send and no connection (the side with the larger id after a
 * short grace), and redials with backoff while frames wait. When both dialed at once, both
 * sides keep the connection the node with the smaller id dialed and close the other, so
 * they agree without a round trip; a newer connection from the same dialer replaces the old
 * one (the peer reconnected).
 *
 * Outbound frames wait in a bounded queue while there is no connection or the stream
 * pushes back; when it is full the oldest frame is dropped, which keeps an unreachable peer
 * from growing memory (Raft retries by protocol; a request/response user times out).
 */
export class PeerLink {
  readonly #host: LinkHost
  readonly #peer: string
  /** The first frame of every connection this side dials. */
  readonly #hello: Uint8Array
  /** This side has the smaller id: connections it dials win ties. */
  readonly #preferred: boolean
  #address: string
  #stream: MessageStream | undefined = undefined
  /** `#stream` was dialed by the node with the smaller id. */
  #streamPreferred = false
  #queue: QueuedFrame[] = []
  #queuedBytes = 0
  #pumping = false
  #dialing = false
  #backoff: number
  #redial: TimerHandle | undefined = undefined
  #closed = false

  constructor(host: LinkHost, peer: string, address: string, hello: Uint8Array) {
    this.#host = host
    this.#peer = peer
    this.#address = address
    this.#hello = hello
    this.#preferred = host.id < peer
    this.#backoff = host.limits.minBackoff
  }

  get connected(): boolean {
    return this.#stream !== undefined
  }

  /** Queues one frame, connecting if needed; `address` '' keeps the known one. */
  send(bytes: Uint8Array, address: string): SentFrame {
    const frame = new QueuedFrame(this, bytes)
    if (this.#closed) return frame
    if (address !== '') this.#address = address
    const { maxQueue, maxQueueBytes } = this.#host.limits
    while (
      this.#queue.length > 0 &&
      (this.#queue.length >= maxQueue || this.#queuedBytes + bytes.byteLength > maxQueueBytes)
    ) {
      this.#take()
      this.#host.dropped(this.#peer)
    }
    this.#queue.push(frame)
    this.#queuedBytes += bytes.byteLength
    if (this.#stream !== undefined) void this.#pump()
    else if (this.#preferred) this.#connect()
    else this.#scheduleDial(this.#host.limits.dialGrace)
    return frame
  }

  /** Removes `frame` from the queue if it is there (not written, not dropped). */
  withdraw(frame: QueuedFrame): void {
    const at = this.#queue.indexOf(frame)
    if (at === -1) return
    this.#queue.splice(at, 1)
    this.#queuedBytes -= frame.bytes.byteLength
  }

  /** Takes a connection the peer dialed. */
  accept(connection: Connection): void {
    if (this.#closed) connection.stream.abort()
    else this.#use(connection, !this.#preferred)
  }

  /** Drops the connection and every queued frame; no more dials. */
  close(): void {
    this.#closed = true
    if (this.#redial !== undefined) this.#host.clock.clearTimeout(this.#redial)
    this.#queue = []
    this.#queuedBytes = 0
    this.#stream?.abort()
    this.#stream = undefined
  }

  #take(): QueuedFrame | undefined {
    const frame = this.#queue.shift()
    if (frame !== undefined) this.#queuedBytes -= frame.bytes.byteLength
    return frame
  }

  #connect(): void {
    if (this.#dialing || this.#stream !== undefined || this.#closed) return
    if (this.#redial !== undefined || this.#address === '') return
    this.#dialing = true
    const host = this.#host
    host
      .dial(this.#address)
      .then(async (stream) => {
        await stream.send(this.#hello)
        if (this.#closed) stream.abort()
        else this.#use({ stream, frames: stream[Symbol.asyncIterator]() }, this.#preferred)
      })
      .catch((error: Error) => {
        if (host.log.enabled) host.log('dial %s failed: %s', this.#peer, error.message)
        this.#scheduleRedial()
      })
      .finally(() => {
        this.#dialing = false
      })
  }

  #scheduleRedial(): void {
    const delay = this.#backoff
    this.#backoff = Math.min(this.#host.limits.maxBackoff, this.#backoff * 2)
    this.#scheduleDial(delay)
  }

  #scheduleDial(delay: number): void {
    if (this.#closed || !this.#host.running || this.#redial !== undefined) return
    this.#redial = this.#host.clock.setTimeout(() => {
      this.#redial = undefined
      this.#connect()
    }, delay)
  }

  #use(connection: Connection, preferred: boolean): void {
    const { stream } = connection
    const old = this.#stream
    if (old !== undefined && this.#streamPreferred && !preferred) {
      stream.abort() // both dialed at once: the smaller id's connection stays
      return
    }
    this.#stream = stream
    this.#streamPreferred = preferred
    old?.abort()
    void this.#host.read(connection, this.#peer).then(() => this.#lost(stream))
    void this.#pump()
  }

  #lost(stream: MessageStream): void {
    if (this.#stream !== stream) return
    this.#stream = undefined
    stream.abort()
    if (this.#queue.length > 0) this.#scheduleRedial()
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      for (let stream = this.#stream; stream !== undefined; stream = this.#stream) {
        const frame = this.#take()
        if (frame === undefined) return
        frame.written = true // from here on the peer may get it: too late to withdraw
        try {
          await stream.send(frame.bytes)
          this.#backoff = this.#host.limits.minBackoff
        } catch {
          this.#lost(stream) // the frame is lost with the connection, like any message
        }
      }
    } finally {
      this.#pumping = false
    }
  }
}
