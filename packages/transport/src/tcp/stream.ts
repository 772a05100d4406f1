import type { Socket } from 'node:net'
import type { Logger, MessageStream } from '@rony/interface'
import { messageTooLarge, streamClosed } from '../errors.js'
import { encodePrefix, FrameDecoder } from '../framing.js'
import { Inbox } from '../inbox.js'

/**
 * One TCP socket as a `MessageStream`: varint length-prefixed frames each way, bounded
 * buffers both ways.
 *
 * - Outbound: `send` writes at once while the socket's write buffer is at most
 *   `highWaterMark` bytes, and otherwise waits (FIFO) for `'drain'`.
 * - Inbound: decoded messages wait in an inbox for the iterator; above `highWaterMark`
 *   bytes the socket is paused, so the kernel's window closes and the sender slows down.
 * - A frame over `maxMessageSize`, or a malformed prefix, aborts the stream (the peer sees a
 *   reset); bytes from the network never throw out of an event handler.
 */

export interface TcpStreamInit {
  readonly remote: string
  readonly maxMessageSize: number
  readonly highWaterMark: number
  readonly closeTimeout: number
  readonly idleTimeout: number
  readonly log: Logger
}

type State = 'open' | 'closing' | 'closed' | 'aborted'

interface PendingSend {
  readonly msg: Uint8Array
  readonly resolve: () => void
  readonly reject: (err: Error) => void
}

export class TcpStream implements MessageStream {
  readonly remote: string
  /** Resolves when the socket has fully closed, whatever the cause. */
  readonly closed: Promise<void>
  readonly #socket: Socket
  readonly #init: TcpStreamInit
  readonly #decoder: FrameDecoder
  #state: State = 'open'
  #error: Error | undefined
  #remoteEnded = false
  /** Reading it below half the high-water mark resumes a paused socket. */
  readonly #inbox = new Inbox({
    onTake: () => {
      if (this.#paused && this.#inbox.bytes <= this.#init.highWaterMark / 2) this.#resume()
    },
  })
  #paused = false
  readonly #waiting: PendingSend[] = []
  #flushed: (() => void) | undefined

  constructor(socket: Socket, init: TcpStreamInit) {
    this.#socket = socket
    this.#init = init
    this.remote = init.remote
    this.#decoder = new FrameDecoder(init.maxMessageSize)
    socket.setNoDelay(true)
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('end', () => this.#onEnd())
    socket.on('drain', () => this.#pump())
    socket.on('error', (err) => this.fail(streamClosed(`stream to ${this.remote} failed`, err)))
    socket.on('close', () => {
      // After the peer's FIN (a clean close by either side), what is in the inbox is still
      // read, then iteration ends; any other way to lose the socket is an abort.
      if (this.#remoteEnded) {
        if (this.#state === 'open' || this.#state === 'closing') this.#state = 'closed'
        this.#flushed?.()
      } else if (this.#state !== 'closed') {
        this.fail(streamClosed(`stream to ${this.remote} closed by the network`))
      }
    })
    if (init.idleTimeout > 0) {
      socket.setTimeout(init.idleTimeout, () =>
        this.abort(streamClosed(`stream to ${this.remote} idle for ${init.idleTimeout} ms`)),
      )
    }
  }

  send(msg: Uint8Array): Promise<void> {
    if (this.#state !== 'open' || this.#remoteEnded) {
      return Promise.reject(streamClosed('stream closed', this.#error))
    }
    if (msg.byteLength > this.#init.maxMessageSize) {
      return Promise.reject(messageTooLarge(msg.byteLength, this.#init.maxMessageSize))
    }
    if (this.#waiting.length === 0 && !this.#full()) {
      this.#write(msg)
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => this.#waiting.push({ msg, resolve, reject }))
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#inbox.iterator()
  }

  async close(): Promise<void> {
    if (this.#state !== 'open') {
      if (this.#state === 'closing' || this.#state === 'closed') await this.closed
      return
    }
    this.#state = 'closing'
    const timer = setTimeout(
      () => this.abort(streamClosed(`close of stream to ${this.remote} timed out`)),
      this.#init.closeTimeout,
    )
    try {
      if (this.#waiting.length > 0) {
        await new Promise<void>((resolve) => {
          this.#flushed = resolve
        })
      }
      if (this.#state !== 'closing') return
      this.#state = 'closed'
      // Keep reading until the peer's FIN, discarding, so the socket can finish closing.
      this.#resume()
      this.#socket.end()
      this.#inbox.end()
      await this.closed
    } finally {
      clearTimeout(timer)
    }
  }

  abort(err?: Error): void {
    if (this.#state === 'aborted' || (this.#state === 'closed' && this.#socket.destroyed)) return
    this.fail(err ?? streamClosed('stream aborted'))
  }

  /** Aborts this side: a reset to the peer, errors to every local waiter. */
  fail(err: Error): void {
    if (this.#state === 'aborted') return
    if (this.#state === 'closed' && this.#remoteEnded) return // a clean close already happened
    this.#state = 'aborted'
    this.#error = err
    this.#inbox.fail(err)
    const socket = this.#socket
    // A reset tells the peer this was an abort, not a clean end. Node cannot reset a socket
    // whose writable side already ended (EINVAL, and no 'close' event): destroy that one.
    if (!socket.destroyed) {
      if (socket.writableEnded) socket.destroy()
      else socket.resetAndDestroy()
    }
    for (const w of this.#waiting.splice(0)) w.reject(err)
    this.#flushed?.()
  }

  #full(): boolean {
    return this.#socket.writableLength > this.#init.highWaterMark
  }

  #write(msg: Uint8Array): void {
    const socket = this.#socket
    // Prefix and body as two writes in one cork: no copy of a large body.
    socket.cork()
    socket.write(encodePrefix(msg.byteLength))
    if (msg.byteLength > 0) socket.write(msg)
    socket.uncork()
  }

  #pump(): void {
    while (this.#waiting.length > 0 && !this.#full()) {
      if (this.#state !== 'open' && this.#state !== 'closing') return
      const w = this.#waiting.shift()!
      this.#write(w.msg)
      w.resolve()
    }
    if (this.#waiting.length === 0) this.#flushed?.()
  }

  #onData(chunk: Buffer): void {
    if (this.#state === 'aborted' || this.#state === 'closed') return // discarding after close
    let frames: Uint8Array[]
    try {
      frames = this.#decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    } catch (err) {
      this.#init.log.error('bad frame from %s: %o', this.remote, err)
      this.fail(streamClosed(`stream to ${this.remote} aborted: bad frame`, err))
      return
    }
    for (const frame of frames) this.#inbox.push(frame)
    if (!this.#paused && this.#inbox.bytes > this.#init.highWaterMark) {
      this.#paused = true
      this.#socket.pause()
    }
  }

  #onEnd(): void {
    if (this.#decoder.inFrame && this.#state !== 'closed') {
      this.fail(streamClosed(`stream to ${this.remote} ended inside a frame`))
      return
    }
    this.#remoteEnded = true
    for (const w of this.#waiting.splice(0)) w.reject(streamClosed('stream closed by peer'))
    this.#flushed?.()
    this.#inbox.end()
  }

  #resume(): void {
    this.#paused = false
    this.#socket.resume()
  }
}
