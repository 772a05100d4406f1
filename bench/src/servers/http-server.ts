/**
 * HTTP servers for the http load suite, each run as its own Node process:
 *
 *   node src/servers/http-server.ts rony      # @rony/edge + httpGateway, the test services' Echo (POST /)
 *   node src/servers/http-server.ts fastify   # Fastify hello world: GET / → {"hello":"world"}
 *   node src/servers/http-server.ts raw       # bare node:http: GET / → {"hello":"world"}
 *
 * Same protocol as ws-server.ts: listens on 127.0.0.1, port 0, prints `{"port":N}` once
 * ready, answers `{ type: 'stats' }` over IPC with its memory and CPU time, exits on
 * SIGTERM/SIGINT or when the parent goes away.
 */

const kind = process.argv[2]

interface Running {
  port: number
  stop(): Promise<void>
}

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

async function startRaw(): Promise<Running> {
  const http = await import('node:http')
  const body = JSON.stringify({ hello: 'world' })
  const server = http.createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    })
    res.end(body)
  })
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

let running: Running | undefined
let exiting = false

async function exit(code: number): Promise<void> {
  if (exiting) return
  exiting = true
  const hardStop = setTimeout(() => process.exit(code), 3000)
  hardStop.unref()
  try {
    await running?.stop()
  } catch {
    // exiting anyway
  }
  process.exit(code)
}

process.once('SIGTERM', () => void exit(0))
process.once('SIGINT', () => void exit(0))
process.on('disconnect', () => void exit(0))

process.on('message', (message: { type?: string }) => {
  if (message?.type !== 'stats') return
  const usage = process.memoryUsage()
  const cpu = process.cpuUsage()
  process.send?.({
    type: 'stats',
    cpuUs: cpu.user + cpu.system,
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    newSpace: 0,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    gc: false,
  })
})

try {
  if (kind === 'rony') running = await startRony()
  else if (kind === 'fastify') running = await startFastify()
  else if (kind === 'raw') running = await startRaw()
  else throw new Error(`usage: http-server.ts rony|fastify|raw (got ${kind})`)
  process.stdout.write(`${JSON.stringify({ port: running.port })}\n`)
} catch (error) {
  console.error(error)
  await exit(1)
}
