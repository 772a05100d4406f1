/**
 * The playground server: one edge with the demo's echo service behind three gateways at
 * once — WebSocket on `/rpc` of the HTTP server that also serves the page and its script,
 * HTTP (`POST /rpc` envelopes, JSON envelopes, and `GET /echo/:Text` as REST) on a port of
 * its own, and QUIC. The same handler answers on all of them.
 */
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createEdge, type Edge } from '@rony/edge'
import { httpGateway } from '@rony/gateway-http'
import { quicGateway } from '@rony/gateway-quic'
import { wsGateway } from '@rony/gateway-ws'
import { build, type Plugin } from 'esbuild'
import Long from 'long'
import { demo } from './gen/echo.js'

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

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

/**
 * Bundles the page's script. The playground lives in this repository, so it bundles the
 * client from the workspace's sources: the page always runs the client as it is now.
 */
async function bundleBrowserScript(): Promise<string> {
  const source = (name: string): string => here(`../../../packages/${name}/src/index.ts`)
  // The client's `#quic-dialer` as a browser bundler resolves it (package.json `imports`,
  // `browser` condition): the stub. Left alone, esbuild would follow packages/client's
  // tsconfig `paths`, which point at the libp2p dialer for type checking, into the page.
  const browserQuicDialer: Plugin = {
    name: 'browser-quic-dialer',
    setup(b) {
      b.onResolve({ filter: /^#quic-dialer$/ }, () => ({
        path: here('../../../packages/client/src/transport/quic-unsupported.ts'),
      }))
    },
  }
  const result = await build({
    entryPoints: [here('./browser.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    alias: {
      '@rony/client': source('client'),
      '@rony/envelope': source('envelope'),
      '@rony/interface': source('interface'),
    },
    plugins: [browserQuicDialer],
  })
  return result.outputFiles[0]!.text
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
    readFile(here('../public/index.html')),
    bundleBrowserScript(),
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
