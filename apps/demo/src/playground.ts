/**
 * The playground server: one edge with the demo's echo service behind three gateways at
 * once — WebSocket on `/rpc` of the HTTP server that also serves the page and its script,
 * HTTP (`POST /rpc` envelopes, JSON envelopes, and `GET /echo/:Text` as REST) on a port of
 * its own, and QUIC. The same handler answers on all of them.
 */
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createEdge, type Edge } from '@rony/edge'
import { httpGateway } from '@rony/gateway-http'
import { quicGateway } from '@rony/gateway-quic'
import { wsGateway } from '@rony/gateway-ws'
import Long from 'long'
import { bundleForBrowser } from './bundle.ts'
import { demo } from './gen/echo.js'
import { demoPath } from './paths.ts'

export interface PlaygroundInit {
  /** Default 'n1'. */
  id?: string
  /** Default '127.0.0.1'. */
  host?: string
  /** Port of the page and the WebSocket gateway. Default 0 (any free port). */
  port?: number
  /** Port of the HTTP gateway. Default 0 (any free port). */
  httpPort?: number
}

export interface Playground {
  /** The page: `http://host:port/`. */
  url: string
  /** Where WebSocket clients connect: `ws://host:port/rpc`. */
  rpcUrl: string
  /** Where HTTP clients post envelopes (`POST /`); REST routes live under it: `http://host:httpPort/`. */
  httpUrl: string
  /** The QUIC gateway's multiaddr, with `/p2p/<peer id>`. */
  quicAddress: string
  edge: Edge
  close(): Promise<void>
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server.address() as AddressInfo)
    })
  })
}

export async function startPlayground(init: PlaygroundInit = {}): Promise<Playground> {
  const { id = 'n1', host = '127.0.0.1', port = 0, httpPort = 0 } = init
  const [page, script] = await Promise.all([
    readFile(demoPath('public/single.html')),
    bundleForBrowser(demoPath('src/browser.ts')),
  ])
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0]
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page)
    } else if (req.method === 'GET' && path === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script)
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
    }
  })
  const http = httpGateway({ host, port: httpPort, prefix: '/' })
  const quic = quicGateway({ listen: [`/ip4/${host}/udp/0/quic-v1`] })
  const edge = createEdge({ id, gateways: [wsGateway({ server, path: '/rpc' }), http, quic] })
  edge.handle(
    demo.EchoRequest,
    (req: demo.EchoRequest, ctx) =>
      demo.EchoResponse.create({
        Text: req.Text,
        ServerID: `${ctx.serverId} via ${ctx.gateway}`,
        ServedAt: Long.fromNumber(Date.now()),
      }),
    { rest: { method: 'GET', path: '/echo/:Text' } },
  )
  const address = await listen(server, host, port)
  await edge.start().catch(async (error: unknown) => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    throw error
  })
  const origin = `${address.address}:${address.port}`
  return {
    url: `http://${origin}/`,
    rpcUrl: `ws://${origin}/rpc`,
    httpUrl: http.addresses()[0]!,
    quicAddress: quic.addresses()[0]!,
    edge,
    async close() {
      await edge.stop({ timeout: 2_000 })
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
