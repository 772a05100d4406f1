/**
 * The gateway's Fastify plugin: its own content-type parsers, error and 404 handlers, the
 * RPC endpoint (`POST {prefix}`), a 405 for other methods there, the REST routes, and CORS.
 * It is encapsulated (no `skip-override`), so none of it leaks into a host app.
 */

import type { IncomingMessage } from 'node:http'
import fastifyCors from '@fastify/cors'
import type { PayloadFormat, RestMethod, RestRequest, RestRoute } from '@rony/interface'
import { errorCodes, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { type ConnKind, FastifyResponder, type Responder, sendJson } from './connection.js'
import type { ResolvedOptions } from './options.js'
import { fastifyErrorAnswer, type HttpAnswer, jsonError } from './rest.js'

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
  /** Plugin mode: a request's head arrived; its body is due within `readTimeout`. */
  readStarted(raw: IncomingMessage, reply: FastifyReply): void
  /** Plugin mode: the request's body was read, or the request ended. */
  readEnded(raw: IncomingMessage): void
}

/** What a REST route adds to its request: the route and the values of its parameters. */
export type RestCall = RestRequest

const METHODS: readonly RestMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
const NO_BODY = new Uint8Array(0)

/** Writes a gateway-made JSON answer through Fastify. */
export function sendAnswer(reply: FastifyReply, answer: HttpAnswer): void {
  sendJson(new FastifyResponder(reply), answer)
}

/**
 * The media types of a body: a binary envelope with `application/x-protobuf`,
 * `application/octet-stream` or no Content-Type at all (what the Go client sends), a JSON
 * envelope with `application/json`. Anything else is answered 415 before the body is read.
 */
const BODY_TYPES: ReadonlyMap<string, 'binary' | 'json'> = new Map([
  ['application/x-protobuf', 'binary'],
  ['application/octet-stream', 'binary'],
  ['application/json', 'json'],
])

/** The envelope kind of a Content-Type header; undefined for a type the gateway does not take. */
export function bodyKindOf(contentType: string | undefined): 'binary' | 'json' | undefined {
  if (contentType === undefined) return 'binary'
  const semicolon = contentType.indexOf(';')
  const media = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim()
  return BODY_TYPES.get(media.toLowerCase())
}

/** Whether the request announces a body (Fastify parses nothing without one). */
function hasBody(request: FastifyRequest): boolean {
  const { 'content-length': length, 'transfer-encoding': chunked } = request.headers
  return chunked !== undefined || (length !== undefined && length !== '0')
}

function passBuffer(
  _request: FastifyRequest,
  body: Buffer,
  done: (e: null, b: Buffer) => void,
): void {
  done(null, body)
}

/** The methods the RPC endpoint answers: POST, and those of REST routes at the prefix. */
export function allowedMethods(routes: readonly RestRoute[]): readonly string[] {
  const taken = new Set<string>(['POST'])
  for (const route of routes) if (route.path === '/') taken.add(route.method)
  if (taken.has('GET')) taken.add('HEAD')
  return [...taken]
}

function methodNotAllowed(reply: FastifyReply, method: string, allow: readonly string[]): void {
  reply.header('allow', allow.join(', '))
  sendAnswer(
    reply,
    jsonError(405, 'E01', 'METHOD', `${method} is not allowed here: POST an envelope`),
  )
}

/** Fastify's errors in the gateway's routes (body limit, content type, …) as JSON `Error`s. */
export function errorHandler(bodyLimit: number) {
  return (error: unknown, _request: FastifyRequest, reply: FastifyReply): void => {
    sendAnswer(reply, fastifyErrorAnswer(error as { code?: unknown }, bodyLimit))
  }
}

/**
 * 404 with a JSON `Error`, or 405 for a method no route takes on the RPC endpoint.
 *
 * @param endpoint - the RPC endpoint's path (the gateway's `prefix`)
 */
export function notFoundHandler(endpoint: string, allow: readonly string[]) {
  return (request: FastifyRequest, reply: FastifyReply): void => {
    const path = request.url.split('?', 1)[0] ?? ''
    if (path === endpoint) {
      methodNotAllowed(reply, request.method, allow)
      return
    }
    sendAnswer(reply, jsonError(404, 'E01', 'ROUTE', `no route ${request.method} ${path}`))
  }
}

const MEDIA_OF: Readonly<Record<PayloadFormat, string>> = {
  json: 'application/json',
  binary: 'application/x-protobuf (or application/octet-stream, or no Content-Type)',
}

/**
 * 415 for a body whose media type is not the route's encoding (an empty body is no body);
 * 400 for a body on a GET route, which Fastify does not read (better refused than dropped).
 */
