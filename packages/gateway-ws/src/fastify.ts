import type { IncomingMessage } from 'node:http'
import type { AddressInfo, Server } from 'node:net'
import * as tls from 'node:tls'
import type { Gateway } from '@rony/interface'
import type { WebSocket } from 'ws'
import { WsGatewayBase } from './base.js'
import { resolveConnectionOptions, type WsConnectionInit } from './options.js'
import { wsServerOptions, wsUrl } from './upgrade.js'

/** Options of {@link fastifyWsGateway}: the connection options; the Fastify app owns the server. */
export type FastifyWsGatewayInit = WsConnectionInit

/**
 * The part of a Fastify instance the plugin uses. A real `FastifyInstance` (Fastify 5) fits
 * it; it is spelled out here so this package's types do not require `fastify` to be
 * installed by users of `wsGateway` alone.
 */
export interface FastifyInstanceLike {
  readonly server: Server
  readonly prefix: string
  addresses(): Array<AddressInfo | string>
  hasDecorator(name: string): boolean
  register(plugin: unknown, options?: unknown): unknown
  route(options: unknown): unknown
  addHook(name: 'preClose', hook: () => Promise<void>): unknown
}

/** A WebSocket gateway served by a Fastify app. */
export interface FastifyWsGateway extends Gateway {
  /**
   * The Fastify plugin that mounts the gateway: `await app.register(gateway.plugin)`.
   * It registers `@fastify/websocket` with the gateway's limits unless the app already has
   * it, then adds a `GET` WebSocket route at `path`. Register it once, in one app.
   * Closing the app stops the gateway.
   */
  readonly plugin: (app: FastifyInstanceLike) => Promise<void>
}

interface ReplyLike {
  code(status: number): { send(body: string): unknown }
}

interface RequestLike {
  readonly raw: IncomingMessage
}

function ignoreError(): void {
  // The connection reports socket errors through onClose; the default handler would
  // terminate the socket before ws could send its close frame (1009, 1002…).
}

/**
 * The gateway mounted as a route of a Fastify app. Start and stop only open and close the
 * gateway (and its connections); the app listens and closes its server.
 */
class FastifyGateway extends WsGatewayBase implements FastifyWsGateway {
  private app: FastifyInstanceLike | undefined = undefined
  private mountPath: string

  constructor(init: FastifyWsGatewayInit) {
    super(resolveConnectionOptions(init))
    this.mountPath = this.opts.path
    // Like fastify-plugin: no encapsulation, so @fastify/websocket (if we register it) sits
    // in the caller's context and its hooks also release sockets Fastify answers with 404.
    Object.defineProperties(this.plugin, {
      [Symbol.for('skip-override')]: { value: true },
      [Symbol.for('fastify.display-name')]: { value: '@rony/gateway-ws' },
    })
  }

  readonly plugin = async (app: FastifyInstanceLike): Promise<void> => {
    if (this.app !== undefined) {
      throw new Error(`gateway ${this.name}: plugin registered twice`)
    }
    this.app = app
    // Registered inside a prefixed plugin, the route is served at prefix + path.
    this.mountPath = `${app.prefix}${this.opts.path}`.replace(/\/{2,}/g, '/')
    if (!app.hasDecorator('websocketServer')) {
      // Imported here, so plain wsGateway users need neither fastify nor @fastify/websocket.
      const { default: fastifyWebsocket } = await import('@fastify/websocket')
      const { noServer: _, ...options } = wsServerOptions(this.opts)
      await app.register(fastifyWebsocket, { options, errorHandler: ignoreError })
    }
    app.route({
      method: 'GET',
      url: this.opts.path,
      websocket: true,
      // Refuse before the upgrade, so the client sees an HTTP status, as with wsGateway.
      onRequest: (_request: unknown, reply: ReplyLike, done: () => void): void => {
        if (this.canAccept()) {
          done()
          return
        }
        reply.code(503).send(this.started ? 'too many connections' : 'not accepting connections')
      },
      handler: (socket: WebSocket, request: RequestLike): void => {
        this.accept(socket, request.raw, request.raw.socket)
      },
    })
    app.addHook('preClose', () => this.stop())
  }

  addresses(): string[] {
    const app = this.app
    if (!this.started || app === undefined || !app.server.listening) return []
    const secure = app.server instanceof tls.Server
    const urls: string[] = []
    for (const address of app.addresses()) {
      const url = wsUrl(address, secure, this.mountPath)
      if (url !== undefined) urls.push(url)
    }
    return urls
  }

  protected async listen(): Promise<void> {
    if (this.app === undefined && this.log.enabled) {
      this.log('%s: started before its plugin was registered; no route yet', this.name)
    }
  }

  protected unlisten(): void {
    // The route stays (Fastify cannot remove routes); it answers 503 while stopped.
  }

  protected async release(): Promise<void> {}
}

/**
 * Creates a WebSocket gateway mounted in an existing Fastify app through
 * `@fastify/websocket` (optional peer dependencies: install `fastify` and
 * `@fastify/websocket` to use it). Connections behave exactly as with {@link wsGateway}.
 *
 * @param init - Connection options (see {@link FastifyWsGatewayInit}).
 * @returns The gateway, with the `plugin` to register in the app.
 *
 * @example
 * ```ts
 * const app = Fastify()
 * const gateway = fastifyWsGateway({ path: '/rpc' })
 * await app.register(gateway.plugin)
 * const edge = createEdge({ id: 'n1', gateways: [gateway] })
 * await edge.start()
 * await app.listen({ port: 8080 })
 * ```
 */
export function fastifyWsGateway(init: FastifyWsGatewayInit = {}): FastifyWsGateway {
  return new FastifyGateway(init)
}
