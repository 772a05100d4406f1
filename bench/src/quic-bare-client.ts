/**
 * The quic suite's floor client: a plain libp2p node with the same QUIC transport as
 * `@rony/client`, on one stream to the bare echo server (`servers/quic-server.ts bare`),
 * sending the framed Echo envelope the Rony rows send and matching echoed frames in order.
 * No Rony on either side: what libp2p-quic itself costs per round trip here.
 */
import { quic } from '@chainsafe/libp2p-quic'
import { multiaddr } from '@multiformats/multiaddr'
import { constructorOf, encodeEnvelope, encodeFrame, FrameDecoder } from '@rony/envelope'
import { Echo } from '@rony/testing'
import { createLibp2p, type Libp2p } from 'libp2p'
import { CLIENT_PAYLOAD } from './client-phase.ts'
import { type LoadSession, requestLoops, type ServerProcess } from './load.ts'

export const BARE_PROTOCOL = '/echo/1.0.0'

const ENVELOPE = encodeEnvelope({
  ctor: constructorOf('Echo'),
  requestId: 1n,
  message: Echo.encode({ Payload: CLIENT_PAYLOAD }).finish(),
})
const FRAME = encodeFrame(ENVELOPE)

/** Stops a libp2p node, giving up after 2 s (libp2p-quic's stop can wait on a silent peer). */
async function stopBounded(node: Libp2p): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 2_000)
  })
  await Promise.race([Promise.resolve(node.stop()).catch(() => {}), late])
  clearTimeout(timer)
}

/** A session of `window` concurrent request loops on one stream to the bare echo at `address`. */
export async function openBareQuicSession(
  server: ServerProcess,
  address: string,
  window: number,
): Promise<LoadSession> {
  const node = await createLibp2p({ transports: [quic()], connectionMonitor: { enabled: false } })
  try {
    const stream = await node.dialProtocol(multiaddr(address), BARE_PROTOCOL)
    const decoder = new FrameDecoder({ maxFrameBytes: 1024 * 1024 })
    const waiting: ((ok: boolean) => void)[] = []
    stream.addEventListener('message', (event) => {
      const chunk = event.data instanceof Uint8Array ? event.data : event.data.subarray()
      for (const frame of decoder.push(chunk)) {
        waiting.shift()?.(frame.byteLength === ENVELOPE.byteLength)
      }
    })
    stream.addEventListener('close', () => {
      for (const resolve of waiting.splice(0)) resolve(false)
    })
    const request = (): Promise<boolean> =>
      new Promise((resolve) => {
        waiting.push(resolve)
        stream.send(FRAME)
      })
    return {
      server,
      phase: (limits) => requestLoops(window, limits, request),
      close: async () => {
        // Bounded: a peer that never ends its side must not hold the suite.
        await stream
          .close({ signal: AbortSignal.timeout(1_000) })
          .catch(() => stream.abort(new Error('closed')))
        await stopBounded(node)
      },
    }
  } catch (error) {
    await stopBounded(node)
    throw error
  }
}
