import { EventEmitter } from 'node:events'
import {
  type AnyMethodDescriptor,
  createRegistry,
  type InputOf,
  type MessageRegistry,
  type MessageType,
  type OutputOf,
  RonyError,
  rony,
  type ServiceDescriptor,
} from '@rony/envelope'
import {
  type CloseReason,
  type Gateway,
  type GatewayConn,
  type GatewayHandlers,
  Lifecycle,
  type Logger,
  type RequestMeta,
  type RestMethod,
  type RestRoute,
  type Startable,
} from '@rony/interface'
import { type EdgeCluster, EdgeClusterNode } from './cluster/cluster.js'
import type { ReplicaSetKey } from './cluster/edges.js'
import { ConnectionState, EMPTY_HEADERS } from './connection.js'
import type { Handler, Middleware, RequestContext } from './context.js'
import { Dispatcher } from './dispatcher.js'
import { consoleLogger } from './logger.js'
import {
  checkTimeout,
  type EdgeInit,
  type EdgeLimits,
  resolveEdgeLimits,
  validateInit,
} from './options.js'
import { Pipeline } from './pipeline.js'
import {
  type HandleOptions,
  HandlerRegistry,
  type MethodRoute,
  type RawRequestType,
} from './registry.js'
import { goRestPath } from './rest.js'
import { WorkCounter } from './work.js'

/** Events of an edge (Node `EventEmitter`). */
export interface EdgeEvents {
  /** A client connected through one of the gateways. */
  'connection:open': [conn: GatewayConn, gateway: string]
  /** A client connection closed. */
  'connection:close': [conn: GatewayConn, reason: CloseReason]
  /** A handler threw something other than a `RonyError` (the client got E00/SERVER). */
  'handler:error': [error: unknown, ctx: RequestContext]
}

/** Options of `edge.service`. */
export interface ServiceOptions {
  /**
   * Also route each method by its request message's own id, as `edge.handle` does.
   * `false` when two methods share a request type. Default `true`.
   */
  byRequestType?: boolean
}

/**
 * The implementation of a generated service: for each method (lower camel case, as in the
 * descriptor), a handler of its request message that returns its response message.
 */
export type ServiceImplementation<M extends Readonly<Record<string, AnyMethodDescriptor>>> = {
  readonly [K in keyof M]: Handler<InputOf<M[K]>, OutputOf<M[K]>>
}

export interface StopOptions {
  /** Overrides `limits.stopTimeout` for this stop, in ms. */
  timeout?: number
  /**
   * Whether a clustered edge leaves its cluster gracefully (default `true`): others see it
   * `left`, and its replica set takes it out of its group (when it leads, it takes itself
   * out first). `false` is for a restart: others see it fail and wait for it, and it keeps
   * its vote; started again on its data directory, it rejoins as it was.
   */
  leave?: boolean
}

/** The edge server; build it with `createEdge`. */
export class EdgeServer extends EventEmitter<EdgeEvents> implements Startable {
  readonly id: string
  readonly registry: MessageRegistry
  readonly limits: Readonly<EdgeLimits>
  private readonly gateways: readonly Gateway[]
  private readonly handlers: HandlerRegistry
  private readonly middleware: Middleware[] = []
  private readonly connections = new Map<GatewayConn, ConnectionState>()
  private readonly work = new WorkCounter()
  private readonly dispatcher: Dispatcher
  private readonly log: Logger
  private readonly clusterNode: EdgeClusterNode | undefined
  /** Where the lifecycle is, for what may be changed and who may connect. */
  private state: 'idle' | 'starting' | 'started' | 'stopping' = 'idle'
  /** The shared start/stop bookkeeping; the edge supplies the two steps. */
  private readonly lifecycle = new Lifecycle({
    start: () => this.startGateways(),
    stop: () => this.shutdown(),
  })
  /** The timeout of the stop under way (or about to run), in ms. */
  private stopTimeout: number
  /** Whether the stop under way (or about to run) leaves the cluster gracefully. */
  private leaveOnStop = true

