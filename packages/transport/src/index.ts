/**
 * @packageDocumentation
 *
 * `@rony/transport`: the networks Rony's gossip and Raft run on, behind the
 * `PacketTransport` and `StreamTransport` contracts of `@rony/interface`.
 *
 * - {@link udpTransport}: datagrams on `node:dgram` (IPv4 and IPv6).
 * - {@link tcpTransport}: reliable message streams on `node:net`, one socket per stream,
 *   varint length-prefixed frames, bounded buffers.
 * - {@link memoryNetwork}: an in-memory network with loss, delay, duplication, reordering,
 *   partitions and crashes, all scheduled on an injected clock and decided by a seeded
 *   random, so a simulation replays identically from its seed.
 * - {@link virtualClock}, {@link seededRandom}: the clock and random source for such
 *   simulations; {@link systemClock}, {@link systemRandom}: the real ones.
 * - {@link peerLinks}: one connection per peer over any stream transport, dialed on demand,
 *   redialed with backoff, with a bounded queue per peer (Raft's transport and the edge's
 *   inter-node tunnel run on it).
 * - {@link tunnel}: the inter-node tunnel, request/response between nodes on peer links
 *   over TCP (the `Tunnel` contract of `@rony/interface`): framed, bounded in flight.
 *
 * The memory network, clocks and random sources use no Node built-ins (they run in
 * browsers too); only the UDP and TCP transports do.
 *
 * @example
 * ```ts
 * import { memoryNetwork, seededRandom, virtualClock } from '@rony/transport'
 *
 * const clock = virtualClock()
 * const net = memoryNetwork({ clock, random: seededRandom(42), faults: { delay: { min: 1, max: 10 } } })
 * const a = net.packet('memory:a')
 * const b = net.packet('memory:b')
 * b.onPacket((data, from) => console.log(`b got ${data.length} bytes from ${from}`))
 * await a.start()
 * await b.start()
 * net.partition(['memory:a'], ['memory:b'])
 * a.send('memory:b', new Uint8Array([1])) // dropped: partitioned
 * net.heal()
 * a.send('memory:b', new Uint8Array([2])) // delivered within 10 ms of simulated time
 * await clock.advanceAsync(10)
 * ```
 */

export { type Isolation, isolation } from './isolation.js'
export {
  MAX_HELLO_FIELD_BYTES,
  type PeerHandshake,
  type PeerHello,
  peerHandshake,
} from './peer/handshake.js'
export type { SentFrame } from './peer/link.js'
export {
  type PeerAddress,
  type PeerLinks,
  type PeerLinksStats,
  peerLinks,
} from './peer/links.js'
export { PEER_LINKS_DEFAULTS, type PeerLinksInit } from './peer/options.js'
// The simulation half (no Node built-ins) is also its own entry, `@rony/transport/sim`.
export * from './sim.js'
export { TCP_DEFAULTS, type TcpTransportInit, tcpTransport } from './tcp/transport.js'
export { type TunnelFactoryInit, tunnel } from './tunnel/index.js'
export { TUNNEL_DEFAULTS, type TunnelInit } from './tunnel/options.js'
export { TUNNEL_PROTOCOL } from './tunnel/tunnel.js'
export {
  UDP_DEFAULTS,
  type UdpStats,
  type UdpTransport,
  type UdpTransportInit,
  udpTransport,
} from './udp.js'
