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

const kind = process.argv[2]

interface Running {
  port: number
  stop(): Promise<void>
}

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
  else throw new Error(`usage: quic-server.ts rony (got ${kind})`)
  process.stdout.write(`${JSON.stringify({ port: running.port })}\n`)
} catch (error) {
  console.error(error)
  await exit(1)
}
