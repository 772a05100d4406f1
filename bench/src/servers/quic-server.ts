/**
 * The QUIC echo server of the quic load suite, run as its own Node process:
 *
 *   node src/servers/quic-server.ts rony   # @rony/edge + quicGateway + the test services' Echo
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

await serve('quic-server.ts', { rony: startRony })
