import type * as https from 'node:https'
import type { FastifyCorsOptions } from '@fastify/cors'
import { DEFAULT_LIMITS } from '@rony/envelope'
import { disabledLogger, integerOption, type Logger } from '@rony/interface'
import type { FastifyInstance } from 'fastify'

/** Options of {@link httpGateway}. Every field is optional; defaults in {@link HTTP_GATEWAY_DEFAULTS}. */
export interface HttpGatewayInit {
  /** Gateway name, used in logs and connection keys; unique within one edge. Default `'http'`. */
  name?: string | undefined
  /** Interface to listen on (standalone only). Default `'127.0.0.1'`. */
  host?: string | undefined
  /** TCP port to listen on (standalone only); `0` picks a free port, see `addresses()`. Default `0`. */
  port?: number | undefined
  /**
   * TLS options (`key`, `cert`, `ca`, …) for a standalone `https://` server, passed to Node's
   * `https.createServer` through Fastify. Default: none (plain `http://`).
   */
  tls?: https.ServerOptions | undefined
  /**
   * Your Fastify app, to mount the gateway into instead of listening itself (plugin mode).
   * The gateway registers an encapsulated plugin at `prefix` right away; Fastify loads it
   * when the app boots (`app.ready()` / `app.listen()`), which must happen after the edge
   * started (the REST routes are only known then). The app listens and closes; closing it
   * stops the gateway. Excludes `host`, `port`, `tls` and `keepAliveTimeout`. Default: none.
   */
  fastify?: FastifyInstance | undefined
  /**
   * URL path of the RPC endpoint (`POST {prefix}`), and the prefix of every REST route.
   * Must start with `/`. Default `'/'`.
   */
  prefix?: string | undefined
  /**
   * Largest request body, in bytes, on the RPC endpoint and on REST routes. A bigger body is
   * answered 413 before it is buffered whole and never reaches the edge.
   * Default `DEFAULT_LIMITS.maxEnvelopeBytes` (1 MiB).
   */
  bodyLimit?: number | undefined
  /**
   * CORS through `@fastify/cors`, for the gateway's routes only: `true` (any origin) or the
   * plugin's options object. Default `false` (no CORS headers, no preflight route).
   */
  cors?: boolean | FastifyCorsOptions | undefined
  /**
   * Milliseconds the edge has to answer a request. Past it the request is answered 504 with
   * a JSON error and its connection closes (the handler's `ctx.signal` aborts).
   * Default `30_000` ms.
   */
  requestTimeout?: number | undefined
  /**
   * Milliseconds a request has to arrive whole: its head and body together, from the
   * request's first byte to the end of its body. Past it the client gets 408 with a JSON
   * `Error` (E06/TIMEOUT) where a response can still be written, and the socket is closed,
   * so a client trickling its body cannot hold a socket and a request slot. Standalone, the
   * gateway's server enforces it (Node's `requestTimeout`, checked every
   * `min(readTimeout / 4, 1 s)`); in plugin mode the app's server owns the request head
   * (set its `requestTimeout` / `headersTimeout`), and the gateway bounds the body of its
   * routes: `readTimeout` from the head's arrival. Default `10_000` ms.
   */
  readTimeout?: number | undefined
  /**
   * Milliseconds an idle keep-alive socket stays open between requests (standalone only;
   * in plugin mode the app's setting applies). Default `72_000` ms (Fastify's default).
   */
  keepAliveTimeout?: number | undefined
  /** Requests in flight (each one is a connection for the edge) beyond which requests are answered 503. Default `10_000`. */
  maxConnections?: number | undefined
  /**
   * Milliseconds `stop()` waits for answered responses to be written before destroying
   * their sockets. Requests still unanswered when `stop()` runs are answered 503 at once.
   * Default `2_000` ms.
   */
  stopTimeout?: number | undefined
  /**
   * Logger, for example `components.logger.forComponent('rony:gateway-http')`. Default: a
   * disabled logger (`enabled === false`) that formats nothing.
   */
  logger?: Logger | undefined
}

