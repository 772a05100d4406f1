import {
  type Clock,
  CodedError,
  type PacketTransport,
  type Random,
  type StreamTransport,
} from '@rony/interface'
import { systemClock } from '../clock.js'
import { seededRandom } from '../random.js'
import {
  type DropReason,
  emptyStats,
  type LinkFaults,
  MEMORY_NETWORK_DEFAULTS,
  type MemoryEndpointInit,
  type MemoryNetworkInit,
  type NetworkStats,
  validateFaults,
} from './options.js'
import { MemoryPacketTransport } from './packet.js'
import { MemoryStreamTransport } from './stream-transport.js'

/**
 * The simulated network: endpoint registry, fault model and counters. Endpoints hand every
 * packet, dial and stream event to it; it decides (from its seeded `random`) whether and
 * when each one arrives, and schedules the arrival on its clock, never synchronously. With a
 * virtual clock and a seeded random, a run is a pure function of the seed and the inputs.
 */

/** An in-memory network of packet and stream endpoints with fault injection. */
export interface MemoryNetwork {
  /** The clock deliveries are scheduled on. */
  readonly clock: Clock
  /** The random source of every fault decision. */
  readonly random: Random
  /** A snapshot of the counters (a copy: read it again to see later changes). */
  readonly stats: NetworkStats
  /**
   * A packet endpoint (datagrams, like UDP) at `address`, such as `'memory:n1'`. It takes the
   * address on `start()`, which rejects with `RONY_ERR_ADDRESS_IN_USE` if another started
   * packet endpoint holds it; it frees it on `stop()` or `crash()`. Packet and stream
   * endpoints have separate address spaces, as UDP and TCP ports do.
   */
  packet(address: string, init?: MemoryEndpointInit): PacketTransport
  /** A stream endpoint (reliable ordered messages, like TCP) at `address`; see `packet`. */
  stream(address: string, init?: MemoryEndpointInit): StreamTransport
  /** Replaces the global fault settings (fields left out mean no fault). */
  configure(faults: LinkFaults): void
  /**
   * Sets the faults of the link between `from` and `to`, overriding the global settings
   * field by field; `undefined` removes the override. Both directions unless `oneWay`.
   */
  link(from: string, to: string, faults: LinkFaults | undefined, opts?: { oneWay?: boolean }): void
  /**
   * Cuts every link between a member of `groupA` and a member of `groupB` (both directions):
   * packets across are dropped (also those already in flight), dials fail, and open streams
   * across are aborted on both sides. Partitions accumulate until `heal()`.
   */
  partition(groupA: readonly string[], groupB: readonly string[]): void
  /** Cuts `address` off from every other address, as `partition` does. */
  isolate(address: string): void
  /** Removes every partition and isolation (fault settings stay). */
  heal(): void
  /** Whether a packet from `from` to `to` would cross no partition right now. */
  connected(from: string, to: string): boolean
  /**
   * Kills the packet and stream endpoints at `address` as if their process died: they drop
   * everything from now on, their streams abort on both sides, their pending dials reject,
   * and `start()` on them rejects with `RONY_ERR_STOPPED`. The address is freed: create new
   * endpoints at it to simulate a restart.
   */
  crash(address: string): void
  /** Sets every counter back to zero. */
  resetStats(): void
}

interface Partition {
  readonly a: ReadonlySet<string>
  readonly b: ReadonlySet<string>
}

export class MemoryNetworkImpl implements MemoryNetwork {
  readonly clock: Clock
  readonly random: Random
  readonly defaults: {
    maxPacketSize: number
    maxMessageSize: number
    streamHighWaterMark: number
    dialTimeout: number
  }
  readonly counters: NetworkStats = emptyStats()
  #faults: LinkFaults
  readonly #links = new Map<string, LinkFaults>()
  #partitions: Partition[] = []
  readonly #isolated = new Set<string>()
  readonly #packets = new Map<string, MemoryPacketTransport>()
  readonly #streams = new Map<string, MemoryStreamTransport>()
  /** Addresses whose endpoints crashed, until a new endpoint takes them: drop accounting. */
  readonly #crashed = new Set<string>()

