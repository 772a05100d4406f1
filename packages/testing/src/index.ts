/**
 * @packageDocumentation
 *
 * Compliance suites and helpers for testing Rony components. Each suite is a function
 * that registers vitest tests for one contract and asserts only through it; every
 * implementation runs it from one spec file with a small setup object.
 *
 * This entry holds the gateway suite and the edge helpers. The suites of the lower layers
 * are on subpaths that depend on `@rony/interface` only: `@rony/testing/startable`
 * (`Startable`), `@rony/testing/transport` (`PacketTransport`, `StreamTransport`) and
 * `@rony/testing/storage` (`LogStorage`); the linearizability checker,
 * `@rony/testing/linearizability`, depends on nothing.
 *
 * @example
 * ```ts
 * // packages/gateway-ws/test/compliance.spec.ts
 * import { gatewayComplianceSuite } from '@rony/testing'
 * import { wsGateway } from '../src/index.js'
 *
 * gatewayComplianceSuite('ws', {
 *   createGateway: ({ maxMessageSize }) => wsGateway({ port: 0, maxPayload: maxMessageSize }),
 *   connect: (address) => wsConnect(address), // a RawConnection over a `ws` socket
 * })
 * ```
 */

export {
  echoEnvelopeOfSize,
  type GatewaySuiteSetup,
  gatewayComplianceSuite,
} from './gateway-suite.js'
export { startTestEdge, type TestEdge } from './helpers.js'
export { memoryConnect } from './memory.js'
export { Echo, EchoReply, Fail, PushMany } from './messages.js'
export { type RawConnection, RawPeer, type Received } from './raw.js'
export {
  MAX_ECHO_DELAY_MS,
  MAX_PUSHES,
  registerTestServices,
  type ServiceProbe,
} from './services.js'
