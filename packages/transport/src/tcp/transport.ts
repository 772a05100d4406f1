import { connect, createServer, type Server, type Socket } from 'node:net'
import {
  type AbortOptions,
  disabledLogger,
  type Logger,
  type MessageStream,
  type StreamTransport,
} from '@rony/interface'
import { formatHostPort, parseBind, parseHostPort } from '../address.js'
import { dialFailed, notStarted, stopped, timedOut } from '../errors.js'
import { TcpStream } from './stream.js'

/**
 * The TCP `StreamTransport`, on `node:net`: one socket per stream, varint length-prefixed
 * frames (see `framing.ts`), every buffer and wait bounded by an option below.
 */

/** Options of {@link tcpTransport}. Sizes are in bytes, durations in milliseconds. */
export interface TcpTransportInit {
  /**
   * Local address to listen on, `host:port` or `[ipv6]:port`; port `0` picks a free port
   * (read it from `address` after `start()`). Required.
   */
  bind: string
  /**
   * Largest message a stream sends or accepts, in bytes. A peer announcing a larger frame
   * has its stream aborted before the body is buffered. Default `8_388_608` (8 MiB): room
   * for a Raft `AppendEntries` batch or a gossip push-pull of a large cluster.
   */
  maxMessageSize?: number | undefined
  /** Time a `dial` may take before it rejects with `RONY_ERR_TIMEOUT`, in ms. Default `10_000`. */
  dialTimeout?: number | undefined
  /** Open inbound streams (sockets) beyond which new ones are refused. Default `1024`. */
  maxConnections?: number | undefined
  /**
   * A stream with no bytes read or written for this long is aborted, in ms; `0` disables.
   * Default `300_000` (5 min): longer than any Raft or gossip pause, short enough to reclaim
   * sockets of vanished peers.
   */
  idleTimeout?: number | undefined
  /**
   * Back pressure threshold per stream, in bytes: `send` waits for `'drain'` while the
   * socket's write buffer is above it, and reading pauses while more than this many bytes of
   * received messages wait for the iterator. Default `1_048_576` (1 MiB).
   */
  highWaterMark?: number | undefined
  /** Time `close()` waits for the peer to finish the close before aborting, in ms. Default `5_000`. */
  closeTimeout?: number | undefined
  /** Logger, e.g. `components.logger.forComponent('rony:transport:tcp')`. Default: silent. */
  logger?: Logger | undefined
}

export const TCP_DEFAULTS = {
  maxMessageSize: 8 * 1024 * 1024,
  dialTimeout: 10_000,
  maxConnections: 1024,
  idleTimeout: 300_000,
  highWaterMark: 1024 * 1024,
  closeTimeout: 5_000,
} as const

type State = 'idle' | 'starting' | 'started' | 'stopped'

class TcpStreamTransport implements StreamTransport {
  readonly maxMessageSize: number
  readonly #opts: { -readonly [K in keyof typeof TCP_DEFAULTS]: number }
  readonly #bind: { host: string; port: number }
  readonly #log: Logger
  #address: string
  #state: State = 'idle'
  #starting: Promise<void> | undefined
  #server: Server | undefined
  #handler: ((stream: MessageStream) => void) | undefined
  readonly #streams = new Set<TcpStream>()
  readonly #dials = new Set<(err: Error) => void>()
  #inbound = 0

  constructor(init: TcpTransportInit) {
    this.#bind = parseBind(init.bind, 'tcpTransport')
    const { logger, bind: _bind, ...rest } = init
    const opts: { -readonly [K in keyof typeof TCP_DEFAULTS]: number } = { ...TCP_DEFAULTS }
    for (const [k, v] of Object.entries(rest)) {
      if (v !== undefined) (opts as Record<string, number>)[k] = v as number
    }
    this.#opts = opts
    this.maxMessageSize = opts.maxMessageSize
    this.#log = logger ?? disabledLogger
    this.#address = formatHostPort(this.#bind.host, this.#bind.port)
  }

  get address(): string {
    return this.#address
  }

