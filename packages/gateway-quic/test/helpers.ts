import { quic } from '@chainsafe/libp2p-quic'
import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { encodeFrame, FrameDecoder } from '@rony/envelope'
import type { CloseReason, GatewayConn, GatewayHandlers, RequestMeta } from '@rony/interface'
import type { RawConnection } from '@rony/testing'
import { createLibp2p } from 'libp2p'

/** A raw QUIC connection: its own libp2p node, one Rony stream, bytes in and out. */
export interface RawQuic extends RawConnection {
  readonly node: Libp2p
  readonly stream: Stream
  /** Writes bytes as they are, without a length prefix (to send malformed framing). */
  sendRaw(bytes: Uint8Array): void
  /** Ends our side of the stream (FIN) and waits for the flush. */
  closeWrite(): Promise<void>
}

/** Dials `address` from a fresh libp2p node and opens one `/rony/1.0.0` stream. */
export async function rawConnect(address: string, protocol = '/rony/1.0.0'): Promise<RawQuic> {
  const node = await createLibp2p({
    transports: [quic()],
    connectionMonitor: { enabled: false },
  })
  let stream: Stream
  try {
    stream = await node.dialProtocol(multiaddr(address), protocol, {
      signal: AbortSignal.timeout(5_000),
    })
  } catch (err) {
    await node.stop()
    throw err
  }
  const decoder = new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024 })
  const frames: Uint8Array[] = []
  const waiters: Array<{ resolve: (b: Uint8Array) => void; reject: (e: Error) => void }> = []
  let ended: Error | undefined
  let resolveClosed!: (value: { code?: number | undefined }) => void
  const closed = new Promise<{ code?: number | undefined }>((r) => {
    resolveClosed = r
  })
  const end = (why: string): void => {
    if (ended !== undefined) return
    ended = new Error(why)
    for (const w of waiters.splice(0)) w.reject(ended)
    resolveClosed({})
    // The node is ours alone: stopping it releases the UDP socket.
    void Promise.resolve(node.stop()).catch(() => {})
  }
  stream.addEventListener('message', (event) => {
    const chunk = event.data instanceof Uint8Array ? event.data : event.data.subarray()
    for (const frame of decoder.push(chunk)) {
      const waiter = waiters.shift()
      if (waiter) waiter.resolve(frame)
      else frames.push(frame)
    }
  })
  stream.addEventListener('remoteCloseWrite', () => end('the server ended the stream'))
  stream.addEventListener('close', () => end('stream closed'))

  return {
    node,
    stream,
    send: (bytes) => {
      stream.send(encodeFrame(bytes))
    },
    sendRaw: (bytes) => {
      stream.send(bytes)
    },
    next: (timeout = 5_000) => {
      const frame = frames.shift()
      if (frame) return Promise.resolve(frame)
      if (ended) return Promise.reject(ended)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no frame within ${timeout} ms`)), timeout)
        waiters.push({
          resolve: (b) => {
            clearTimeout(timer)
            resolve(b)
          },
          reject: (e) => {
            clearTimeout(timer)
            reject(e)
          },
        })
      })
    },
    closed,
    closeWrite: () => stream.close({ signal: AbortSignal.timeout(2_000) }),
    close: async () => {
      await stream.close({ signal: AbortSignal.timeout(2_000) }).catch(() => {})
      end('closed')
      await node.stop()
    },
    abort: () => {
      stream.abort(new Error('test abort'))
      end('aborted')
    },
  }
}

export type HandlerEvent =
  | { readonly type: 'connect'; readonly conn: GatewayConn }
  | { readonly type: 'message'; readonly conn: GatewayConn; readonly data: Uint8Array }
  | { readonly type: 'close'; readonly conn: GatewayConn; readonly reason: CloseReason }

/** A GatewayHandlers that records every call and echoes messages back. */
export class Recorder implements GatewayHandlers {
  readonly events: HandlerEvent[] = []
  echo = true
  private waiters: Array<{ test: (e: HandlerEvent) => boolean; resolve: () => void }> = []

  onConnect(conn: GatewayConn): void {
    this.record({ type: 'connect', conn })
  }

  onMessage(conn: GatewayConn, data: Uint8Array, _meta: RequestMeta): void {
    this.record({ type: 'message', conn, data })
    if (this.echo) conn.send(data)
  }

  onClose(conn: GatewayConn, reason: CloseReason): void {
    this.record({ type: 'close', conn, reason })
  }

  of<T extends HandlerEvent['type']>(type: T): Array<Extract<HandlerEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<HandlerEvent, { type: T }> => e.type === type)
  }

  /** Resolves once an event passing `test` has been recorded (rejects after `timeoutMs`). */
  waitFor(test: (e: HandlerEvent) => boolean, timeoutMs = 5_000): Promise<void> {
    if (this.events.some(test)) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('event not seen in time')), timeoutMs)
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
      })
    })
  }

  private record(event: HandlerEvent): void {
    this.events.push(event)
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(event)) return true
      w.resolve()
      return false
    })
  }
}
