import type * as http from 'node:http'
import type * as https from 'node:https'
import type { ZlibOptions } from 'node:zlib'
import { DEFAULT_LIMITS } from '@rony/envelope'
import { disabledLogger, integerOption, type Logger } from '@rony/interface'

/**
 * permessage-deflate parameters, as `ws` takes them (declared here so that this package's
 * types do not need `@types/ws`).
 */
export interface PerMessageDeflateInit {
  /** Do not keep the deflate context between messages sent. Default `false`. */
  serverNoContextTakeover?: boolean | undefined
  /** Ask the client not to keep its context between messages. Default `false`. */
  clientNoContextTakeover?: boolean | undefined
  /** Deflate window bits for what the server sends (8–15). Default 15. */
  serverMaxWindowBits?: number | undefined
  /** Window bits the client may use (8–15). Default 15. */
  clientMaxWindowBits?: number | undefined
  /** zlib options for compression. */
  zlibDeflateOptions?: Omit<ZlibOptions, 'dictionary'> | undefined
  /** zlib options for decompression. */
  zlibInflateOptions?: ZlibOptions | undefined
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024 bytes. */
  threshold?: number | undefined
  /** Concurrent zlib calls, process-wide. Default 10. */
  concurrencyLimit?: number | undefined
}

/**
 * Limits and timers shared by {@link WsGatewayInit} and `FastifyWsGatewayInit`: everything
 * that governs one connection, whichever server accepted it.
 */
export interface WsConnectionInit {
  /** Gateway name, used in logs and connection keys; unique within one edge. Default `'ws'`. */
  name?: string | undefined
  /**
   * URL path that accepts upgrades, exact match, query string ignored. Upgrades on other
   * paths are answered 404 and never reach the edge. Default `'/'`.
   */
  path?: string | undefined
  /**
   * Largest inbound message, in bytes, after reassembly of fragments. A bigger one closes the
   * connection with 1009 (message too big) before it is buffered whole.
   * Default `DEFAULT_LIMITS.maxEnvelopeBytes` (1 MiB).
   */
  maxPayload?: number | undefined
  /**
   * permessage-deflate: `true`, `false` or the `ws` options object. Compression costs CPU and
   * about 64 KiB of zlib memory per connection, and protobuf compresses poorly. Default `false`.
   */
  perMessageDeflate?: boolean | PerMessageDeflateInit | undefined
  /**
   * Milliseconds between server pings. A peer that has not answered the previous ping when
   * the next one is due is terminated (`onClose` with `initiator: 'local'`, code 1006, reason
   * `'keepalive timeout'`). `0` disables pings. Default `30_000` ms.
   */
  pingInterval?: number | undefined
  /**
   * Milliseconds without an inbound message after which the connection is closed with
   * 1000 `'idle timeout'` (pongs do not count). `0` disables it. Default `120_000` ms.
   */
  idleTimeout?: number | undefined
  /** Open connections beyond which upgrades are refused with HTTP 503. Default `10_000`. */
  maxConnections?: number | undefined
  /**
   * Outbound bytes queued on one connection above which `send` returns `false` and the
   * gateway stops reading from that socket until the queue drains to this level.
   * Default `1_048_576` bytes (1 MiB).
   */
  highWaterMark?: number | undefined
  /**
   * Outbound bytes queued on one connection above which the connection is closed with 1008
   * `'slow consumer'`. Must be at least `highWaterMark`. Default `8_388_608` bytes (8 MiB).
   */
  maxBufferedBytes?: number | undefined
  /**
   * Milliseconds a connection may take to finish its closing handshake after `close()`
   * before it is terminated. Default `5_000` ms.
   */
  closeTimeout?: number | undefined
  /**
   * Milliseconds `stop()` waits for connections to finish their closing handshake (1001
   * going away) before terminating the rest. Default `2_000` ms.
   */
  stopTimeout?: number | undefined
  /**
   * Logger, for example `components.logger.forComponent('rony:gateway-ws')`. Default: a
   * disabled logger (`enabled === false`) that formats nothing.
   */
  logger?: Logger | undefined
}