  start(): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(stopped('tcpTransport'))
    this.#starting ??= this.#start()
    return this.#starting
  }

  async #start(): Promise<void> {
    this.#state = 'starting'
    const server = createServer({ allowHalfOpen: false, noDelay: true }, (socket) =>
      this.#onConnection(socket),
    )
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(this.#bind.port, this.#bind.host, () => {
          server.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      server.close()
      this.#state = 'idle'
      this.#starting = undefined
      throw err
    }
    server.on('error', (err) => this.#log.error('tcp server error: %o', err))
    const bound = server.address()
    if (bound !== null && typeof bound === 'object') {
      this.#address = formatHostPort(bound.address, bound.port)
    }
    this.#server = server
    this.#state = 'started'
    this.#log('listening on %s', this.#address)
  }

  async stop(): Promise<void> {
    if (this.#state === 'idle' || this.#state === 'stopped') return
    if (this.#state === 'starting') await this.#starting?.catch(() => {})
    this.#state = 'stopped'
    const err = stopped('tcpTransport')
    for (const fail of [...this.#dials]) fail(err)
    const streams = [...this.#streams]
    for (const s of streams) s.abort(err)
    const server = this.#server
    this.#server = undefined
    await Promise.all([
      ...streams.map((s) => s.closed),
      new Promise<void>((resolve) =>
        server === undefined ? resolve() : server.close(() => resolve()),
      ),
    ])
    this.#log('stopped')
  }

  onStream(handler: (stream: MessageStream) => void): void {
    this.#handler = handler
  }

  dial(to: string, opts: AbortOptions = {}): Promise<MessageStream> {
    const signal = opts.signal
    if (signal?.aborted === true) return Promise.reject(signal.reason)
    if (this.#state !== 'started') {
      return Promise.reject(
        this.#state === 'stopped' ? stopped('tcpTransport') : notStarted('tcpTransport'),
      )
    }
    const dest = parseHostPort(to)
    if (dest === undefined) return Promise.reject(dialFailed(to, 'not a host:port address'))
    return new Promise<MessageStream>((resolve, reject) => {
      const socket = connect({ host: dest.host, port: dest.port, allowHalfOpen: false })
      const finish = (err: Error | undefined): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.#dials.delete(fail)
        socket.off('error', onError)
        if (err === undefined) return
        socket.destroy()
        reject(err)
      }
      const fail = (err: Error): void => finish(err)
      const onAbort = (): void => fail(signal?.reason)
      const onError = (err: Error): void => fail(dialFailed(to, err.message, err))
      const timer = setTimeout(
        () => fail(timedOut(`dial ${to}`, this.#opts.dialTimeout)),
        this.#opts.dialTimeout,
      )
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#dials.add(fail)
      socket.on('error', onError)
      socket.once('connect', () => {
        finish(undefined)
        resolve(this.#track(socket, to))
      })
    })
  }

  #onConnection(socket: Socket): void {
    const handler = this.#handler
    if (this.#state !== 'started' || handler === undefined) {
      this.#log('refusing stream from %s: no handler', socket.remoteAddress)
      socket.on('error', () => {})
      socket.resetAndDestroy()
      return
    }
    if (this.#inbound >= this.#opts.maxConnections) {
      this.#log.error('refusing stream from %s: maxConnections reached', socket.remoteAddress)
      socket.on('error', () => {})
      socket.resetAndDestroy()
      return
    }
    this.#inbound++
    socket.once('close', () => this.#inbound--)
    const remote = formatHostPort(socket.remoteAddress ?? 'unknown', socket.remotePort ?? 0)
    const stream = this.#track(socket, remote)
    try {
      handler(stream)
    } catch (err) {
      this.#log.error('stream handler threw: %o', err)
      stream.abort()
    }
  }

  #track(socket: Socket, remote: string): TcpStream {
    const stream = new TcpStream(socket, {
      remote,
      maxMessageSize: this.#opts.maxMessageSize,
      highWaterMark: this.#opts.highWaterMark,
      closeTimeout: this.#opts.closeTimeout,
      idleTimeout: this.#opts.idleTimeout,
      log: this.#log,
    })
    this.#streams.add(stream)
    void stream.closed.then(() => this.#streams.delete(stream))
    return stream
  }
}

/**
 * Creates a TCP stream transport.
 *
 * @example
 * ```ts
 * const tcp = tcpTransport({ bind: '127.0.0.1:0' })
 * tcp.onStream(async (stream) => {
 *   for await (const msg of stream) await stream.send(msg) // echo
 *   await stream.close()
 * })
 * await tcp.start()
 * ```
 */
export function tcpTransport(init: TcpTransportInit): StreamTransport {
  return new TcpStreamTransport(init)
}
