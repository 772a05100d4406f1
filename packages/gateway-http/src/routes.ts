/**
 * The gateway's Fastify plugin: its own content-type parsers, error and 404 handlers, the
 * RPC endpoint (`POST {prefix}`), a 405 for other methods there, the REST routes, and CORS.
 * It is encapsulated (no `skip-override`), so none of it leaks into a host app.
 */

import type { IncomingMessage } from 'node:http'
import fastifyCors from '@fastify/cors'
import type { RestMethod, RestRoute } from '@rony/interface'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type ConnKind, FastifyResponder, type Responder, sendJson } from './connection.js'
import type { ResolvedOptions } from './options.js'
import { fastifyErrorAnswer, type HttpAnswer, jsonError, UNSUPPORTED_MEDIA_TYPE } from './rest.js'

/** What the plugin asks of the gateway. */
export interface RouteHost {
  readonly opts: ResolvedOptions
  /** The edge's REST routes; throws a clear error when the gateway is not attached yet. */
  routesToMount(): readonly RestRoute[]
  /** Takes one request that passed routing and parsing to the edge. */
  exchange(
    raw: IncomingMessage,
    out: Responder,
    kind: ConnKind,
    body: Uint8Array | undefined,
    rest?: RestCall,
  ): void
  /** Called from the app's preClose: stops the gateway with the app. */
  stop(): Promise<void>
}

/** What a REST route adds to its request: the command it maps to, and the parsed URL parts. */
export interface RestCall {
  readonly cmd: string
  readonly query: unknown
  readonly params: unknown
}

const METHODS: readonly RestMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

/** Writes a gateway-made JSON answer through Fastify. */
export function sendAnswer(reply: FastifyReply, answer: HttpAnswer): void {
  sendJson(new FastifyResponder(reply), answer)
}

function isJsonType(contentType: string | undefined): boolean {
  // Only our two parsers run, so a parsed body is either protobuf or JSON.
  return contentType?.toLowerCase().includes('json') === true
}

function passBuffer(
  _request: FastifyRequest,
  body: Buffer,
  done: (e: null, b: Buffer) => void,
): void {
  done(null, body)
}

/** Throws a clear error for routes the plugin cannot mount. */
function checkRoutes(routes: readonly RestRoute[]): void {
  const seen = new Set<string>()
  for (const route of routes) {
    if (!METHODS.includes(route.method)) {
      throw new TypeError(`REST route ${route.cmd}: unsupported method ${String(route.method)}`)
    }
    if (typeof route.path !== 'string' || !route.path.startsWith('/')) {
      throw new TypeError(
        `REST route ${route.cmd}: path must start with '/', got ${String(route.path)}`,
      )
    }
    if (route.method === 'POST' && route.path === '/') {
      throw new TypeError(`REST route ${route.cmd}: POST / is the gateway's RPC endpoint`)
    }
    const key = `${route.method} ${route.path}`
    if (seen.has(key)) throw new TypeError(`REST route ${key} is declared twice`)
    seen.add(key)
  }
}

/**
 * Builds the plugin function for `host`. `standalone` tells whether the gateway owns the
 * whole server (then it also answers 404 for every unknown path).
 */
export function gatewayPlugin(host: RouteHost, standalone: boolean) {
  return async function ronyHttpGateway(app: FastifyInstance): Promise<void> {
    const routes = host.routesToMount()
    checkRoutes(routes)
    const { bodyLimit, cors, prefix } = host.opts

    if (cors !== false) await app.register(fastifyCors, cors)

    app.removeAllContentTypeParsers()
    for (const type of ['application/x-protobuf', 'application/json']) {
      app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit }, passBuffer)
    }
    app.setErrorHandler((error, _request, reply) => {
      sendAnswer(reply, fastifyErrorAnswer(error as { code?: unknown }, bodyLimit))
    })
    // A plugin at '/' in a host app would clash with the app's own 404 handler.
    if (standalone || prefix !== '/') {
      app.setNotFoundHandler((request, reply) => {
        const path = request.url.split('?', 1)[0]
        sendAnswer(reply, jsonError(404, 'E01', 'ROUTE', `no route ${request.method} ${path}`))
      })
    }

    app.route({
      method: 'POST',
      url: '/',
      handler(request, reply) {
        const body = request.body
        if (!(body instanceof Uint8Array)) {
          sendAnswer(reply, UNSUPPORTED_MEDIA_TYPE)
          return
        }
        const kind = isJsonType(request.headers['content-type']) ? 'json' : 'binary'
        host.exchange(request.raw, new FastifyResponder(reply), kind, body)
      },
    })

    // Other methods on the RPC endpoint: 405 (OPTIONS is the CORS preflight when enabled).
    const taken = new Set(routes.filter((r) => r.path === '/').map((r) => r.method as string))
    const other = ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', ...(cors === false ? ['OPTIONS'] : [])]
    const notAllowed = other.filter((m) => !taken.has(m) && !(m === 'HEAD' && taken.has('GET')))
    if (notAllowed.length > 0) {
      app.route({
        method: notAllowed as never,
        url: '/',
        exposeHeadRoute: false,
        handler(request, reply) {
          reply.header('allow', 'POST')
          sendAnswer(
            reply,
            jsonError(
              405,
              'E01',
              'METHOD',
              `${request.method} is not allowed here: POST an envelope`,
            ),
          )
        },
      })
    }

    for (const route of routes) {
      const cmd = route.cmd
      app.route({
        method: route.method,
        url: route.path,
        handler(request, reply) {
          const body = request.body
          const input = body instanceof Uint8Array ? body : undefined
          host.exchange(request.raw, new FastifyResponder(reply), 'rest', input, {
            cmd,
            query: request.query,
            params: request.params,
          })
        },
      })
    }

    // In a host app, closing the app stops the gateway (standalone, the gateway closes the app).
    if (!standalone) app.addHook('preClose', () => host.stop())
  }
}
