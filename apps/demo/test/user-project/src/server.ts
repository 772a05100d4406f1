// Serves Greeter over WebSocket on /rpc and the page (public/) from the same HTTP server,
// then prints `listening <url>`; SIGTERM stops it.
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createEdge } from '@rony/edge'
import { wsGateway } from '@rony/gateway-ws'
import { serveGreeter } from './greeter-service.ts'

const files: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
}
const server = createServer(async (req, res) => {
  const file = files[req.url ?? '']
  if (!file) return void res.writeHead(404).end()
  const body = await readFile(new URL(`../public/${file[0]}`, import.meta.url))
  res.writeHead(200, { 'content-type': file[1] }).end(body)
})
const edge = createEdge({ id: 'user-edge', gateways: [wsGateway({ server, path: '/rpc' })] })
serveGreeter(edge)
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
await edge.start()
const { port } = server.address() as AddressInfo
console.log(`listening http://127.0.0.1:${port}/`)

process.once('SIGTERM', async () => {
  await edge.stop()
  server.close()
})
