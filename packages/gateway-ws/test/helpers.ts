import { readFileSync } from 'node:fs'
import type {
  CloseReason,
  Gateway,
  GatewayConn,
  GatewayHandlers,
  LogFunction,
  Logger,
  RequestMeta,
} from '@rony/interface'
import type { RawConnection } from '@rony/testing'
import { afterEach } from 'vitest'
import { type ClientOptions, type RawData, WebSocket } from 'ws'

export const fixture = (name: string): Buffer =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url))

export type HandlerEvent =
  | { readonly type: 'connect'; readonly conn: GatewayConn }
  | {
      readonly type: 'message'
      readonly conn: GatewayConn
      readonly data: Uint8Array
      readonly meta: RequestMeta
    }
  | { readonly type: 'close'; readonly conn: GatewayConn; readonly reason: CloseReason }

/** A GatewayHandlers that records every call and, by default, echoes messages back in kind. */
export class Recorder implements GatewayHandlers {
  readonly events: HandlerEvent[] = []
  echo = true
  /** Callbacks named here throw after recording, to prove the gateway survives it. */
  readonly throwIn = new Set<HandlerEvent['type']>()
  private waiters: Array<{
    test: (e: HandlerEvent) => boolean
    resolve: (e: HandlerEvent) => void
  }> = []

  onConnect(conn: GatewayConn): void {
    this.record({ type: 'connect', conn })
    this.maybeThrow('connect')
  }

  onMessage(conn: GatewayConn, data: Uint8Array, meta: RequestMeta): void {
    this.record({ type: 'message', conn, data, meta })
    if (this.echo) conn.send(data, meta.format)
    this.maybeThrow('message')
  }

  onClose(conn: GatewayConn, reason: CloseReason): void {
    this.record({ type: 'close', conn, reason })
    this.maybeThrow('close')
  }

  private record(event: HandlerEvent): void {
    this.events.push(event)
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(event)) return true
      w.resolve(event)
      return false
    })
  }

  private maybeThrow(type: HandlerEvent['type']): void {
    if (this.throwIn.has(type)) throw new Error(`test handler throws in ${type}`)
  }

  of<T extends HandlerEvent['type']>(type: T): Array<Extract<HandlerEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<HandlerEvent, { type: T }> => e.type === type)
  }

  /** Resolves with the first recorded (or future) event that passes `test`. */
  waitFor<T extends HandlerEvent['type']>(
    type: T,
    test: (e: Extract<HandlerEvent, { type: T }>) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<Extract<HandlerEvent, { type: T }>> {
    const match = (e: HandlerEvent): e is Extract<HandlerEvent, { type: T }> =>
      e.type === type && test(e as Extract<HandlerEvent, { type: T }>)
    const found = this.events.find(match)
    if (found) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), timeoutMs)
      this.waiters.push({
        test: match,
        resolve: (e) => {
          clearTimeout(timer)
          resolve(e as Extract<HandlerEvent, { type: T }>)
        },
      })
    })
  }
}

/** A logger that records error-channel calls (and prints nothing). */
export function recordingLogger(): Logger & { errors: unknown[][] } {
  const errors: unknown[][] = []
  const off: LogFunction = Object.assign(() => {}, { enabled: false })
  const error: LogFunction = Object.assign((...args: unknown[]) => void errors.push(args), {
    enabled: true,
  })
  return Object.assign(() => {}, { enabled: false, error, warn: off, trace: off, errors })
}

const cleanups: Array<() => unknown> = []

/** Registers something to close after the current test, last registered first. */
export function defer(fn: () => unknown): void {
  cleanups.push(fn)
}

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

/** Attaches `handlers`, starts the gateway and stops it after the test. */
export async function started<G extends Gateway>(
  gateway: G,
  handlers: GatewayHandlers,
): Promise<G> {
  gateway.attach(handlers)
  defer(() => gateway.stop())
  await gateway.start()
  return gateway
}

export function firstAddress(gateway: Gateway): string {
  const [address] = gateway.addresses()
  if (address === undefined) throw new Error('gateway has no address')
  return address
}

