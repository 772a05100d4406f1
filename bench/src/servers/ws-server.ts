/**
 * A WebSocket echo server for the load suites, run as its own Node process so the load
 * client and the server never share an event loop:
 *
 *   node src/servers/ws-server.ts rony   # @rony/edge + wsGateway + the test services' Echo
 *   node src/servers/ws-server.ts raw    # a bare `ws` WebSocketServer echoing every message
 *
 * Both listen on 127.0.0.1, port 0, and print one line `{"port":N}` on stdout once ready.
 * Over the IPC channel (spawn with stdio 'ipc') the parent asks `{ type: 'stats', gc }` and
 * gets `{ type: 'stats', rss, heapUsed, external, arrayBuffers }` (bytes) and `cpuUs` (the
 * process's user + system CPU time so far) back, after a
 * memory-reducing full GC when `gc` is set and the process runs with --expose-gc. The process exits on
 * SIGTERM/SIGINT, and on its own when the parent goes away (IPC disconnect), so it never
 * outlives the benchmark. A normal exit also lets `--cpu-prof` write its profile.
 */
import v8 from 'node:v8'

// Each kind loads only its own modules, so the raw server's RSS carries no Rony code.

const kind = process.argv[2]
const MAX_PAYLOAD = 1024 * 1024

interface Running {
  port: number
  stop(): Promise<void>
}

async function startRony(): Promise<Running> {
  const [{ createEdge }, { wsGateway }, { registerTestServices }] = await Promise.all([
    import('@rony/edge'),
    import('@rony/gateway-ws'),
    import('@rony/testing'),
  ])
  const gateway = wsGateway({ host: '127.0.0.1', port: 0 })
  const edge = createEdge({ id: 'bench', gateways: [gateway] })
  registerTestServices(edge)
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

let running: Running | undefined
let exiting = false

async function exit(code: number): Promise<void> {
  if (exiting) return
  exiting = true
  // Bounded: a stop that hangs must not keep the process alive.
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

const gc = (globalThis as { gc?: (options?: object) => void }).gc

process.on('message', (message: { type?: string; gc?: boolean }) => {
  if (message?.type !== 'stats') return
  if (message.gc && gc) {
    // 'last-resort' is V8's memory-reducing GC: a plain one keeps the young generation and
    // heap pages an allocation burst grew, which is slack, not memory anything holds.
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
  }
  const usage = process.memoryUsage()
  const cpu = process.cpuUsage()
  process.send?.({
    cpuUs: cpu.user + cpu.system,
    type: 'stats',
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    newSpace:
      v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ??
      0,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    gc: Boolean(message.gc && gc),
  })
})

try {
  if (kind === 'rony') running = await startRony()
  else if (kind === 'raw') running = await startRaw()
  else throw new Error(`usage: ws-server.ts rony|raw (got ${kind})`)
  process.stdout.write(`${JSON.stringify({ port: running.port })}\n`)
} catch (error) {
  console.error(error)
  await exit(1)
}
