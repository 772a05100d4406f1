import * as http from 'node:http'
import * as https from 'node:https'
import type { AddressInfo } from 'node:net'
import * as tls from 'node:tls'
import {
  type CloseReason,
  CodedError,
  type Gateway,
  GatewayConnections,
  type GatewayFeatures,
  type GatewayHandlers,
  Lifecycle,
  type Logger,
  type RestRoute,
} from '@rony/interface'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { answerOnSocket, clientErrorAnswer } from './client-errors.js'
import {
  type ConnHost,
  type ConnKind,
  HttpConn,
  headerMap,
  hostPort,
  type Responder,
  sendJson,
} from './connection.js'
import { rpcFastPath } from './fast-path.js'
import { type HttpGatewayInit, type ResolvedOptions, resolveOptions } from './options.js'
import { fastifyErrorAnswer, jsonError } from './rest.js'
import {
  allowedMethods,
  errorHandler,
  gatewayPlugin,
  notFoundHandler,
  type RestCall,
  type RouteHost,
  sendAnswer,
} from './routes.js'

const MAX_SWEEP_MS = 1_000
const MIN_SWEEP_MS = 10
const NO_ROUTES: readonly RestRoute[] = Object.freeze([])

/** How often deadlines are checked: a quarter of the shortest, within [10 ms, 1 s]. */
const sweepPeriod = (deadline: number): number =>
  Math.max(MIN_SWEEP_MS, Math.min(MAX_SWEEP_MS, Math.floor(deadline / 4)))

const NO_BODY = new Uint8Array(0)

/** Routes are plain data: equal when their JSON is. */
const sameRoutes = (a: readonly RestRoute[], b: readonly RestRoute[]): boolean =>
  JSON.stringify(a) === JSON.stringify(b)

/** A request whose body is being read, for the read deadline in plugin mode. */
interface BodyRead {
  readonly startedAt: number
  readonly reply: FastifyReply
}

/**
 * The HTTP gateway: one request is one non-persistent connection for the edge. Standalone,
 * it builds and listens its own Fastify server in `start()` and closes it in `stop()`; in
 * plugin mode its routes live in the caller's app, which listens. One sweep timer enforces
 * the request timeout for every request in flight.
 */
class HttpGateway implements Gateway, ConnHost, RouteHost {
  readonly name: string
  readonly features: GatewayFeatures
  readonly opts: ResolvedOptions
  private readonly log: Logger
  /** Requests in flight, and answered ones until their response closed. */
  private readonly conns: GatewayConnections<HttpConn>
  private running = false
  private app: FastifyInstance | undefined = undefined
  /** The REST routes the plugin mounted (plugin mode: fixed once the app booted). */
  private mounted: readonly RestRoute[] | undefined = undefined
  private readonly lifecycle = new Lifecycle({
    start: () => this.doStart(),
    stop: () => this.doStop(),
  })
  private sweepTimer: ReturnType<typeof setInterval> | undefined = undefined
  /** Plugin mode: requests of the gateway's routes whose body is still being read. */
  private readonly reading = new Map<http.IncomingMessage, BodyRead>()

  constructor(init: HttpGatewayInit) {
    this.opts = resolveOptions(init)
    this.name = this.opts.name
    this.log = this.opts.logger
    this.conns = new GatewayConnections(this.name, this.log)
    this.features = Object.freeze({
      serverPush: false,
      json: true,
      maxMessageSize: this.opts.bodyLimit,
    })
    const mount = this.opts.mount
    if (mount.kind === 'plugin') {
      this.app = mount.app
      // Loaded at the app's ready()/listen(), after the edge attached us (see routesToMount).
      void mount.app.register(gatewayPlugin(this, false), { prefix: this.routePrefix() })
    }
  }

  attach(handlers: GatewayHandlers): void {
    this.conns.attach(handlers)
  }

  /** Fastify's register prefix: `''` for the root, so routes do not start with `//`. */
  private routePrefix(): string {
    return this.opts.prefix === '/' ? '' : this.opts.prefix
  }

  routesToMount(): readonly RestRoute[] {
    const handlers = this.conns.handlers
    if (handlers === undefined) {
      throw new CodedError(
        `gateway ${this.name}: the Fastify app booted before the edge started; call ` +
          'edge.start() before app.ready() or app.listen() (REST routes are only known then)',
        'RONY_ERR_NOT_ATTACHED',
      )
    }
    this.mounted = [...(handlers.restRoutes ?? NO_ROUTES)]
    return this.mounted
  }

