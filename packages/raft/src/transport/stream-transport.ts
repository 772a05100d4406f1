import {
  type Clock,
  type ComponentLogger,
  disabledLogger,
  type Logger,
  type StreamTransport,
} from '@rony/interface'
import { type PeerHandshake, type PeerLinks, peerLinks } from '@rony/transport'
import type { Message } from '../core/messages.js'
import type { ServerInfo } from '../storage/types.js'
import { decodeRaftFrame, encodeHello, encodeRaftMessage } from './codec.js'

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
  /**
   * Frames dropped so far: `queue` (a peer's queue was full, or a frame exceeded the
   * stream transport's `maxMessageSize`), `malformed` (inbound).
   */
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

/** A connection's first frame is a Raft message with a `Hello` body (proto/rony/raft.proto). */
const RAFT_HANDSHAKE: PeerHandshake = {
  encode: encodeHello,
  decode(frame) {
    const hello = decodeRaftFrame(frame) // throws for bytes that are not a Raft frame: refused
    return hello.type === 'hello' ? hello : undefined
  },
}

/**
 * A {@link RaftTransport} on any {@link StreamTransport}: the peer links of
 * `@rony/transport` (one connection per server pair, a bounded queue per peer),
 * length-prefixed protobuf frames (the stream transport frames them). Inbound frames that
 * do not decode close the connection and are counted; a message that claims another sender
 * than the connection's is dropped.
 */
class RaftStreamTransport implements RaftTransport {
  readonly #id: string
  readonly #log: Logger
  readonly #links: PeerLinks
  #onMessage: (message: Message) => void = () => {}
  #tooLarge = 0
  #malformed = 0

  constructor(init: RaftStreamTransportInit) {
    if (typeof init.id !== 'string' || init.id === '') throw new TypeError('id must be non-empty')
    this.#id = init.id
    this.#log = (init.logger?.forComponent(`rony:raft:${init.id}:transport`) ??
      disabledLogger) as Logger
    this.#links = peerLinks({
      id: init.id,
      transport: init.streams,
      handshake: RAFT_HANDSHAKE,
      maxQueue: init.maxQueue,
      clock: init.clock,
      logger: this.#log,
    })
    this.#links.onFrame((frame, from) => this.#receive(frame, from))
  }

  get address(): string {
    return this.#links.address
  }

  start(onMessage: (message: Message) => void): Promise<void> {
    this.#onMessage = onMessage
    return this.#links.start()
  }

  send(to: ServerInfo, message: Message): void {
    if (to.id === this.#id) return
    try {
      this.#links.send(to, encodeRaftMessage(message))
    } catch (error) {
      this.#tooLarge++ // an entry batch or snapshot chunk over maxMessageSize
      this.#log.error('%s to %s dropped: %o', message.type, to.id, error)
    }
  }

  stop(): Promise<void> {
    return this.#links.stop()
  }

  stats(): { readonly queueDrops: number; readonly malformed: number } {
    const links = this.#links.stats()
    return {
      queueDrops: links.queueDrops + this.#tooLarge,
      malformed: links.refused + this.#malformed,
    }
  }

  /** Throws for bytes that are not a Raft frame, so the links close that connection. */
  #receive(bytes: Uint8Array, peer: string): void {
    let frame: ReturnType<typeof decodeRaftFrame>
    try {
      frame = decodeRaftFrame(bytes)
    } catch (error) {
      this.#malformed++
      throw error
    }
    if (frame.type === 'hello' || frame.from !== peer || frame.to !== this.#id) {
      this.#malformed++
      return
    }
    this.#onMessage(frame)
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