/** Opens a client, closed (terminated) after the test. */
export function connect(url: string, options?: ClientOptions): Promise<WebSocket> {
  const ws = new WebSocket(url, options)
  defer(() => ws.terminate())
  // Queue messages from the start: one may arrive before the caller awaits it.
  const inbox: Inbox = { queued: [], waiting: [] }
  inboxes.set(ws, inbox)
  ws.on('message', (data, isBinary) => {
    const message = { data: toBuffer(data), isBinary }
    const waiter = inbox.waiting.shift()
    if (waiter) waiter(message)
    else inbox.queued.push(message)
  })
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

/** The HTTP status a refused upgrade was answered with. */
export function refusedStatus(url: string, options?: ClientOptions): Promise<number> {
  const ws = new WebSocket(url, options)
  defer(() => ws.terminate())
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('upgrade unexpectedly accepted')))
    ws.once('error', (err) => {
      const status = /Unexpected server response: (\d+)/.exec(err.message)?.[1]
      if (status === undefined) reject(err)
      else resolve(Number(status))
    })
  })
}

export interface ClientMessage {
  readonly data: Buffer
  readonly isBinary: boolean
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}

interface Inbox {
  readonly queued: ClientMessage[]
  readonly waiting: Array<(message: ClientMessage) => void>
}

const inboxes = new WeakMap<WebSocket, Inbox>()

/** The client's next message (from `connect`), in arrival order. */
export function nextMessage(ws: WebSocket, timeoutMs = 5_000): Promise<ClientMessage> {
  const inbox = inboxes.get(ws)
  if (inbox === undefined) throw new Error('not a client from connect()')
  const queued = inbox.queued.shift()
  if (queued) return Promise.resolve(queued)
  return new Promise((resolve, reject) => {
    const waiter = (message: ClientMessage): void => {
      clearTimeout(timer)
      resolve(message)
    }
    const timer = setTimeout(() => {
      inbox.waiting.splice(inbox.waiting.indexOf(waiter), 1)
      reject(new Error('no message'))
    }, timeoutMs)
    inbox.waiting.push(waiter)
  })
}

export function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) throw new Error('already closed')
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `test` until it holds (or fails after `timeoutMs`). */
export async function until(
  test: () => boolean,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

/** Handles the process holds open, by kind, for leak checks. */
export function openHandles(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1
  return counts
}

/** A `RawConnection` over a `ws` client socket, with the socket for what raw bytes cannot do. */
export interface WsRawConnection extends RawConnection {
  readonly socket: WebSocket
}

/**
 * Opens a `ws` client socket and wraps it as the `RawConnection` of `@rony/testing`: binary
 * frames out, every inbound message queued for `next()` from the start, `closed` resolving
 * with the close code. Terminated after the test (a no-op if it closed already).
 */
export function rawConnect(url: string, options?: ClientOptions): Promise<WsRawConnection> {
  const socket = new WebSocket(url, options)
  defer(() => socket.terminate())
  socket.binaryType = 'nodebuffer'
  const queued: Uint8Array[] = []
  const waiting: Array<{
    resolve: (bytes: Uint8Array) => void
    reject: (error: Error) => void
  }> = []
  let closeCode: number | undefined
  let isClosed = false
  const closed = new Promise<{ code?: number | undefined }>((resolve) => {
    socket.once('close', (code) => {
      isClosed = true
      closeCode = code
      for (const waiter of waiting.splice(0)) {
        waiter.reject(new Error(`ws connection closed (${code})`))
      }
      resolve({ code })
    })
  })
  socket.on('message', (data) => {
    const bytes = toBuffer(data)
    const waiter = waiting.shift()
    if (waiter) waiter.resolve(bytes)
    else queued.push(bytes)
  })
  const connection: WsRawConnection = {
    socket,
    closed,
    send: (bytes) => socket.send(bytes, { binary: true }),
    next: (timeout = 5_000) => {
      const bytes = queued.shift()
      if (bytes) return Promise.resolve(bytes)
      if (isClosed) return Promise.reject(new Error(`ws connection closed (${closeCode})`))
      return new Promise<Uint8Array>((resolve, reject) => {
        const waiter = {
          resolve: (message: Uint8Array) => {
            clearTimeout(timer)
            resolve(message)
          },
          reject: (error: Error) => {
            clearTimeout(timer)
            reject(error)
          },
        }
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1)
          reject(new Error(`ws connection: no message within ${timeout} ms`))
        }, timeout)
        waiting.push(waiter)
      })
    },
    close: async () => {
      if (!isClosed) socket.close(1000)
      await closed
    },
    abort: () => socket.terminate(),
  }
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error)
    socket.once('error', onError)
    socket.once('open', () => {
      socket.off('error', onError)
      // Errors after the handshake end in 'close'; without a listener they would throw.
      socket.on('error', () => {})
      resolve(connection)
    })
  })
}
