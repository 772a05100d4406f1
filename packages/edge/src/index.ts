/**
 * @packageDocumentation
 *
 * The Rony edge server: receives protobuf envelopes from any number of gateways
 * (WebSocket, HTTP, QUIC, in-memory) and dispatches each to a handler by its constructor
 * id; replies carry the request's id. Errors follow the Go framework: unknown constructor
 * `E01/HANDLER`, undecodable bytes `E01/ENVELOPE`, a handler that throws `E00/SERVER` (a
 * thrown `RonyError` keeps its code). Connections and the process survive all of them.
 *
 * @example
 * ```ts
 * import { createEdge } from '@rony/edge'
 * import { wsGateway } from '@rony/gateway-ws'
 * import { EchoRequest, EchoResponse } from './gen/echo.js'
 *
 * const edge = createEdge({ id: 'n1', gateways: [wsGateway({ port: 8080 })] })
 * edge.use(async (ctx, next) => {
 *   const started = performance.now()
 *   await next()
 *   console.log(ctx.ctor, performance.now() - started)
 * })
 * edge.handle(EchoRequest, (req) => EchoResponse.create({ text: req.text }))
 * await edge.start()
 * ```
 */

export type { ClusterInit, EdgeCluster, EdgeClusterEvents } from './cluster/cluster.js'
// The Directory behind `edge.cluster`, exported for tools and tests that read (or drive)
// edge records on a membership of their own; applications use `edge.cluster`.
export {
  type ClusterMember,
  Directory,
  type DirectoryEvents,
  type DirectoryInit,
  type EdgeMeta,
  edgesAnswer,
} from './cluster/index.js'
export type { FollowerPolicy } from './cluster/replicator.js'
export type { SessionLimits } from './cluster/sessions.js'
export type { ReplicatedState } from './cluster/state-machine.js'
export { type ExecuteOptions, type Handler, type Middleware, RequestContext } from './context.js'
export {
  createEdge,
  type EdgeEvents,
  type EdgeServer as Edge,
  type ServiceImplementation,
  type ServiceOptions,
  type StopOptions,
} from './edge.js'
export {
  type ConsoleLoggerInit,
  consoleLogger,
  disabledLogger,
  silentLogger,
} from './logger.js'
export {
  type MemoryClient,
  type MemoryConnectInit,
  type MemoryGateway,
  type MemoryGatewayInit,
  memoryGateway,
} from './memory-gateway.js'
export { DEFAULT_EDGE_LIMITS, type EdgeInit, type EdgeLimits } from './options.js'
export type {
  HandleOptions,
  HandlerMode,
  RawRequestType,
  ReadConsistency,
  RestBinding,
} from './registry.js'