  addresses(): string[] {
    const app = this.app
    if (!this.running || app === undefined || !app.server.listening) return []
    const scheme = app.server instanceof tls.Server ? 'https' : 'http'
    const path = this.opts.prefix
    const urls: string[] = []
    const standalone = this.opts.mount.kind === 'standalone'
    const addresses = standalone ? [app.server.address()] : app.addresses()
    for (const address of addresses) {
      if (address === null || typeof address === 'string') continue
      const { address: host, port } = address as AddressInfo
      urls.push(`${scheme}://${hostPort(host, port)}${path}`)
    }
    return urls
  }

  start(): Promise<void> {
    return this.lifecycle.start()
  }

  private async doStart(): Promise<void> {
    const handlers = this.conns.handlers
    if (handlers === undefined) {
      throw new CodedError(
        `gateway ${this.name}: attach(handlers) before start()`,
        'RONY_ERR_NOT_ATTACHED',
      )
    }
    const mount = this.opts.mount
    if (mount.kind === 'plugin') {
      const mounted = this.mounted
      if (mounted !== undefined && !sameRoutes(mounted, handlers.restRoutes ?? NO_ROUTES)) {
        throw new CodedError(
          `gateway ${this.name}: the REST routes changed after the Fastify app booted`,
          'RONY_ERR_ROUTES_CHANGED',
        )
      }
    } else {
      // With CORS on, every response needs the plugin's headers: all requests go through Fastify.
      const fastPath =
        this.opts.cors === false
          ? rpcFastPath(this, this.opts.prefix, this.opts.bodyLimit)
          : undefined
      const app = Fastify({
        serverFactory: (fastify: http.RequestListener) => {
          const listener: http.RequestListener =
            fastPath === undefined
              ? fastify
              : (req, res) => {
                  if (!fastPath(req, res)) fastify(req, res)
                }
          const { readTimeout } = this.opts
          // Node's own deadline for a request's head and body together.
          const deadline = {
            requestTimeout: readTimeout,
            headersTimeout: readTimeout,
            connectionsCheckingInterval: sweepPeriod(readTimeout),
          }
          const server =
            mount.tls === undefined
              ? http.createServer(deadline, listener)
              : https.createServer({ ...mount.tls, ...deadline }, listener)
          server.keepAliveTimeout = mount.keepAliveTimeout
          return server
        },
        // Parser errors and the read deadline, answered in the JSON Error shape.
        clientErrorHandler: (error, socket) => {
          answerOnSocket(socket, clientErrorAnswer(error.code, this.opts.readTimeout), error)
        },
        bodyLimit: this.opts.bodyLimit,
        forceCloseConnections: 'idle',
        logger: false,
        // Errors before routing (a malformed URL…) in the same JSON Error shape.
        frameworkErrors: (error, _request, reply) => {
          sendAnswer(reply, fastifyErrorAnswer(error, this.opts.bodyLimit))
        },
      }) as unknown as FastifyInstance
      // The whole server is the gateway's: every 404 and error is a JSON Error.
      app.setErrorHandler(errorHandler(this.opts.bodyLimit))
      app.setNotFoundHandler(
        notFoundHandler(this.opts.prefix, allowedMethods(handlers.restRoutes ?? NO_ROUTES)),
      )
      app.register(gatewayPlugin(this, true), { prefix: this.routePrefix() })
      this.app = app
      try {
        await app.listen({ host: mount.host, port: mount.port })
      } catch (err) {
        this.app = undefined
        await app.close().catch(() => {})
        throw err
      }
    }
    const period = sweepPeriod(Math.min(this.opts.requestTimeout, this.opts.readTimeout))
    this.sweepTimer = setInterval(() => this.sweep(), period)
    this.sweepTimer.unref()
    this.running = true
    if (this.log.enabled)
      this.log('%s gateway listening on %s', this.name, this.addresses().join(', '))
  }

  stop(): Promise<void> {
    return this.lifecycle.stop()
  }

  private async doStop(): Promise<void> {
    this.running = false
    clearInterval(this.sweepTimer)
    this.sweepTimer = undefined
    const stopping = jsonError(503, 'E02', 'SERVER', 'the server is stopping')
    for (const conn of this.conns) conn.fail(stopping, 'gateway stopped')
    if (!(await this.conns.drained(this.opts.stopTimeout))) {
      if (this.log.enabled) this.log('%s: destroying %d responses', this.name, this.conns.size)
      for (const conn of this.conns) conn.terminate()
      await this.conns.drained()
    }
    const app = this.app
    if (app !== undefined && this.opts.mount.kind === 'standalone') {
      this.app = undefined
      await this.closeApp(app)
    }
    if (this.log.enabled) this.log('%s gateway stopped', this.name)
  }