  constructor(init: MemoryNetworkInit) {
    this.clock = init.clock ?? systemClock
    this.random = init.random ?? seededRandom(1)
    this.defaults = {
      maxPacketSize: init.maxPacketSize ?? MEMORY_NETWORK_DEFAULTS.maxPacketSize,
      maxMessageSize: init.maxMessageSize ?? MEMORY_NETWORK_DEFAULTS.maxMessageSize,
      streamHighWaterMark: init.streamHighWaterMark ?? MEMORY_NETWORK_DEFAULTS.streamHighWaterMark,
      dialTimeout: init.dialTimeout ?? MEMORY_NETWORK_DEFAULTS.dialTimeout,
    }
    this.#faults = validateFaults(init.faults ?? {})
  }

  get stats(): NetworkStats {
    const { packets, streams } = this.counters
    return { packets: { ...packets, dropped: { ...packets.dropped } }, streams: { ...streams } }
  }

  packet(address: string, init: MemoryEndpointInit = {}): MemoryPacketTransport {
    return new MemoryPacketTransport(
      this,
      address,
      init.maxPacketSize ?? this.defaults.maxPacketSize,
    )
  }

  stream(address: string, init: MemoryEndpointInit = {}): MemoryStreamTransport {
    return new MemoryStreamTransport(this, address, {
      maxMessageSize: init.maxMessageSize ?? this.defaults.maxMessageSize,
      dialTimeout: init.dialTimeout ?? this.defaults.dialTimeout,
    })
  }

  configure(faults: LinkFaults): void {
    this.#faults = validateFaults(faults)
  }

  link(from: string, to: string, faults: LinkFaults | undefined, opts: { oneWay?: boolean } = {}) {
    const set = (key: string): void => {
      if (faults === undefined) this.#links.delete(key)
      else this.#links.set(key, validateFaults(faults))
    }
    set(`${from}\n${to}`)
    if (opts.oneWay !== true) set(`${to}\n${from}`)
  }

  partition(groupA: readonly string[], groupB: readonly string[]): void {
    this.#partitions.push({ a: new Set(groupA), b: new Set(groupB) })
    this.#abortCutStreams()
  }

  isolate(address: string): void {
    this.#isolated.add(address)
    this.#abortCutStreams()
  }

  heal(): void {
    this.#partitions = []
    this.#isolated.clear()
  }

