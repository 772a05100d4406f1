/**
 * The Node side of the QUIC transport: everything that touches libp2p. Reached only
 * through the `#quic-dialer` import (see `quic.ts`), never statically, so it is neither in
 * browser bundles nor loaded by Node programs that do not dial QUIC.
 *
 * @module
 */

import { quic } from '@chainsafe/libp2p-quic'
import { multiaddr } from '@multiformats/multiaddr'
import { encodeFrame, FrameDecoder } from '@rony/envelope'
import { createLibp2p } from 'libp2p'
import type { QuicDialOptions, QuicStreamEvents, QuicStreamHandle } from './quic.js'

/** The libp2p protocol id of `@rony/gateway-quic`. */
const PROTOCOL = '/rony/1.0.0'

// WebSocket-style codes in the client's close events, so `close` listeners see one vocabulary.
const CLOSE_NORMAL = 1000
const CLOSE_PROTOCOL_ERROR = 1002
const CLOSE_ABNORMAL = 1006

/**
 * Starts a libp2p node of its own (QUIC only, a fresh Ed25519 identity, no listening
 * address), dials `address` and opens one Rony stream. The node lives as long as the
 * stream: when the stream ends, either way, the node is stopped and its UDP socket closed.
 */
export async function dialQuic(
  address: string,
  events: QuicStreamEvents,
  options: QuicDialOptions,
): Promise<QuicStreamHandle> {
  const target = multiaddr(address)
  const node = await createLibp2p({
    transports: [quic()],
    connectionMonitor: { enabled: false },
  })
  const stopNode = (): Promise<void> => {
    const stopped = Promise.resolve(node.stop()).catch(() => {})
    // Bounded like the gateway's stop: a peer that never answers must not hold the caller.
    return Promise.race([stopped, new Promise<void>((r) => setTimeout(r, options.closeGraceMs))])
  }
  let stream: Awaited<ReturnType<typeof node.dialProtocol>>
  try {
    stream = await node.dialProtocol(target, PROTOCOL, { signal: options.signal })
  } catch (err) {
    await stopNode()
    throw err
  }

  const decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes })
  let ended = false
  const end = (code: number, reason: string): void => {
    if (ended) return
    ended = true
    void stopNode()
    events.onClose(code, reason)
  }
  stream.addEventListener('message', (event) => {
    if (ended) return
    const chunk = event.data instanceof Uint8Array ? event.data : event.data.subarray()
    let frames: Uint8Array[]
    try {
      frames = decoder.push(chunk)
    } catch (err) {
      stream.abort(err as Error)
      end(CLOSE_PROTOCOL_ERROR, (err as Error).message)
      return
    }
    for (const bytes of frames) events.onFrame(bytes)
  })
  stream.addEventListener('remoteCloseWrite', () => {
    // The server ended the stream (it closed the connection or is stopping).
    void stream.close({ signal: AbortSignal.timeout(options.closeGraceMs) }).catch(() => {})
    end(CLOSE_NORMAL, 'stream ended by the server')
  })
  stream.addEventListener('close', (event) => {
    end(
      event.error === undefined ? CLOSE_NORMAL : CLOSE_ABNORMAL,
      event.error?.message ?? 'stream closed',
    )
  })

  return {
    send(bytes) {
      stream.send(encodeFrame(bytes))
    },
    async close() {
      if (ended) return
      ended = true
      try {
        await stream.close({ signal: AbortSignal.timeout(options.closeGraceMs) })
      } catch {
        stream.abort(new Error('client closed'))
      }
      await stopNode()
    },
  }
}