  /** Closes a standalone app; keep-alive sockets still busy after the grace are destroyed. */
  private async closeApp(app: FastifyInstance): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const closed = app.close()
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.opts.stopTimeout)
    })
    if (await Promise.race([closed.then(() => false), late])) {
      app.server.closeAllConnections()
      await closed
    }
    clearTimeout(timer)
  }

  exchange(
    raw: http.IncomingMessage,
    out: Responder,
    kind: ConnKind,
    body: Uint8Array | undefined,
    rest?: RestCall,
  ): void {
    if (!this.running || this.conns.handlers === undefined) {
      sendJson(out, jsonError(503, 'E02', 'SERVER', 'the server is not accepting requests'))
      return
    }
    if (this.conns.size >= this.opts.maxConnections) {
      sendJson(out, jsonError(503, 'E02', 'SERVER', 'too many requests in flight'))
      return
    }
    const id = this.conns.nextId()
    const socket = raw.socket
    const conn = new HttpConn(
      this,
      id,
      out,
      hostPort(socket.remoteAddress, socket.remotePort),
      socket instanceof tls.TLSSocket ? 'https' : 'http',
      kind,
    )
    this.conns.open(conn)
    if (conn.closed) return // refused by the edge (it answered through close())
    const headers = headerMap(raw.headers)
    const data = body ?? NO_BODY
    if (rest === undefined) {
      this.conns.message(conn, data, { headers, format: kind === 'binary' ? 'binary' : 'json' })
    } else {
      this.conns.message(conn, data, { headers, format: rest.route.encoding, rest })
    }
  }

  /** @internal */
  replyFailed(conn: HttpConn, error: unknown): void {
    this.log.error('%s: cannot write the response of conn %d: %o', this.name, conn.id, error)
  }

  /** @internal */
  connClosed(conn: HttpConn, reason: CloseReason): void {
    this.conns.close(conn, reason)
  }

  /** @internal A request's head arrived (plugin mode): its body is due within readTimeout. */
  readStarted(raw: http.IncomingMessage, reply: FastifyReply): void {
    this.reading.set(raw, { startedAt: Date.now(), reply })
  }

  /** @internal The request's body was read, or the request ended. */
  readEnded(raw: http.IncomingMessage): void {
    this.reading.delete(raw)
  }

  /** Answers 408 and closes the socket of every body not read whole within readTimeout. */
  private sweepReads(now: number): void {
    const deadline = now - this.opts.readTimeout
    for (const [raw, { startedAt, reply }] of this.reading) {
      if (startedAt > deadline) continue
      this.reading.delete(raw)
      const socket = raw.socket
      if (reply.sent) {
        socket.destroy()
        continue
      }
      const timeout = clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT', this.opts.readTimeout)
      reply.raw.once('finish', () => socket.destroy())
      reply.header('connection', 'close')
      sendAnswer(reply, timeout)
    }
  }

  /**
   * Answers 504 to every request the edge left unanswered for `requestTimeout`, and 408 to
   * bodies not read within `readTimeout` (plugin mode).
   */
  private sweep(): void {
    const now = Date.now()
    if (this.reading.size > 0) this.sweepReads(now)
    const deadline = now - this.opts.requestTimeout
    for (const conn of this.conns) {
      if (!conn.closed && conn.startedAt <= deadline) {
        const ms = this.opts.requestTimeout
        conn.fail(jsonError(504, 'E06', 'TIMEOUT', `no answer within ${ms} ms`), 'request timeout')
      }
    }
  }
}

/**
 * Creates an HTTP gateway on Fastify: `POST {prefix}` takes one binary or JSON envelope (or
 * container) and answers with the reply envelope; the edge's REST routes are served under
 * `prefix`.
 *
 * @param init - Options; every field has a default (see {@link HttpGatewayInit}).
 * @returns A {@link Gateway} to hand to the edge.
 * @throws TypeError or RangeError for invalid options.
 *
 * @example
 * ```ts
 * const gateway = httpGateway({ port: 8081, prefix: '/rpc', cors: true })
 * ```
 */
export function httpGateway(init: HttpGatewayInit = {}): Gateway {
  return new HttpGateway(init)
}
