import {
  type Clock,
  type ComponentLogger,
  disabledLogger,
  integerOption,
  Lifecycle,
  type Logger,
  type MessageStream,
  type StreamTransport,
} from '@rony/interface'
import { systemClock } from '@rony/transport'
import type { Message } from '../core/messages.js'
import type { ServerInfo } from '../storage/types.js'
import { decodeRaftFrame, encodeRaftMessage } from './codec.js'
import { type LinkHost, PeerLink } from './peer-link.js'

/** How a Raft server reaches the others. */
export interface RaftTransport {
  /** The address peers reach this server at (valid once started). */
  readonly address: string
  /**
   * Starts listening; `onMessage` gets every valid inbound message. Concurrent calls share
   * one start; `stop()` during it waits for it, then stops.
   */
  start(onMessage: (message: Message) => void): Promise<void>
  /**
   * Sends best effort: never throws, may drop (Raft retries by protocol). With an empty
   * `to.address` (a server not in this one's configuration yet, such as the leader of a
   * new learner) it uses the connection the peer opened, if any.
   */
  send(to: ServerInfo, message: Message): void
  /** Closes every connection and the listener. */
  stop(): Promise<void>
  /** Frames dropped so far: `queue` (a peer's queue was full), `malformed` (inbound). */
  stats(): { readonly queueDrops: number; readonly malformed: number }
}

export interface RaftStreamTransportInit {
  /** This server's id (it decides which side of a pair dials). */
  id: string
  /** The stream network: `tcpTransport({ bind })`, or a memory network's `stream(address)`. */
  streams: StreamTransport
  /** Frames queued per peer before the oldest is dropped. Default 1024. */
  maxQueue?: number | undefined
  /** Timers for redial backoff. Default: the system clock. */
  clock?: Clock | undefined
  logger?: ComponentLogger | undefined
}

const HELLO_TIMEOUT_MS = 10_000

/**
 * A {@link RaftTransport} on any {@link StreamTransport}: one connection per server pair
 * (see {@link PeerLink}), length-prefixed protobuf frames (the stream transport frames
 * them), a bounded queue per peer. Inbound frames that do not decode close the connection
 * and are counted; a message that claims another sender than the connection's is dropped.
 */
class RaftStreamTransport implements RaftTransport, LinkHost {
  readonly id: string
  readonly log: Logger
  readonly clock: Clock
  running = false
  readonly #streams: StreamTransport
  readonly #maxQueue: number
  readonly #links = new Map<string, PeerLink>()
  /** The iterator a stream is read with (its hello was read from it already). */
  readonly #readers = new WeakMap<MessageStream, AsyncIterator<Uint8Array>>()
  #onMessage: (message: Message) => void = () => {}
  readonly #lifecycle = new Lifecycle({
    start: async () => {
      this.#streams.onStream((stream) => void this.#accept(stream))
      await this.#streams.start()
      this.running = true
    },
    stop: async () => {
      this.running = false
      for (const link of this.#links.values()) link.close()
      this.#links.clear()
      await this.#streams.stop()
    },
  })
  #queueDrops = 0
  #malformed = 0

  constructor(init: RaftStreamTransportInit) {
    if (typeof init.id !== 'string' || init.id === '') throw new TypeError('id must be non-empty')
    this.id = init.id
    this.#streams = init.streams
    this.#maxQueue = integerOption('maxQueue', init.maxQueue ?? 1024, 1)
    this.clock = init.clock ?? systemClock
    this.log = (init.logger?.forComponent(`rony:raft:${init.id}:transport`) ??
      disabledLogger) as Logger
  }

  get address(): string {
    return this.#streams.address
  }

  start(onMessage: (message: Message) => void): Promise<void> {
    this.#onMessage = onMessage
    return this.#lifecycle.start()
  }

  send(to: ServerInfo, message: Message): void {
    if (!this.running || to.id === this.id) return
    this.#link(to).send(encodeRaftMessage(message), to.address)
  }

  stop(): Promise<void> {
    return this.#lifecycle.stop()
  }

  stats(): { readonly queueDrops: number; readonly malformed: number } {
    return { queueDrops: this.#queueDrops, malformed: this.#malformed }
  }

  dial(address: string): Promise<MessageStream> {
    return this.#streams.dial(address, { signal: AbortSignal.timeout(HELLO_TIMEOUT_MS) })
  }

  dropped(): void {
    this.#queueDrops++
  }

  async read(stream: MessageStream, peer: string): Promise<void> {
    const frames = this.#readers.get(stream) ?? stream[Symbol.asyncIterator]()
    try {
      for (let next = await frames.next(); !next.done; next = await frames.next()) {
        const frame = decodeRaftFrame(next.value)
        if (frame.type === 'hello' || frame.from !== peer || frame.to !== this.id) {
          this.#malformed++
          continue
        }
        if (this.running) this.#onMessage(frame)
      }
    } catch (error) {
      // An aborted connection, or bytes that are not a Raft frame: drop the connection.
      if ((error as { code?: string }).code === 'RONY_ERR_RAFT_MESSAGE') this.#malformed++
      if (this.log.enabled) this.log('connection with %s ended: %s', peer, (error as Error).message)
    }
  }

  #link(peer: ServerInfo): PeerLink {
    let link = this.#links.get(peer.id)
    if (link === undefined) {
      link = new PeerLink(this, peer, this.#maxQueue)
      this.#links.set(peer.id, link)
    }
    return link
  }

  /** An inbound connection: its first frame must be a hello addressed to this server. */
  async #accept(stream: MessageStream): Promise<void> {
    const frames = stream[Symbol.asyncIterator]()
    const timer = this.clock.setTimeout(() => stream.abort(), HELLO_TIMEOUT_MS)
    try {
      const first = await frames.next()
      const hello = first.done ? undefined : decodeRaftFrame(first.value)
      if (hello?.type !== 'hello' || hello.to !== this.id || hello.from === this.id) {
        this.#malformed++
        stream.abort()
        return
      }
      this.#readers.set(stream, frames)
      if (!this.running) stream.abort()
      // stream.remote is the dialer's ephemeral port on TCP: not an address to dial back.
      else this.#link({ id: hello.from, address: '' }).accept(stream)
    } catch {
      this.#malformed++
      stream.abort()
    } finally {
      this.clock.clearTimeout(timer)
    }
  }
}

/**
 * Creates a Raft transport on a stream network.
 *
 * @example
 * ```ts
 * import { tcpTransport } from '@rony/transport'
 * const transport = raftStreamTransport({ id: 'n1', streams: tcpTransport({ bind: '127.0.0.1:9001' }) })
 * ```
 */
export function raftStreamTransport(init: RaftStreamTransportInit): RaftTransport {
  return new RaftStreamTransport(init)
}
