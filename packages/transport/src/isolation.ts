import type { AbortOptions, MessageStream, PacketTransport, StreamTransport } from '@rony/interface'
import { dialFailed, streamClosed } from './errors.js'

/**
 * A switch that cuts a process off the network without root: the transports it wraps drop
 * every datagram and refuse every stream, in both directions, while it is on. Real
 * transports stay bound (their ports stay taken, so peers see silence, as behind a
 * firewall that drops, not one that rejects). For fault injection on real sockets
 * (playgrounds, process-level tests); simulations use `memoryNetwork().partition`.
 *
 * @example
 * ```ts
 * const cut = isolation()
 * const membership = gossip({
 *   transport: {
 *     packet: cut.packet(udpTransport({ bind })),
 *     stream: cut.stream(tcpTransport({ bind })),
 *   },
 * })
 * cut.set(true) // the node hears nothing and says nothing
 * ```
 */
export interface Isolation {
  /** True while traffic is cut. */
  readonly isolated: boolean
  /**
   * Cuts (`true`) or restores (`false`) the traffic of every transport wrapped so far and
   * later. Cutting aborts the streams open at that moment (both directions).
   */
  set(isolated: boolean): void
  /** `transport`, dropping datagrams sent and received while isolated. */
  packet<T extends PacketTransport>(transport: T): PacketTransport
  /**
   * `transport`, refusing dials (`RONY_ERR_DIAL_FAILED`) and aborting inbound streams
   * while isolated; sends on a stream opened before fail with `RONY_ERR_STREAM_CLOSED`.
   */
  stream<T extends StreamTransport>(transport: T): StreamTransport
}

/** Creates an {@link Isolation} switch, initially off (traffic flows). */
export function isolation(): Isolation {
  let isolated = false
  const open = new Set<MessageStream>()
  const cut = (stream: MessageStream): void => {
    open.delete(stream)
    stream.abort(streamClosed('isolated'))
  }
  const track = (stream: MessageStream): MessageStream => {
    open.add(stream)
    const guarded: MessageStream = {
      get remote() {
        return stream.remote
      },
      send: (msg) => (isolated ? Promise.reject(streamClosed('isolated')) : stream.send(msg)),
      [Symbol.asyncIterator]: () => stream[Symbol.asyncIterator](),
      close: () => {
        open.delete(stream)
        return stream.close()
      },
      abort: (error) => {
        open.delete(stream)
        stream.abort(error)
      },
    }
    return guarded
  }
  return {
    get isolated() {
      return isolated
    },
    set(on) {
      isolated = on
      if (on) for (const stream of [...open]) cut(stream)
    },
    packet(transport) {
      return {
        get address() {
          return transport.address
        },
        get maxPacketSize() {
          return transport.maxPacketSize
        },
        start: () => transport.start(),
        stop: () => transport.stop(),
        send(to, data) {
          if (!isolated) transport.send(to, data)
        },
        onPacket(handler) {
          transport.onPacket((data, from) => {
            if (!isolated) handler(data, from)
          })
        },
      }
    },
    stream(transport) {
      return {
        get address() {
          return transport.address
        },
        get maxMessageSize() {
          return transport.maxMessageSize
        },
        start: () => transport.start(),
        stop: () => transport.stop(),
        async dial(to: string, opts?: AbortOptions) {
          if (isolated) throw dialFailed(to, 'isolated')
          const stream = await transport.dial(to, opts)
          if (isolated) {
            stream.abort(streamClosed('isolated'))
            throw dialFailed(to, 'isolated')
          }
          return track(stream)
        },
        onStream(handler) {
          transport.onStream((stream) => {
            if (isolated) stream.abort(streamClosed('isolated'))
            else handler(track(stream))
          })
        },
      }
    },
  }
}
