/**
 * `host:port` addresses of the IP transports: parsing, with IPv6 in brackets
 * (`[::1]:7946`), and formatting back, so that the address a transport reports, the `from`
 * of a packet and the string a peer dials are always the same spelling.
 */

/** A parsed `host:port`. */
export interface HostPort {
  /** Host name or IP literal, without brackets. */
  readonly host: string
  /** Port, 0–65535. */
  readonly port: number
}

/**
 * Parses `host:port` or `[ipv6]:port`.
 *
 * @returns `undefined` for anything else (no port, port out of range, empty host).
 */
export function parseHostPort(address: string): HostPort | undefined {
  let host: string
  let portText: string
  if (address.startsWith('[')) {
    const close = address.indexOf(']')
    if (close < 0 || address[close + 1] !== ':') return undefined
    host = address.slice(1, close)
    portText = address.slice(close + 2)
  } else {
    const colon = address.lastIndexOf(':')
    if (colon < 0) return undefined
    host = address.slice(0, colon)
    portText = address.slice(colon + 1)
    if (host.includes(':')) return undefined // a bare IPv6 literal needs brackets
  }
  if (host.length === 0 || !/^\d{1,5}$/.test(portText)) return undefined
  const port = Number(portText)
  if (port > 65535) return undefined
  return { host, port }
}

/** Formats `host` and `port` as `host:port`, bracketing IPv6 literals. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** Parses a required `bind` option, with an error that names the option. */
export function parseBind(bind: string, transport: string): HostPort {
  const parsed = parseHostPort(bind)
  if (parsed === undefined) {
    throw new TypeError(`${transport}: bind must be 'host:port' or '[ipv6]:port', got '${bind}'`)
  }
  return parsed
}