  constructor(init: EdgeInit) {
    super()
    validateInit(init)
    this.id = init.id
    this.gateways = [...init.gateways]
    this.limits = Object.freeze(resolveEdgeLimits(init.limits))
    this.stopTimeout = this.limits.stopTimeout
    this.registry = init.registry ?? createRegistry()
    const logger = init.logger ?? consoleLogger()
    this.log = logger.forComponent(`rony:edge:${init.id}`)
    this.handlers = new HandlerRegistry(this.registry)
    const pipeline = new Pipeline(this.id, this.handlers, this.middleware, this.work, this.log, {
      handlerError: (error, ctx) => this.reportHandlerError(error, ctx),
    })
    this.dispatcher = new Dispatcher(this.handlers, pipeline, this.work, this.limits, this.log)
    this.clusterNode =
      init.cluster &&
      new EdgeClusterNode(init.cluster, {
        id: this.id,
        logger,
        addresses: () => this.addresses(),
        handlers: this.handlers,
        pipeline,
        work: this.work,
        limits: this.limits,
        dispatch: (envelope, origin, sink) =>
          this.dispatcher.dispatchEnvelope(origin, envelope, sink),
      })
    if (this.clusterNode?.replicated) this.dispatcher.modes = this.clusterNode
    this.handlers.add(rony.Ping, (ping) => rony.Pong.create({ ID: ping.ID }), {}, true)
    this.handlers.add(rony.GetNodes, (req) => this.edges(req.ReplicaSet ?? []), {}, true)
    this.handlers.add(rony.GetAllNodes, () => this.edges('all'), {}, true)
  }

  /**
   * The cluster as this edge sees it: every edge, each replica set and its leader, and
   * `cluster:member`/`cluster:leader` events. `undefined` on a single-node edge (no
   * `cluster` option).
   */
  get cluster(): EdgeCluster | undefined {
    return this.clusterNode
  }

  /**
   * Routes requests of `type` to `handler`. `type` is a protobufjs type (generated class or
   * reflected `Type`), or `{ ctor, decode }`. Registering a constructor twice throws.
   */
  handle<Req, Res = unknown>(
    type: MessageType<Req> | RawRequestType<Req>,
    handler: Handler<Req, Res>,
    options: HandleOptions = {},
  ): this {
    this.register(type as MessageType | RawRequestType, handler as Handler, options)
    return this
  }

  /**
   * Serves a generated service (`rony gen`): each method of `service` is answered by the
   * method of `impl` of the same name, typed by its request and response messages. A
   * method is routed by its own id, `C_<Service><Method>` (as the Go framework's clients
   * send it), and, unless `byRequestType: false`, by its request message's id too (as
   * `edge.handle` would). The mode (`rony_mode`) and the REST route (`rony_rest`: method,
   * path, `bind_path_param`, `bind_query_param`, `json_encode`, read as Go reads them; the
   * route runs the method under `C_<Service><Method>`) come from the method's options.
   * Throws `TypeError` for a method `impl` lacks, for a REST binding that does not fit the
   * request type (a bind naming a path parameter the path lacks or a field the message
   * lacks), and as `handle` does.
   */
  service<M extends Readonly<Record<string, AnyMethodDescriptor>>>(
    service: ServiceDescriptor<M>,
    impl: ServiceImplementation<M>,
    options: ServiceOptions = {},
  ): this {
    const byRequestType = options.byRequestType ?? true
    for (const [key, method] of Object.entries(service.methods)) {
      const handler = (impl as Record<string, Handler | undefined>)[key]
      if (typeof handler !== 'function') {
        throw new TypeError(`service ${service.name}: the implementation has no ${key}()`)
      }
      const { mode, consistency, rest } = method.options
      const handleOptions: HandleOptions = {
        returns: method.output,
        mode,
        ...(mode === 'read' ? { consistency } : {}),
      }
      const route = { ctor: method.ctor, name: `${service.name}.${method.name}` }
      // The REST route runs the method itself, under C_<Service><Method>, as Go's does.
      const withRest =
        rest === undefined
          ? {}
          : { rest: { ...rest, method: rest.method as RestMethod, path: goRestPath(rest.path) } }
      this.register(method.input, handler, { ...handleOptions, ...withRest }, route)
      if (byRequestType) this.register(method.input, handler, handleOptions)
    }
    return this
  }

