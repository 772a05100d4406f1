import type { Clock, Logger, MessageStream, TimerHandle } from '@rony/interface'
import type { ServerInfo } from '../storage/types.js'
import { encodeHello } from './codec.js'

/** What a link needs from its transport. */
export interface LinkHost {
  readonly id: string
  readonly log: Logger
  readonly running: boolean
  readonly clock: Clock
  dial(address: string): Promise<MessageStream>
  /** Reads the stream until it ends; resolves then (never rejects). */
  read(stream: MessageStream, peer: string): Promise<void>
  /** A frame was dropped because the queue was full. */
  dropped(peer: string): void
}

const MIN_BACKOFF_MS = 50
/**
 * How long the side with the larger id waits for the peer's connection before dialing
 * itself: when both have frames at once (an election), this usually leaves one dial, so no
 * frame is lost on a connection closed by the tie-break.
 */
const DIAL_GRACE_MS = 100
const MAX_BACKOFF_MS = 2_000

/**
 * The one connection between this server and one peer, used in both directions. Either
 * side dials when it has frames to send and no connection (the side with the larger id
 * after a short grace), and redials with backoff while frames wait. When both dialed at once, both sides keep the connection the server with
 * the smaller id dialed and close the other, so they agree without a round trip; a newer
 * connection from the same dialer replaces the old one (the peer reconnected).
 *
 * Outbound frames wait in a bounded queue while there is no connection or the stream
 * pushes back; when it is full the oldest frame is dropped, which Raft tolerates (the
 * protocol retries) and which keeps an unreachable peer from growing memory.
 */
export class PeerLink {
  readonly #host: LinkHost
  readonly #peer: string
  /** This side has the smaller id: connections it dials win ties. */
  readonly #preferred: boolean
  readonly #maxQueue: number
  #address: string
  #stream: MessageStream | undefined = undefined
  /** `#stream` was dialed by the server with the smaller id. */
  #streamPreferred = false
  #queue: Uint8Array[] = []
  #pumping = false
  #dialing = false
  #backoff = MIN_BACKOFF_MS
  #redial: TimerHandle | undefined = undefined
  #closed = false

  constructor(host: LinkHost, peer: ServerInfo, maxQueue: number) {
    this.#host = host
    this.#peer = peer.id
    this.#address = peer.address
    this.#preferred = host.id < peer.id
    this.#maxQueue = maxQueue
  }

  /** Queues one encoded frame, connecting if needed; `address` '' keeps the known one. */
  send(frame: Uint8Array, address: string): void {
    if (this.#closed) return
    if (address !== '') this.#address = address
    if (this.#queue.length >= this.#maxQueue) {
      this.#queue.shift()
      this.#host.dropped(this.#peer)
    }
    this.#queue.push(frame)
    if (this.#stream !== undefined) void this.#pump()
    else if (this.#preferred) this.#connect()
    else this.#scheduleDial(DIAL_GRACE_MS)
  }

  /** Takes a connection the peer dialed. */
  accept(stream: MessageStream): void {
    if (this.#closed) stream.abort()
    else this.#use(stream, !this.#preferred)
  }

  /** Drops the connection and every queued frame; no more dials. */
  close(): void {
    this.#closed = true
    if (this.#redial !== undefined) this.#host.clock.clearTimeout(this.#redial)
    this.#queue = []
    this.#stream?.abort()
    this.#stream = undefined
  }

  #connect(): void {
    if (this.#dialing || this.#stream !== undefined || this.#closed) return
    if (this.#redial !== undefined || this.#address === '') return
    this.#dialing = true
    const host = this.#host
    host
      .dial(this.#address)
      .then(async (stream) => {
        await stream.send(encodeHello(host.id, this.#peer))
        if (this.#closed) stream.abort()
        else this.#use(stream, this.#preferred)
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
    this.#backoff = Math.min(MAX_BACKOFF_MS, this.#backoff * 2)
    this.#scheduleDial(delay)
  }

  #scheduleDial(delay: number): void {
    if (this.#closed || !this.#host.running || this.#redial !== undefined) return
    this.#redial = this.#host.clock.setTimeout(() => {
      this.#redial = undefined
      this.#connect()
    }, delay)
  }

  #use(stream: MessageStream, preferred: boolean): void {
    const old = this.#stream
    if (old !== undefined && this.#streamPreferred && !preferred) {
      stream.abort() // both dialed at once: the smaller id's connection stays
      return
    }
    this.#stream = stream
    this.#streamPreferred = preferred
    old?.abort()
    void this.#host.read(stream, this.#peer).then(() => this.#lost(stream))
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
      for (let frame = this.#queue.shift(); frame !== undefined; frame = this.#queue.shift()) {
        const stream = this.#stream
        if (stream === undefined) {
          this.#queue.unshift(frame)
          return
        }
        try {
          await stream.send(frame)
          this.#backoff = MIN_BACKOFF_MS
        } catch {
          this.#lost(stream) // the frame is lost with the connection, like any message
        }
      }
    } finally {
      this.#pumping = false
    }
  }
}
