import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os'
import { CodedError } from '@rony/interface'

/** Hosts that mean "every interface": a bind address, not one a peer can reach. */
const UNSPECIFIED = new Set(['0.0.0.0', '::', ''])

/**
 * Private IPv4 ranges, as go-sockaddr's `GetPrivateIP` (which memberlist uses) takes them:
 * RFC 1918 (10/8, 172.16/12, 192.168/16) and RFC 6598 shared address space (100.64/10).
 */
export function isPrivateIPv4(address: string): boolean {
  const o = address.split('.').map(Number)
  if (o.length !== 4 || o.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return false
  const [a, b] = o as [number, number, number, number]
  return (
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127)
  )
}

/**
 * The address to advertise for a transport bound at `bound` (`host:port` or `[ipv6]:port`):
 * `bound` itself, unless its host is unspecified (`0.0.0.0`, `::`): then the first private
 * IPv4 address of a non-internal interface, with the bound port, as memberlist does. Peers
 * on other hosts cannot reach `0.0.0.0:port`.
 *
 * No fallback to a public or loopback address: a public one would carry (possibly
 * unencrypted) gossip over the internet without being asked to, and loopback would quietly
 * make a cluster that no other host can join.
 *
 * @param interfaces - The machine's interfaces (`os.networkInterfaces()`; injected in tests).
 * @throws `CodedError` `RONY_ERR_NO_ADVERTISE_ADDRESS` when the host is unspecified and no
 *   interface has a private IPv4 address.
 */
export function advertiseAddress(
  bound: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string {
  const colon = bound.lastIndexOf(':')
  if (colon < 0) return bound // not an IP transport's address (a memory network's, say)
  const host = bound.slice(0, colon).replace(/^\[(.*)\]$/, '$1')
  if (!UNSPECIFIED.has(host)) return bound
  const port = bound.slice(colon + 1)
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4' && !info.internal && isPrivateIPv4(info.address)) {
        return `${info.address}:${port}`
      }
    }
  }
  throw new CodedError(
    `gossip: bound to ${bound}, which other hosts cannot reach, and no interface has a private IPv4 address to advertise instead: set \`advertise\` to the host:port peers reach this node at, or bind a specific address`,
    'RONY_ERR_NO_ADVERTISE_ADDRESS',
  )
}
