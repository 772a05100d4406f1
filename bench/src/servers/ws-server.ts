/**
 * A WebSocket echo server for the load suites, run as its own Node process so the load
 * client and the server never share an event loop:
 *
 *   node src/servers/ws-server.ts rony   # @rony/edge + wsGateway + the test services' Echo
 *                                        # (and BenchEcho.echo, the same, as a service)
 *   node src/servers/ws-server.ts raw    # a bare `ws` WebSocketServer echoing every message
 *
 * Both listen on 127.0.0.1, port 0. The process protocol (the `{"port":N}` line, stats over
 * IPC, bounded exit) is `serve.ts`'s.
 */
import { type Running, serve } from './serve.ts'

const MAX_PAYLOAD = 1024 * 1024

async function startRony(): Promise<Running> {
  const [{ createEdge }, { wsGateway }, { EchoReply, registerTestServices }, { BenchEcho }] =
    await Promise.all([
      import('@rony/edge'),
      import('@rony/gateway-ws'),
      import('@rony/testing'),
      import('../echo-service.ts'),
    ])
  const gateway = wsGateway({ host: '127.0.0.1', port: 0 })
  const edge = createEdge({ id: 'bench', gateways: [gateway] })
  registerTestServices(edge)
  // The test services' Echo handler, as a service method (see echo-service.ts).
  edge.service(
    BenchEcho,
    {
      echo: (req, ctx) =>
        EchoReply.create({ Text: req.Text, Payload: req.Payload, ServerID: ctx.serverId }),
    },
    { byRequestType: false },
  )
  await edge.start()
  const address = edge.addresses()[0]
  if (!address) throw new Error('the edge reports no address')
  return { port: Number(new URL(address).port), stop: () => edge.stop() }
}

async function startRaw(): Promise<Running> {
  const { WebSocketServer } = await import('ws')
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: false,
    maxPayload: MAX_PAYLOAD,
  })
  wss.on('connection', (socket) => {
    socket.on('message', (data: Buffer, isBinary: boolean) =>
      socket.send(data, { binary: isBinary }),
    )
    socket.on('error', () => socket.terminate())
  })
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve)
    wss.once('error', reject)
  })
  const address = wss.address()
  if (typeof address === 'string' || address === null) throw new Error('no TCP address')
  return {
    port: address.port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        wss.close(() => resolve())
      }),
  }
}

await serve('ws-server.ts', { rony: startRony, raw: startRaw })