function wrongBody(
  route: RestRoute,
  request: FastifyRequest,
  body: Uint8Array,
): HttpAnswer | undefined {
  if (route.method === 'GET' && hasBody(request)) {
    const description = `GET ${route.path} takes no body: send its fields in the URL, or use a route with a body`
    return jsonError(400, 'E01', 'BODY', description)
  }
  const contentType = request.headers['content-type']
  if (body.byteLength === 0 || bodyKindOf(contentType) === route.encoding) return undefined
  const description = `${route.method} ${route.path} takes a body of ${MEDIA_OF[route.encoding]}, got ${contentType ?? 'no Content-Type'}`
  return jsonError(415, 'E01', 'CONTENT_TYPE', description)
}

/** A URL value as the route binds it: one string; a repeated query parameter is refused. */
function urlValue(source: unknown, param: string): string | string[] | undefined {
  if (source === null || typeof source !== 'object' || !Object.hasOwn(source, param))
    return undefined
  const value = (source as Record<string, unknown>)[param]
  return typeof value === 'string' || Array.isArray(value)
    ? (value as string | string[])
    : undefined
}

/**
 * The values of the route's parameters by field: every path parameter, then the bound query
 * parameters the request has. A string says why the request is refused.
 */
function restValues(
  route: RestRoute,
  params: unknown,
  query: unknown,
): Map<string, string> | string {
  const values = new Map<string, string>()
  for (const { param, field } of route.pathParams) {
    const value = urlValue(params, param)
    if (typeof value === 'string') values.set(field, value)
  }
  for (const { param, field } of route.queryParams) {
    const value = urlValue(query, param)
    if (Array.isArray(value)) return `the query parameter ${param} is given ${value.length} times`
    if (value !== undefined) values.set(field, value)
  }
  return values
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
 * whole server (then its root 404 and error handlers and Node's request deadline are the
 * gateway's, set where the server is made).
 */
export function gatewayPlugin(host: RouteHost, standalone: boolean) {
  return async function ronyHttpGateway(app: FastifyInstance): Promise<void> {
    const routes = host.routesToMount()
    checkRoutes(routes)
    const { bodyLimit, cors, prefix } = host.opts

    if (cors !== false) await app.register(fastifyCors, cors)

    app.removeAllContentTypeParsers()
    for (const type of BODY_TYPES.keys()) {
      app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit }, passBuffer)
    }
    // '*' is also the parser of a body without Content-Type; other types never reach it.
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, passBuffer)
    app.addHook('preParsing', async (request, _reply, payload) => {
      if (hasBody(request) && bodyKindOf(request.headers['content-type']) === undefined) {
        throw new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE()
      }
      return payload
    })
    if (!standalone) {
      // The app's server bounds the head; the gateway bounds the body (see readTimeout).
      app.addHook('onRequest', (request, reply, done) => {
        host.readStarted(request.raw, reply)
        done()
      })
      const ended = (request: FastifyRequest, _reply: unknown, done: () => void): void => {
        host.readEnded(request.raw)
        done()
      }
      app.addHook('preValidation', ended)
      app.addHook('onResponse', ended)
      app.addHook('onRequestAbort', (request, done) => ended(request, undefined, done))
    }
    const allow = allowedMethods(routes)
    app.setErrorHandler(errorHandler(bodyLimit))
    // Standalone, the app's root handlers are the gateway's; in a host app the gateway's 404
    // covers its prefix only (at '/' it would replace the app's own).
    if (!standalone && prefix !== '/') app.setNotFoundHandler(notFoundHandler(prefix, allow))

    app.route({
      method: 'POST',
      url: '/',
      handler(request, reply) {
        // No body at all (and no Content-Type): an empty binary envelope, as on other transports.
        const body = request.body instanceof Uint8Array ? request.body : NO_BODY
        const kind = bodyKindOf(request.headers['content-type']) ?? 'binary'
        host.exchange(request.raw, new FastifyResponder(reply), kind, body)
      },
    })

    // Every other method Fastify routes, on the RPC endpoint: 405 (OPTIONS is the CORS
    // preflight when enabled). Methods Fastify does not route (PROPFIND, TRACE…) reach the
    // not-found handler, which answers 405 there too.
    const notAllowed = app.supportedMethods.filter(
      (m) => !allow.includes(m) && !(m === 'OPTIONS' && cors !== false),
    )
    app.route({
      method: notAllowed,
      url: '/',
      exposeHeadRoute: false,
      handler(request, reply) {
        methodNotAllowed(reply, request.method, allow)
      },
    })

    for (const route of routes) {
      app.route({
        method: route.method,
        url: route.path,
        handler(request, reply) {
          const body = request.body instanceof Uint8Array ? request.body : NO_BODY
          const refused = wrongBody(route, request, body)
          const values = restValues(route, request.params, request.query)
          if (refused !== undefined) sendAnswer(reply, refused)
          else if (typeof values === 'string') {
            sendAnswer(reply, jsonError(400, 'E01', 'PARAM', values))
          } else {
            host.exchange(request.raw, new FastifyResponder(reply), 'rest', body, { route, values })
          }
        },
      })
    }

    // In a host app, closing the app stops the gateway (standalone, the gateway closes the app).
    if (!standalone) app.addHook('preClose', () => host.stop())
  }
}