  connected(from: string, to: string): boolean {
    if (from === to || (this.#partitions.length === 0 && this.#isolated.size === 0)) return true
    if (this.#isolated.has(from) || this.#isolated.has(to)) return false
    for (const { a, b } of this.#partitions) {
      if ((a.has(from) && b.has(to)) || (b.has(from) && a.has(to))) return false
    }
    return true
  }

  crash(address: string): void {
    this.#packets.get(address)?.crash()
    this.#streams.get(address)?.crash()
    this.#crashed.add(address)
  }

  resetStats(): void {
    const fresh = emptyStats()
    this.counters.packets = fresh.packets
    this.counters.streams = fresh.streams
  }

  // ---- used by the endpoints -------------------------------------------------------------

  register(kind: 'packet', ep: MemoryPacketTransport): void
  register(kind: 'stream', ep: MemoryStreamTransport): void
  register(kind: 'packet' | 'stream', ep: MemoryPacketTransport | MemoryStreamTransport): void {
    const map = (kind === 'packet' ? this.#packets : this.#streams) as Map<string, typeof ep>
    const holder = map.get(ep.address)
    if (holder !== undefined && holder !== ep) {
      throw new CodedError(`${kind} address ${ep.address} in use`, 'RONY_ERR_ADDRESS_IN_USE')
    }
    map.set(ep.address, ep)
    this.#crashed.delete(ep.address)
  }

  unregister(kind: 'packet' | 'stream', ep: MemoryPacketTransport | MemoryStreamTransport): void {
    const map = (kind === 'packet' ? this.#packets : this.#streams) as Map<string, typeof ep>
    if (map.get(ep.address) === ep) map.delete(ep.address)
  }

  streamEndpoint(address: string): MemoryStreamTransport | undefined {
    return this.#streams.get(address)
  }

  /** Why nothing at `to` can receive from `from` right now, or `undefined` if it can. */
  unreachable(from: string, to: string, kind: 'packet' | 'stream'): DropReason | undefined {
    if (!this.connected(from, to)) return 'partition'
    const ep = kind === 'packet' ? this.#packets.get(to) : this.#streams.get(to)
    if (ep === undefined) return this.#crashed.has(to) ? 'crashed' : 'unreachable'
    return undefined
  }

  /** The faults in force from `from` to `to`: the link's settings over the global ones. */
  faults(from: string, to: string): LinkFaults {
    // No link overrides (the common case): no key string built per packet.
    if (this.#links.size === 0) return this.#faults
    const own = this.#links.get(`${from}\n${to}`)
    return own === undefined ? this.#faults : { ...this.#faults, ...stripUndefined(own) }
  }

  /** Draws one delivery delay, in ms, for the link. */
  delay(from: string, to: string): number {
    const d = this.faults(from, to).delay
    if (d === undefined || d.max <= 0) return 0
    return d.min + (d.max - d.min) * this.random.next()
  }

  drop(reason: DropReason): void {
    this.counters.packets.dropped[reason]++
  }

  /** Routes one packet: the fault decisions are drawn now, in a fixed order. */
  sendPacket(from: string, to: string, data: Uint8Array): void {
    if (!this.connected(from, to)) {
      this.drop('partition')
      return
    }
    const f = this.faults(from, to)
    const r = this.random
    if (f.loss !== undefined && f.loss > 0 && r.next() < f.loss) {
      this.drop('loss')
      return
    }
    const copies = f.duplicate !== undefined && f.duplicate > 0 && r.next() < f.duplicate ? 2 : 1
    if (copies === 2) this.counters.packets.duplicated++
    for (let i = 0; i < copies; i++) {
      let ms = this.delay(from, to)
      if (f.reorder !== undefined && f.reorder > 0 && r.next() < f.reorder) {
        const hold = (f.delay?.max ?? 0) + 1
        ms += hold * (1 + r.next())
      }
      const payload = i === 0 ? data : data.slice()
      this.clock.setTimeout(() => this.#arrive(from, to, payload), ms)
    }
  }

  #arrive(from: string, to: string, data: Uint8Array): void {
    const reason = this.unreachable(from, to, 'packet')
    if (reason !== undefined) {
      this.drop(reason)
      return
    }
    this.#packets.get(to)?.deliver(data, from)
  }

  #abortCutStreams(): void {
    for (const ep of this.#streams.values()) ep.abortCut()
  }
}

function stripUndefined(f: LinkFaults): LinkFaults {
  const out: LinkFaults = {}
  if (f.loss !== undefined) out.loss = f.loss
  if (f.delay !== undefined) out.delay = f.delay
  if (f.duplicate !== undefined) out.duplicate = f.duplicate
  if (f.reorder !== undefined) out.reorder = f.reorder
  return out
}

/**
 * Creates an in-memory network. Endpoints created from it talk only to each other, through
 * the injected clock, with the faults you configure.
 *
 * @example
 * ```ts
 * const clock = virtualClock()
 * const net = memoryNetwork({ clock, random: seededRandom(7), faults: { delay: { min: 1, max: 5 } } })
 * const a = net.packet('memory:a')
 * const b = net.packet('memory:b')
 * b.onPacket((data, from) => console.log('b got', data, 'from', from))
 * await a.start()
 * await b.start()
 * a.send('memory:b', new Uint8Array([1, 2, 3]))
 * await clock.advanceAsync(5) // delivered within 5 ms of simulated time
 * ```
 */
export function memoryNetwork(init: MemoryNetworkInit = {}): MemoryNetwork {
  return new MemoryNetworkImpl(init)
}
