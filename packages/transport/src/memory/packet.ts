import type { PacketTransport } from '@rony/interface'
import { stopped } from '../errors.js'
import type { MemoryNetworkImpl } from './network.js'

/**
 * A packet endpoint of the memory network: the `PacketTransport` contract (fire-and-forget
 * datagrams, never a throw from `send`) with delivery decided by the network's fault model.
 */

type State = 'idle' | 'started' | 'stopped' | 'crashed'

export class MemoryPacketTransport implements PacketTransport {
  readonly address: string
  readonly maxPacketSize: number
  readonly #net: MemoryNetworkImpl
  #handler: ((data: Uint8Array, from: string) => void) | undefined
  #state: State = 'idle'

  constructor(net: MemoryNetworkImpl, address: string, maxPacketSize: number) {
    this.#net = net
    this.address = address
    this.maxPacketSize = maxPacketSize
  }

  start(): void {
    if (this.#state === 'crashed') throw stopped(`packet endpoint ${this.address} crashed and`)
    if (this.#state === 'started') return
    this.#net.register('packet', this)
    this.#state = 'started'
  }

  stop(): void {
    if (this.#state !== 'started') return
    this.#net.unregister('packet', this)
    this.#state = 'stopped'
  }

  onPacket(handler: (data: Uint8Array, from: string) => void): void {
    this.#handler = handler
  }

  send(to: string, data: Uint8Array): void {
    const net = this.#net
    net.counters.packets.sent++
    if (this.#state !== 'started') {
      net.drop(this.#state === 'crashed' ? 'crashed' : 'notStarted')
      return
    }
    if (data.byteLength > this.maxPacketSize) {
      net.drop('oversize')
      return
    }
    net.sendPacket(this.address, to, data)
  }

  /** Called by the network when a packet arrives for this endpoint. */
  deliver(data: Uint8Array, from: string): void {
    const net = this.#net
    if (this.#state !== 'started') {
      net.drop(this.#state === 'crashed' ? 'crashed' : 'notStarted')
      return
    }
    const handler = this.#handler
    if (handler === undefined) {
      net.drop('noHandler')
      return
    }
    net.counters.packets.delivered++
    // A throwing handler is a bug in the protocol under test: let it surface from the
    // clock's advancing call rather than hide it.
    handler(data, from)
  }

  /** Called by the network: the process died. */
  crash(): void {
    if (this.#state === 'started') this.#net.unregister('packet', this)
    this.#state = 'crashed'
  }
}