/** The defaults of every numeric and string option, for documentation and tests. */
export const HTTP_GATEWAY_DEFAULTS = Object.freeze({
  name: 'http',
  host: '127.0.0.1',
  port: 0,
  prefix: '/',
  bodyLimit: DEFAULT_LIMITS.maxEnvelopeBytes,
  cors: false,
  requestTimeout: 30_000,
  readTimeout: 10_000,
  keepAliveTimeout: 72_000,
  maxConnections: 10_000,
  stopTimeout: 2_000,
})

/** Where the gateway's routes live: its own Fastify server, or the caller's app. */
export type Mount =
  | {
      readonly kind: 'standalone'
      readonly host: string
      readonly port: number
      readonly tls: https.ServerOptions | undefined
      readonly keepAliveTimeout: number
    }
  | { readonly kind: 'plugin'; readonly app: FastifyInstance }

/** Every option, resolved. */
export interface ResolvedOptions {
  readonly name: string
  readonly mount: Mount
  readonly prefix: string
  readonly bodyLimit: number
  readonly cors: false | FastifyCorsOptions
  readonly requestTimeout: number
  readonly readTimeout: number
  readonly maxConnections: number
  readonly stopTimeout: number
  readonly logger: Logger
}

/** `'/api/'` → `'/api'`; `'/'` stays. */
function normalizePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !prefix.startsWith('/') || /[?#*:]/.test(prefix)) {
    throw new TypeError(
      `prefix must start with '/' and have no query, ':' or '*', got ${String(prefix)}`,
    )
  }
  const trimmed = prefix.replace(/\/{2,}/g, '/').replace(/\/+$/, '')
  return trimmed === '' ? '/' : trimmed
}

function resolveMount(init: HttpGatewayInit): Mount {
  const d = HTTP_GATEWAY_DEFAULTS
  if (init.fastify !== undefined) {
    const { host, port, tls, keepAliveTimeout } = init
    if (
      host !== undefined ||
      port !== undefined ||
      tls !== undefined ||
      keepAliveTimeout !== undefined
    ) {
      throw new TypeError('fastify excludes host, port, tls and keepAliveTimeout: the app listens')
    }
    if (typeof init.fastify.register !== 'function') {
      throw new TypeError('fastify must be a Fastify instance')
    }
    return { kind: 'plugin', app: init.fastify }
  }
  const host = init.host ?? d.host
  if (typeof host !== 'string' || host.length === 0) throw new TypeError('host must be non-empty')
  return {
    kind: 'standalone',
    host,
    port: integerOption('port', init.port ?? d.port, 0, 65_535),
    tls: init.tls,
    keepAliveTimeout: integerOption(
      'keepAliveTimeout',
      init.keepAliveTimeout ?? d.keepAliveTimeout,
      1,
    ),
  }
}

/** Merges `init` over the defaults (without mutating it) and rejects nonsense early. */
export function resolveOptions(init: HttpGatewayInit): ResolvedOptions {
  const d = HTTP_GATEWAY_DEFAULTS
  const name = init.name ?? d.name
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('name must be non-empty')
  const cors = init.cors ?? d.cors
  if (typeof cors !== 'boolean' && (typeof cors !== 'object' || cors === null)) {
    throw new TypeError('cors must be a boolean or an @fastify/cors options object')
  }
  return {
    name,
    mount: resolveMount(init),
    prefix: normalizePrefix(init.prefix ?? d.prefix),
    bodyLimit: integerOption('bodyLimit', init.bodyLimit ?? d.bodyLimit, 1),
    cors: cors === true ? {} : cors === false ? false : { ...cors },
    requestTimeout: integerOption('requestTimeout', init.requestTimeout ?? d.requestTimeout, 1),
    readTimeout: integerOption('readTimeout', init.readTimeout ?? d.readTimeout, 1),
    maxConnections: integerOption('maxConnections', init.maxConnections ?? d.maxConnections, 1),
    stopTimeout: integerOption('stopTimeout', init.stopTimeout ?? d.stopTimeout, 0),
    logger: init.logger ?? disabledLogger,
  }
}
