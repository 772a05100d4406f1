/**
 * @packageDocumentation
 *
 * `@rony/gateway-quic`: the QUIC gateway of the Rony edge, on libp2p and
 * `@chainsafe/libp2p-quic`. A client opens one long-lived bidirectional stream of protocol
 * `/rony/1.0.0` and sends varint-length-prefixed protobuf envelopes (or containers) on it;
 * the edge's replies and server pushes come back the same way on the same stream. Every
 * resource is bounded: message size, connections, streams per connection, the outbound
 * queue per stream (backpressure, then close), idle time, and `stop()` itself, which a
 * stalled peer cannot hang.
 *
 * @example
 * ```ts
 * import { createEdge } from '@rony/edge'
 * import { rony } from '@rony/envelope'
 * import { quicGateway } from '@rony/gateway-quic'
 *
 * const gateway = quicGateway({ listen: ['/ip4/127.0.0.1/udp/4433/quic-v1'] })
 * const edge = createEdge({ id: 'n1', gateways: [gateway] })
 * edge.handle(rony.KeyValue, async (req) => rony.KeyValue.create({ Key: req.Key, Value: req.Value }))
 * await edge.start()
 * console.log(gateway.addresses()) // ['/ip4/127.0.0.1/udp/4433/quic-v1/p2p/12D3KooW…']
 * // createClient(gateway.addresses()[0]) from @rony/client dials it (Node only).
 * ```
 */

export { quicGateway } from './gateway.js'
export { QUIC_CLOSE_CODES, QUIC_GATEWAY_DEFAULTS, type QuicGatewayInit } from './options.js'