/** Options of {@link wsGateway}. */
export interface WsGatewayInit extends WsConnectionInit {
  /** Interface to listen on (ignored with `server`). Default `'127.0.0.1'`. */
  host?: string | undefined
  /** TCP port to listen on; `0` picks a free port (see `addresses()`). Default `0`. */
  port?: number | undefined
  /**
   * An existing HTTP(S) server to attach to instead of listening: the gateway handles its
   * upgrades on `path` and leaves other requests alone. The server's owner listens and
   * closes it; `stop()` only removes the gateway's upgrade handling and closes its
   * connections. Excludes `host`, `port` and `tls`. Default: none (standalone server).
   */
  server?: http.Server | https.Server | undefined
  /**
   * TLS options (`key`, `cert`, `ca`, …) for a standalone `wss://` server, passed to
   * `https.createServer`. Default: none (plain `ws://`).
   */
  tls?: https.ServerOptions | undefined
}

/** Every connection option, resolved. */
export interface ResolvedConnectionOptions {
  readonly name: string
  readonly path: string
  readonly maxPayload: number
  readonly perMessageDeflate: boolean | PerMessageDeflateInit
  readonly pingInterval: number
  readonly idleTimeout: number
  readonly maxConnections: number
  readonly highWaterMark: number
  readonly maxBufferedBytes: number
  readonly closeTimeout: number
  readonly stopTimeout: number
  readonly logger: Logger
}

/** The defaults of every numeric and string option, for documentation and tests. */
export const WS_GATEWAY_DEFAULTS = Object.freeze({
  name: 'ws',
  host: '127.0.0.1',
  port: 0,
  path: '/',
  maxPayload: DEFAULT_LIMITS.maxEnvelopeBytes,
  perMessageDeflate: false,
  pingInterval: 30_000,
  idleTimeout: 120_000,
  maxConnections: 10_000,
  highWaterMark: 1024 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  closeTimeout: 5_000,
  stopTimeout: 2_000,
})

/** Merges `init` over the defaults (without mutating it) and rejects nonsense early. */
export function resolveConnectionOptions(init: WsConnectionInit): ResolvedConnectionOptions {
  const d = WS_GATEWAY_DEFAULTS
  const path = init.path ?? d.path
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('?')) {
    throw new TypeError(`path must start with '/' and have no query, got ${String(path)}`)
  }
  const name = init.name ?? d.name
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('name must be non-empty')
  const highWaterMark = integerOption('highWaterMark', init.highWaterMark ?? d.highWaterMark, 1)
  const maxBufferedBytes = integerOption(
    'maxBufferedBytes',
    init.maxBufferedBytes ?? d.maxBufferedBytes,
    highWaterMark,
  )
  return {
    name,
    path,
    maxPayload: integerOption('maxPayload', init.maxPayload ?? d.maxPayload, 1),
    perMessageDeflate: init.perMessageDeflate ?? d.perMessageDeflate,
    pingInterval: integerOption('pingInterval', init.pingInterval ?? d.pingInterval, 0),
    idleTimeout: integerOption('idleTimeout', init.idleTimeout ?? d.idleTimeout, 0),
    maxConnections: integerOption('maxConnections', init.maxConnections ?? d.maxConnections, 1),
    highWaterMark,
    maxBufferedBytes,
    closeTimeout: integerOption('closeTimeout', init.closeTimeout ?? d.closeTimeout, 1),
    stopTimeout: integerOption('stopTimeout', init.stopTimeout ?? d.stopTimeout, 0),
    logger: init.logger ?? disabledLogger,
  }
}

/** Where a standalone or attached gateway gets its sockets. */
export type ServerOptions =
  | {
      readonly kind: 'standalone'
      readonly host: string
      readonly port: number
      readonly tls?: https.ServerOptions | undefined
    }
  | { readonly kind: 'attached'; readonly server: http.Server | https.Server }

/** Validates the server-related options of {@link WsGatewayInit}. */
export function resolveServerOptions(init: WsGatewayInit): ServerOptions {
  if (init.server !== undefined) {
    if (init.host !== undefined || init.port !== undefined || init.tls !== undefined) {
      throw new TypeError('server excludes host, port and tls: the server owner listens')
    }
    return { kind: 'attached', server: init.server }
  }
  const host = init.host ?? WS_GATEWAY_DEFAULTS.host
  if (typeof host !== 'string' || host.length === 0) throw new TypeError('host must be non-empty')
  const port = integerOption('port', init.port ?? WS_GATEWAY_DEFAULTS.port, 0, 65_535)
  return { kind: 'standalone', host, port, tls: init.tls }
}
