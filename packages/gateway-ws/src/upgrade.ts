/** Taking an HTTP upgrade: routing, refusing, the ws server options, addresses and headers. */
import type { IncomingHttpHeaders } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { type ServerOptions, WebSocketServer } from 'ws'
import type { ResolvedConnectionOptions } from './options.js'

/** `host:port`, with IPv6 hosts in brackets (`[::1]:8080`). */
export function hostPort(host: string | undefined, port: number | undefined): string {
  const h = host ?? 'unknown'
  return `${h.includes(':') ? `[${h}]` : h}:${port ?? 0}`
}

/** `ws://127.0.0.1:8080/path` for a bound address; `undefined` for a pipe or no address. */
export function wsUrl(
  address: AddressInfo | string | null,
  secure: boolean,
  path: string,
): string | undefined {
  if (address === null || typeof address === 'string') return undefined
  return `${secure ? 'wss' : 'ws'}://${hostPort(address.address, address.port)}${path}`
}

/** The path of a request URL, without its query string. Allocation-free when there is none. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/'
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

const EMPTY_HEADERS: ReadonlyMap<string, string> = new Map()

/**
 * Headers that only carry the WebSocket handshake itself. They say nothing a handler can
 * use, and an idle edge holds one map per connection, so they are left out of it.
 */
const HANDSHAKE_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'upgrade',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
])

/**
 * The upgrade request's headers as the contract wants them: lower-case names (Node already
 * lower-cases them), repeated values joined with `', '` (Node joins most already; arrays
 * such as `set-cookie` are joined here), without the handshake-only headers. Built once per
 * connection and shared by all of its messages.
 */
export function headerMap(headers: IncomingHttpHeaders): ReadonlyMap<string, string> {
  const map = new Map<string, string>()
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || HANDSHAKE_HEADERS.has(name)) continue
    map.set(name, typeof value === 'string' ? value : value.join(', '))
  }
  return map.size === 0 ? EMPTY_HEADERS : map
}

function destroyOnError(this: Duplex): void {
  this.destroy()
}

/**
 * Refuses an upgrade with a plain HTTP response and closes the socket, as `ws` does for
 * handshakes it rejects. Node removes its own socket error listener before emitting
 * 'upgrade', so one is added here: a peer that resets meanwhile must not crash the process.
 */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  socket.on('error', destroyOnError)
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const body = `${message}\n`
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  )
}

/**
 * The `ws` server options both gateways use: the limits from the gateway's options, and
 * `noServer`, since the gateways route upgrades themselves. `closeTimeout` (recent ws 8.x,
 * not yet in @types/ws) makes ws drop a socket whose closing handshake stalls; the
 * gateway's sweep enforces the same deadline for sockets from a ws server it did not build.
 */
export function wsServerOptions(opts: ResolvedConnectionOptions): ServerOptions {
  const options: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    clientTracking: false,
    maxPayload: opts.maxPayload,
    perMessageDeflate: opts.perMessageDeflate,
    closeTimeout: opts.closeTimeout,
  }
  return options
}

/** A `noServer` ws server configured from the gateway's options. */
export function createWsServer(opts: ResolvedConnectionOptions): WebSocketServer {
  return new WebSocketServer(wsServerOptions(opts))
}
