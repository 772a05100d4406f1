/**
 * @packageDocumentation
 *
 * `@rony/gateway-ws`: the WebSocket gateway of the Rony edge, on `ws`. Each binary frame
 * carries one protobuf envelope (or container) and goes to the edge as one message; the
 * edge's replies and pushes go back as binary frames. Every resource is bounded: message
 * size, connections, outbound queue per connection (backpressure, then 1008), idle time and
 * unanswered pings.
 *
 * Two ways to serve it:
 * - {@link wsGateway}: its own HTTP(S) server (or the upgrade handling of a server you own);
 * - {@link fastifyWsGateway}: a route of your Fastify app, through `@fastify/websocket`.
 *
 * @example
 * ```ts
 * import { createEdge } from '@rony/edge'
 * import { rony } from '@rony/envelope'
 * import { wsGateway } from '@rony/gateway-ws'
 *
 * const edge = createEdge({ id: 'n1', gateways: [wsGateway({ port: 8080, path: '/rpc' })] })
 * edge.handle(rony.KeyValue, async (req) => rony.KeyValue.create({ Key: req.Key, Value: req.Value }))
 * await edge.start() // clients connect to ws://127.0.0.1:8080/rpc
 * ```
 */

export {
  type FastifyInstanceLike,
  type FastifyWsGateway,
  type FastifyWsGatewayInit,
  fastifyWsGateway,
} from './fastify.js'
export { wsGateway } from './gateway.js'
export {
  type PerMessageDeflateInit,
  WS_GATEWAY_DEFAULTS,
  type WsConnectionInit,
  type WsGatewayInit,
} from './options.js'
