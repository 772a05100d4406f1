/**
 * HTTP servers for the http load suite, each run as its own Node process:
 *
 *   node src/servers/http-server.ts rony      # @rony/edge + httpGateway, the test services' Echo (POST /)
 *   node src/servers/http-server.ts fastify   # Fastify hello world: GET / → {"hello":"world"}
 *   node src/servers/http-server.ts raw       # bare node:http: GET / → {"hello":"world"}
 *   node src/servers/http-server.ts raw-echo  # bare node:http: POST / → the request body
 *
 * Same protocol as ws-server.ts: listens on 127.0.0.1, port 0, prints `{"port":N}` once
 * ready, answers `{ type: 'stats' }` over IPC with its memory and CPU time, exits on
 * SIGTERM/SIGINT or when the parent goes away.
 */
import * as http from 'node:http'
import { type Running, serve } from './serve.ts'

async function startRony(): Promise<Running> {
  const [{ createEdge }, { httpGateway }, { registerTestServices }] = await Promise.all([
    import('@rony/edge'),
    import('@rony/gateway-http'),
    import('@rony/testing'),
  ])
  const edge = createEdge({ id: 'bench', gateways: [httpGateway({ host: '127.0.0.1', port: 0 })] })
  registerTestServices(edge)
  await edge.start()
  const address = edge.addresses()[0]
  if (!address) throw new Error('the edge reports no address')
  return { port: Number(new URL(address).port), stop: () => edge.stop() }
}

async function startFastify(): Promise<Running> {
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ logger: false })
  app.get('/', async () => ({ hello: 'world' }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (typeof address === 'string' || address === null) throw new Error('no TCP address')
  return { port: address.port, stop: () => app.close() }
}

/** A bare node:http server answering every request with `handle`. */
async function startNodeHttp(handle: http.RequestListener): Promise<Running> {
  const server = http.createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (typeof address === 'string' || address === null) throw new Error('no TCP address')
  return {
    port: address.port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function startRaw(): Promise<Running> {
  const body = JSON.stringify({ hello: 'world' })
  return startNodeHttp((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    })
    res.end(body)
  })
}

async function startRawEcho(): Promise<Running> {
  return startNodeHttp((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      res.writeHead(200, {
        'content-type': 'application/x-protobuf',
        'content-length': body.length,
      })
      res.end(body)
    })
  })
}

await serve('http-server.ts', {
  rony: startRony,
  fastify: startFastify,
  raw: startRaw,
  'raw-echo': startRawEcho,
})
