import { createSocket, type Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import { disabledLogger, type Logger, type PacketTransport } from '@rony/interface'
import { formatHostPort, parseBind, parseHostPort } from './address.js'
import { stopped } from './errors.js'

/**
 * The UDP `PacketTransport`, on `node:dgram`. One socket, bound at `start()`; each `send`
 * is one datagram. Nothing the network does (unreachable peers, ICMP errors surfacing as
 * socket errors, full buffers) throws or crashes: it is counted and logged on `trace`.
 */

/** Options of {@link udpTransport}. */
export interface UdpTransportInit {
  /**
   * Local address to bind, `host:port` or `[ipv6]:port`: `'0.0.0.0:7946'` for every IPv4
   * interface, `'[::]:7946'` for every interface, port `0` for a free port (read the real one
   * from `address` after `start()`). An IPv6 host gives an IPv6 socket (dual-stack where the
   * OS allows). Required.
   */
  bind: string
  /**
   * Largest payload `send` puts on the wire, in bytes; bigger packets are dropped and
   * counted. Default `1400`: below a 1500-byte Ethernet MTU minus IPv6 (40) and UDP (8)
   * headers with room for tunnels, so datagrams are never fragmented. Raise it (up to
   * 65,507 for IPv4) on loopback or jumbo-frame networks.
   */
  maxPacketSize?: number | undefined
  /** Logger, e.g. `components.logger.forComponent('rony:transport:udp')`. Default: silent. */
  logger?: Logger | undefined
}

/** Counters of a UDP transport since it was created. */
export interface UdpStats {
  /** Datagrams handed to the socket. */
  sent: number
  /** Datagrams received and given to the handler. */
  received: number
  /** Datagrams not sent or not delivered, by reason. */
  dropped: {
    oversize: number
    notStarted: number
    badAddress: number
    sendError: number
    noHandler: number
  }
}

/** The UDP transport: a `PacketTransport` with counters. */
export interface UdpTransport extends PacketTransport {
  /** A snapshot of the counters. */
  readonly stats: UdpStats
}

export const UDP_DEFAULTS = { maxPacketSize: 1400 } as const

type State = 'idle' | 'starting' | 'started' | 'stopped'

class UdpPacketTransport implements UdpTransport {
  readonly maxPacketSize: number
  #address: string
  readonly #bind: { host: string; port: number }
  readonly #log: Logger
  #socket: Socket | undefined
  #state: State = 'idle'
  #starting: Promise<void> | undefined
  #handler: ((data: Uint8Array, from: string) => void) | undefined
  readonly #stats: UdpStats = {
    sent: 0,
    received: 0,
    dropped: { oversize: 0, notStarted: 0, badAddress: 0, sendError: 0, noHandler: 0 },
  }

  constructor(init: UdpTransportInit) {
    this.#bind = parseBind(init.bind, 'udpTransport')
    const max = init.maxPacketSize ?? UDP_DEFAULTS.maxPacketSize
    if (!Number.isInteger(max) || max < 1 || max > 65_507) {
      throw new RangeError(`udpTransport: maxPacketSize must be an integer in [1, 65507]`)
    }
    this.maxPacketSize = max
    this.#log = init.logger ?? disabledLogger
    this.#address = formatHostPort(this.#bind.host, this.#bind.port)
  }

  get address(): string {
    return this.#address
  }

  get stats(): UdpStats {
    return { ...this.#stats, dropped: { ...this.#stats.dropped } }
  }

  start(): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(stopped('udpTransport'))
    this.#starting ??= this.#start()
    return this.#starting
  }

  async #start(): Promise<void> {
    this.#state = 'starting'
    const { host, port } = this.#bind
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' })
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo.address, rinfo.port))
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject)
        socket.bind(port, host, () => {
          socket.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      socket.close()
      this.#state = 'idle'
      this.#starting = undefined
      throw err
    }
    // After bind, socket errors (ICMP port unreachable on some platforms, ENOBUFS) are
    // about single datagrams, never fatal: log them and keep going.
    socket.on('error', (err) => this.#log.error('udp socket error: %o', err))
    const bound = socket.address()
    this.#address = formatHostPort(bound.address, bound.port)
    this.#socket = socket
    this.#state = 'started'
    this.#log('listening on %s', this.#address)
  }

  async stop(): Promise<void> {
    if (this.#state === 'idle' || this.#state === 'stopped') return
    if (this.#state === 'starting') await this.#starting?.catch(() => {})
    this.#state = 'stopped'
    const socket = this.#socket
    this.#socket = undefined
    if (socket === undefined) return
    await new Promise<void>((resolve) => socket.close(() => resolve()))
    this.#log('stopped')
  }

  onPacket(handler: (data: Uint8Array, from: string) => void): void {
    this.#handler = handler
  }

  send(to: string, data: Uint8Array): void {
    const socket = this.#socket
    const dropped = this.#stats.dropped
    if (socket === undefined || this.#state !== 'started') {
      dropped.notStarted++
      return
    }
    if (data.byteLength > this.maxPacketSize) {
      dropped.oversize++
      if (this.#log.trace.enabled)
        this.#log.trace('drop %d-byte packet to %s: oversize', data.byteLength, to)
      return
    }
    const dest = parseHostPort(to)
    if (dest === undefined) {
      dropped.badAddress++
      return
    }
    this.#stats.sent++
    try {
      socket.send(data, dest.port, dest.host, (err) => {
        if (err === null || err === undefined) return
        dropped.sendError++
        if (this.#log.trace.enabled) this.#log.trace('send to %s failed: %o', to, err)
      })
    } catch (err) {
      // Synchronous throws (a closed socket, an invalid port) are drops too.
      dropped.sendError++
      if (this.#log.trace.enabled) this.#log.trace('send to %s failed: %o', to, err)
    }
  }

  #onMessage(msg: Buffer, host: string, port: number): void {
    const handler = this.#handler
    if (handler === undefined || this.#state !== 'started') {
      this.#stats.dropped.noHandler++
      return
    }
    this.#stats.received++
    const data = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength)
    try {
      handler(data, formatHostPort(host, port))
    } catch (err) {
      // A socket event listener that throws would crash the process: report it instead.
      this.#log.error('packet handler threw: %o', err)
    }
  }
}

/**
 * Creates a UDP packet transport.
 *
 * @example
 * ```ts
 * const udp = udpTransport({ bind: '127.0.0.1:0' })
 * udp.onPacket((data, from) => udp.send(from, data)) // echo
 * await udp.start()
 * console.log('echo server on', udp.address)
 * ```
 */
export function udpTransport(init: UdpTransportInit): UdpTransport {
  return new UdpPacketTransport(init)
}
