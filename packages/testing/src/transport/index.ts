/**
 * `@rony/testing/transport`: the compliance suites of the `PacketTransport` and
 * `StreamTransport` contracts of `@rony/interface`, which gossip and Raft run over. A
 * third-party transport runs them from one spec file, as the UDP, TCP and memory
 * transports of `@rony/transport` do. The tests talk to the transports only through the
 * interface and wait through a {@link Driver}: {@link realDriver} for sockets,
 * {@link virtualDriver} for a simulated network on a virtual clock; neither asserts on
 * elapsed time. Depends only on `@rony/interface` and `vitest`.
 *
 * @example
 * ```ts
 * // test/compliance.spec.ts of a transport
 * import { packetTransportSuite, realDriver, streamTransportSuite } from '@rony/testing/transport'
 * import { myPacketTransport, myStreamTransport } from '../src/index.js'
 *
 * packetTransportSuite('my packets', async () => ({
 *   a: myPacketTransport({ bind: '127.0.0.1:0' }),
 *   b: myPacketTransport({ bind: '127.0.0.1:0' }),
 *   driver: realDriver(),
 *   nowhere: '127.0.0.1:9', // nothing listens there
 * }))
 *
 * streamTransportSuite('my streams', async () => ({
 *   a: myStreamTransport({ bind: '127.0.0.1:0' }),
 *   b: myStreamTransport({ bind: '127.0.0.1:0' }),
 *   driver: realDriver(),
 *   nowhere: '127.0.0.1:9',
 * }))
 * ```
 *
 * @module
 */

export {
  type AdvanceableClock,
  collect,
  type Driver,
  payload,
  realDriver,
  rejection,
  virtualDriver,
} from './driver.js'
export { type PacketSetup, packetTransportSuite } from './packet-suite.js'
export { type StreamSetup, streamTransportSuite } from './stream-suite.js'
