/**
 * The QUIC echo server of the quic load suite, run as its own Node process:
 *
 *   node src/servers/quic-server.ts rony   # @rony/edge + quicGateway + the test services' Echo
 *   node src/servers/quic-server.ts bare   # a libp2p-quic node echoing every chunk of /echo/1.0.0
 *
 * Listens on /ip4/127.0.0.1/udp/0/quic-v1 and prints one line `{"port":N}` once ready;
 * clients dial `/ip4/127.0.0.1/udp/N/quic-v1` (QUIC learns the peer id in the handshake).
 * Same IPC protocol as ws-server.ts: `{ type: 'stats', gc }` is answered with memory and
 * CPU figures. Exits on SIGTERM/SIGINT and when the parent goes away, bounded in time.
 */
import { type Running, serve } from './serve.ts'

async function startRony(): Promise<Running> {
  const [{ createEdge }, { quicGateway }, { registerTestServices }] = await Promise.all([
    import('@rony/edge'),
    import('@rony/gateway-quic'),
    import('@rony/testing'),
  ])
  const gateway = quicGateway({ listen: ['/ip4/127.0.0.1/udp/0/quic-v1'] })
  const edge = createEdge({ id: 'bench', gateways: [gateway] })
  registerTestServices(edge)
  await edge.start()
  const address = edge.addresses()[0]
  const port = Number(address?.split('/')[4])
  if (!Number.isInteger(port)) throw new Error(`the edge reports no QUIC address (${address})`)
  return { port, stop: () => edge.stop() }
}

/** The floor: libp2p with the same QUIC transport, echoing each chunk as it arrives, no Rony. */
async function startBare(): Promise<Running> {
  const [{ createLibp2p }, { quic }, { BARE_PROTOCOL }] = await Promise.all([
    import('libp2p'),
    import('@chainsafe/libp2p-quic'),
    import('../quic-bare-client.ts'),
  ])
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/udp/0/quic-v1'] },
    transports: [quic()],
    connectionMonitor: { enabled: false },
  })
  await node.handle(BARE_PROTOCOL, (stream) => {
    stream.addEventListener('message', (event) =>
      stream.send(event.data instanceof Uint8Array ? event.data : event.data.subarray()),
    )
  })
  await node.start()
  const port = Number(node.getMultiaddrs()[0]?.toString().split('/')[4])
  if (!Number.isInteger(port)) throw new Error('the libp2p node reports no QUIC address')
  return { port, stop: async () => node.stop() }
}

await serve('quic-server.ts', { rony: startRony, bare: startBare })
