import * as http from 'node:http'
import * as https from 'node:https'
import type { Duplex } from 'node:stream'
import * as tls from 'node:tls'
import type { Gateway } from '@rony/interface'
import type { WebSocketServer } from 'ws'
import { WsGatewayBase } from './base.js'
import {
  resolveConnectionOptions,
  resolveServerOptions,
  type ServerOptions,
  type WsGatewayInit,
} from './options.js'
import { createWsServer, pathOf, refuseUpgrade, wsUrl } from './upgrade.js'

/** Plain HTTP requests on a standalone gateway's port: it only speaks WebSocket. */
function upgradeRequired(_req: http.IncomingMessage, res: http.ServerResponse): void {
  const body = 'Upgrade Required: this endpoint speaks WebSocket\n'
  res.writeHead(426, {
    Upgrade: 'websocket',
    Connection: 'close',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  })
  res.end(body)
}

/**
 * The gateway on its own HTTP(S) server, or on one the caller owns (`server` option).
 * Upgrades are routed here rather than by ws's `server`/`path` options, so several handlers
 * can share one server and refused upgrades get a proper HTTP status.
 */
class WsGateway extends WsGatewayBase {
  private readonly where: ServerOptions
  private readonly wss: WebSocketServer
  private server: http.Server | https.Server | undefined = undefined
  private serverClosed: Promise<void> | undefined = undefined
  private readonly onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void =>
    this.handleUpgrade(req, socket, head)

  constructor(init: WsGatewayInit) {
    super(resolveConnectionOptions(init))
    this.where = resolveServerOptions(init)
    this.wss = createWsServer(this.opts)
  }

  addresses(): string[] {
    const server = this.server
    if (!this.started || server === undefined || !server.listening) return []
    const url = wsUrl(server.address(), server instanceof tls.Server, this.opts.path)
    return url === undefined ? [] : [url]
  }

  protected async listen(): Promise<void> {
    const where = this.where
    if (where.kind === 'attached') {
      this.server = where.server
      where.server.on('upgrade', this.onUpgrade)
      return
    }
    const server = where.tls === undefined ? http.createServer() : https.createServer(where.tls)
    server.on('request', upgradeRequired)
    server.on('upgrade', this.onUpgrade)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: where.host, port: where.port }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    // After listening, a server error (rare: EMFILE on accept) must not crash the process.
    server.on('error', (err) => this.log.error('%s: server error: %o', this.name, err))
    this.server = server
  }

  protected unlisten(): void {
    const server = this.server
    if (server === undefined) return
    server.off('upgrade', this.onUpgrade)
    if (this.where.kind === 'standalone') {
      // Stop accepting now; the callback fires once the last connection has ended.
      this.serverClosed = new Promise((resolve) => server.close(() => resolve()))
    }
  }

  protected async release(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (server === undefined || this.where.kind === 'attached') return
    // Keep-alive HTTP sockets (a 426 or 404 answered earlier) would hold close() open.
    server.closeAllConnections()
    await this.serverClosed
    this.serverClosed = undefined
  }

  private handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if (pathOf(req.url) !== this.opts.path) {
      // On a shared server another upgrade listener may own this path.
      const server = this.server
      if (this.where.kind === 'attached' && server && server.listenerCount('upgrade') > 1) return
      refuseUpgrade(socket, 404, 'no WebSocket endpoint at this path')
      return
    }
    if (!this.canAccept()) {
      refuseUpgrade(
        socket,
        503,
        this.started ? 'too many connections' : 'not accepting connections',
      )
      return
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, socket))
  }
}

/**
 * Creates a WebSocket gateway: one binary frame carries one envelope; text frames are
 * answered with an `E01 ENVELOPE` error and otherwise ignored.
 *
 * @param init - Options; every field has a default (see {@link WsGatewayInit}).
 * @returns A {@link Gateway} to hand to the edge (or to `attach` and `start` yourself).
 * @throws TypeError or RangeError for invalid options.
 *
 * @example
 * ```ts
 * const gateway = wsGateway({ port: 8080, path: '/rpc', idleTimeout: 60_000 })
 * ```
 */
export function wsGateway(init: WsGatewayInit = {}): Gateway {
  return new WsGateway(init)
}