  /** `handle` and `service`'s registration, with their checks. */
  private register(
    type: MessageType | RawRequestType,
    handler: Handler,
    options: HandleOptions,
    route?: MethodRoute,
  ): void {
    if (options.rest !== undefined && this.state !== 'idle') {
      throw new Error('handle: declare REST routes before start()')
    }
    const mode = options.mode ?? 'local'
    if (mode !== 'local' && !this.clusterNode?.replicated) {
      throw new TypeError(
        `handle: mode '${String(mode)}' needs a replica set: give createEdge a cluster with consensus`,
      )
    }
    this.handlers.add(type, handler, options, false, route)
  }

  /** The REST routes of the registered handlers, as gateways get them. */
  restRoutes(): RestRoute[] {
    return this.handlers.restRoutes()
  }

  /** Adds a koa-style middleware; they run in the order added, around every handler. */
  use(middleware: Middleware): this {
    if (typeof middleware !== 'function') throw new TypeError('use: middleware must be a function')
    if (this.state !== 'idle') throw new Error('use: add middleware before start()')
    this.middleware.push(middleware)
    return this
  }

  /** Open client connections, across all gateways. */
  get connectionCount(): number {
    return this.connections.size
  }

  /** Where clients can connect: every gateway's addresses. Empty before `start()`. */
  addresses(): string[] {
    return this.gateways.flatMap((gateway) => gateway.addresses())
  }

  /**
   * Starts every gateway (calling their optional `beforeStart`/`afterStart` hooks). If one
   * fails, the started ones are stopped again and the error is thrown (a later `start()`
   * tries again). Concurrent calls share one start; a `start()` during a `stop()` starts
   * again once the stop is over, and an edge may be started again after `stop()`.
   */
  start(): Promise<void> {
    return this.lifecycle.start()
  }

  private async startGateways(): Promise<void> {
    this.state = 'starting'
    this.work.reset()
    const started: Gateway[] = []
    try {
      for (const gateway of this.gateways) gateway.attach(this.handlersFor(gateway.name))
      await eachGateway(this.gateways, (gateway) => gateway.beforeStart?.())
      for (const gateway of this.gateways) {
        await gateway.start()
        started.push(gateway)
      }
      await eachGateway(this.gateways, (gateway) => gateway.afterStart?.())
      // Joined once clients can connect, so the addresses it publishes answer.
      await this.clusterNode?.start()
    } catch (error) {
      await settleGateways(started, (gateway) => gateway.stop())
      this.state = 'idle'
      throw error
    }
    this.state = 'started'
    if (this.log.enabled) this.log('started on %s', this.addresses().join(', '))
  }

  /**
   * Graceful stop: new requests are answered E02/SERVER, running handlers get up to
   * `stopTimeout` ms to finish, then their `ctx.signal` aborts and every gateway stops
   * (closing its connections; `beforeStop`/`afterStop` hooks around it). Resolves when
   * every socket and timer is released; rejects with the first gateway failure, after
   * stopping the others. A `stop()` during `start()` waits for the start, then stops, so
   * no gateway is left listening; concurrent calls share one stop.
   */
  stop(options: StopOptions = {}): Promise<void> {
    const timeout = checkTimeout(options.timeout ?? this.limits.stopTimeout, 'stop timeout')
    // The timeout of the shutdown this call starts (or that starts after a start in
    // progress); a stop already under way keeps its own.
    if (this.state !== 'stopping') {
      this.stopTimeout = timeout
      this.leaveOnStop = options.leave ?? true
    }
    return this.lifecycle.stop()
  }

  private async shutdown(): Promise<void> {
    const timeout = this.stopTimeout
    this.state = 'stopping'
    this.work.draining = true
    const failures: unknown[] = []
    try {
      // Leave while draining, so the other edges stop sending clients here meanwhile.
      const leaving = this.clusterNode
        ?.leave(this.leaveOnStop)
        .catch((error: unknown) => failures.push(error))
      const idle = await this.work.whenIdle(timeout)
      if (!idle) {
        this.log.warn(
          'stop: %d handlers still running after %d ms: aborting their ctx.signal',
          this.work.running,
          timeout,
        )
      }
      const reason = new RonyError('E02', 'SERVER', 'the server stopped', {
        code: 'RONY_ERR_STOPPED',
      })
      for (const state of this.connections.values()) state.abort(() => reason)
      // Gateways stop only after the leave: until the others hear of it they may still send
      // clients here, who then get a clear E02 rather than a refused connection.
      await leaving
      failures.push(
        ...(await settleGateways(this.gateways, (gateway) => gateway.beforeStop?.())),
        ...(await settleGateways(this.gateways, (gateway) => gateway.stop())),
        ...(await settleGateways(this.gateways, (gateway) => gateway.afterStop?.())),
      )
      // Last, so the requests that drained could still reach the replica set.
      await this.clusterNode?.stop().catch((error: unknown) => failures.push(error))
      if (failures.length > 0) throw failures[0]
    } finally {
      this.connections.clear()
      this.state = 'idle'
    }
  }

  private handlersFor(gateway: string): GatewayHandlers {
    return {
      restRoutes: this.restRoutes(),
      onConnect: (conn) => {
        if (this.state === 'stopping') return conn.close(1001, 'server shutting down')
        if (this.connections.size >= this.limits.maxConnections) {
          return conn.close(1013, 'too many connections, try again later')
        }
        this.connections.set(conn, new ConnectionState(conn, gateway, EMPTY_HEADERS))
        this.emit('connection:open', conn, gateway)
      },
      onMessage: (conn, data, meta: RequestMeta) => {
        const state = this.connections.get(conn)
        if (!state) return
        state.headers = meta.headers
        if (meta.rest === undefined) this.dispatcher.dispatchFrame(state, data, meta.format)
        else this.dispatcher.dispatchRest(state, data, meta.rest)
      },
      onClose: (conn, reason) => {
        const state = this.connections.get(conn)
        if (!state) return
        this.connections.delete(conn)
        state.abort(connectionClosed)
        this.emit('connection:close', conn, reason)
      },
    }
  }

  /** The `Edges` answer: the cluster's, or this single node with replica set 0. */
  private edges(replicaSets: readonly ReplicaSetKey[] | 'all'): rony.Edges {
    if (this.clusterNode) return this.clusterNode.edges(replicaSets)
    return rony.Edges.create({
      Nodes: [{ ReplicaSet: 0, ServerID: this.id, HostPorts: this.addresses() }],
    })
  }

  private reportHandlerError(error: unknown, ctx: RequestContext): void {
    if (this.log.error.enabled) {
      this.log.error('handler for %s failed: %O', this.handlers.describe(ctx.ctor), error)
    }
    this.emit('handler:error', error, ctx)
  }
}

/** Runs `step` on each gateway in order; the first failure rejects (sync throws included). */
async function eachGateway(
  gateways: readonly Gateway[],
  step: (gateway: Gateway) => void | Promise<void>,
): Promise<void> {
  for (const gateway of gateways) await step(gateway)
}

/** Runs `step` on every gateway concurrently, whatever fails; returns the failures. */
async function settleGateways(
  gateways: readonly Gateway[],
  step: (gateway: Gateway) => void | Promise<void>,
): Promise<unknown[]> {
  const results = await Promise.allSettled(gateways.map(async (gateway) => step(gateway)))
  return results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []))
}

const connectionClosed = (): RonyError => new RonyError('E02', 'CONNECTION', 'connection closed')

/** Builds an edge server. Nothing listens until `start()`. */
export function createEdge(init: EdgeInit): EdgeServer {
  return new EdgeServer(init)
}
