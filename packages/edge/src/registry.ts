import {
  decodeMessage,
  type Envelope,
  type HandlerMode,
  type MessageRegistry,
  type MessageType,
  messageFromJson,
  parseJson,
  type ReadConsistency,
  RonyError,
} from '@rony/envelope'
import type { RestRoute } from '@rony/interface'
import type { Handler } from './context.js'
import { planRest, type RestBinding, type RestPlan } from './rest.js'

export type { RestBinding }

/** A request type given by constructor id and decoder instead of a protobufjs type. */
export interface RawRequestType<Req = unknown> {
  ctor: bigint
  decode(bytes: Uint8Array): Req
  /** For logs and errors. Default: the id. */
  name?: string
}

/**
 * Where a handler runs in a clustered edge (`cluster.consensus` set), and what a `read`
 * handler sees (`@rony/envelope`'s types, which generated service descriptors carry too):
 * - `'local'`: on the edge that received the request; nothing is replicated.
 * - `'replicated'`: the request is a command in the replica set's Raft log; every replica
 *   runs the handler in log order (it must be deterministic: `ctx.now()`, `ctx.random()`),
 *   and only the edge that received the request answers and pushes.
 * - `'read'`: on the edge that received it, against its replica's state; consistency
 *   `'linearizable'` (default) waits for a ReadIndex barrier, so the read reflects every
 *   replicated write acknowledged before it began; `'local'` reads what this replica has
 *   applied, which may lag the leader.
 */
export type { HandlerMode, ReadConsistency }

export interface HandleOptions {
  /** The reply type, so the handler may return plain objects instead of instances. */
  returns?: MessageType
  /**
   * Where the handler runs in a clustered edge; see {@link HandlerMode}. Default
   * `'local'`. `'replicated'` and `'read'` need `cluster.consensus`.
   */
  mode?: HandlerMode
  /** For `mode: 'read'`: see {@link ReadConsistency}. Default `'linearizable'`. */
  consistency?: ReadConsistency
  /**
   * Also serve the handler as a REST route on gateways that speak HTTP, as the Go
   * framework's `rony_rest`: `{ method: 'GET', path: '/users/:id' }` builds the request
   * message from the body (protobuf JSON; binary protobuf with `jsonEncode: false`), the
   * `:name` path parameters and the query parameters of `bindQueryParams`, and answers with
   * the reply in the same encoding (errors as JSON with the HTTP status of their code). See
   * {@link RestBinding}. Only for protobufjs types; declare it before `start()`.
   */
  rest?: RestBinding
}

/** A service method's own route: `C_<Service><Method>`, and `Service.Method` for people. */
export interface MethodRoute {
  readonly ctor: bigint
  readonly name: string
}

/** A registered handler: its request type and decoder, and its options. */
export interface HandlerEntry {
  readonly ctor: bigint
  readonly name: string
  readonly decode: (bytes: Uint8Array) => unknown
  /** The protobufjs request type, for JSON payloads; undefined for `{ ctor, decode }` types. */
  readonly type: MessageType | undefined
  readonly handler: Handler
  /** Type for replies given as plain objects. */
  readonly returns: MessageType | undefined
  /** The handler's REST binding, checked against its request type, if it has one. */
  readonly rest: RestPlan | undefined
  /** Where it runs in a clustered edge. */
  readonly mode: HandlerMode
  /** For `read` handlers: the consistency asked for. */
  readonly consistency: ReadConsistency
}

type RequestType = Pick<HandlerEntry, 'ctor' | 'name' | 'decode' | 'type'>

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * The handlers by constructor id, with their request types and options. Knows nothing of
 * connections or the wire: the edge's dispatcher and anything that runs requests (a
 * replica applying the log, a tunnel) look handlers up here.
 */
export class HandlerRegistry {
  private readonly handlers = new Map<bigint, HandlerEntry>()
  /** The built-in handlers, which an application may replace once. */
  private readonly builtins = new Set<HandlerEntry>()
  /** The handlers with a REST binding, by `METHOD path`. */
  private readonly routes = new Map<string, HandlerEntry>()

  constructor(
    /** Constructor id ↔ type, for request and reply types. */
    readonly messages: MessageRegistry,
  ) {}

  get(ctor: bigint): HandlerEntry | undefined {
    return this.handlers.get(ctor)
  }

  /**
   * Registers `handler` for requests of `type`. Throws `TypeError` for a constructor that
   * has a handler already, or for bad options. A handler added as a `builtin` (the edge's
   * Ping, GetNodes, GetAllNodes) may be replaced, once.
   */
  add<Req, Res>(
    type: MessageType<Req> | RawRequestType<Req>,
    handler: Handler<Req, Res>,
    options: HandleOptions,
    builtin = false,
    route?: MethodRoute,
  ): void {
    if (typeof handler !== 'function') throw new TypeError('handle: handler must be a function')
    const typed = isRawRequestType(type) ? rawType(type) : this.typedType(type)
    // A service method is routed by its own id (C_<Service><Method>), its payload typed as `type`.
    const request = route === undefined ? typed : { ...typed, ...route }
    const rest = options.rest === undefined ? undefined : this.planRoute(options.rest, request)
    const { mode, consistency } = checkMode(options)
    const existing = this.handlers.get(request.ctor)
    if (existing && !this.builtins.has(existing)) {
      throw new TypeError(
        `a handler for ${request.name} (constructor ${request.ctor}) already exists`,
      )
    }
    if (options.returns) this.messages.ensure(options.returns)
    const entry: HandlerEntry = {
      ...request,
      handler: handler as Handler,
      returns: options.returns,
      rest,
      mode,
      consistency,
    }
    this.handlers.set(entry.ctor, entry)
    if (existing?.rest) this.routes.delete(routeKey(existing.rest.route))
    if (rest) this.routes.set(routeKey(rest.route), entry)
    if (existing) this.builtins.delete(existing)
    if (builtin) this.builtins.add(entry)
  }

  /** The REST routes of the registered handlers, as gateways get them. */
  restRoutes(): RestRoute[] {
    return [...this.routes.values()].map((entry) => ({
      ...(entry.rest as RestPlan).route,
      cmd: entry.name,
    }))
  }

  /** The handler of a REST route, by its method and path. */
  restHandler(route: Pick<RestRoute, 'method' | 'path'>): HandlerEntry | undefined {
    return this.routes.get(routeKey(route))
  }

  /**
   * A constructor for people: `EchoRequest (634453994073422796)` when its handler or the
   * message registry knows its name, else `constructor 634453994073422796` (the id in
   * decimal, as the generated `C_…` constants, Go's and ours, spell it).
   */
  describe(ctor: bigint): string {
    const name = this.handlers.get(ctor)?.name ?? this.messages.get(ctor)?.name
    // A raw `{ ctor, decode }` type without a name is named by its id already.
    return name === undefined || name === String(ctor) ? `constructor ${ctor}` : `${name} (${ctor})`
  }

  private typedType(type: MessageType): RequestType {
    const { ctor, name } = this.messages.ensure(type)
    return { ctor, name, type, decode: (bytes) => decodeMessage(type, bytes, name) }
  }

  private planRoute(rest: RestBinding, request: RequestType): RestPlan {
    if (request.type === undefined) {
      throw new TypeError(
        `handle: ${request.name} has no JSON mapping, so it cannot have a REST route`,
      )
    }
    const plan = planRest(rest, request.type, request.name)
    const other = this.routes.get(routeKey(plan.route))
    if (other !== undefined && other.ctor !== request.ctor) {
      throw new TypeError(
        `handle: ${plan.route.method} ${plan.route.path} is already the route of ${other.name}`,
      )
    }
    return plan
  }
}

const routeKey = (route: Pick<RestRoute, 'method' | 'path'>): string =>
  `${route.method} ${route.path}`

/**
 * The request message of `envelope`, decoded by its handler's type. Throws a `RonyError`
 * for a payload that does not fit.
 */
export function decodeRequest(entry: HandlerEntry, envelope: Envelope): unknown {
  return entry.decode(
    envelope.jsonEncoded ? jsonPayload(entry, envelope.message) : envelope.message,
  )
}

/**
 * A `JsonEncoded` envelope's payload (protobuf JSON text) as binary protobuf of the
 * handler's request type. Replies stay binary, as in the Go framework.
 */
function jsonPayload(entry: HandlerEntry, bytes: Uint8Array): Uint8Array {
  if (entry.type === undefined) {
    throw new RonyError('E13', 'JSON', `${entry.name} takes binary protobuf only`, {
      code: 'RONY_ERR_JSON_UNSUPPORTED',
    })
  }
  let json: unknown
  try {
    json = parseJson(decoder.decode(bytes)) // exact past 2^53, for 64-bit fields
  } catch (cause) {
    throw new RonyError('E01', 'MESSAGE', `invalid JSON payload for ${entry.name}`, {
      code: 'RONY_ERR_INVALID_MESSAGE',
      cause,
    })
  }
  return messageFromJson(entry.type, entry.name, json)
}

const MODES: ReadonlySet<string> = new Set<HandlerMode>(['local', 'replicated', 'read'])
const CONSISTENCIES: ReadonlySet<string> = new Set<ReadConsistency>(['linearizable', 'local'])

function checkMode(options: HandleOptions): Pick<HandlerEntry, 'mode' | 'consistency'> {
  const { mode = 'local', consistency } = options
  if (!MODES.has(mode)) {
    throw new TypeError(`handle: mode must be one of ${[...MODES].join(', ')}, got ${String(mode)}`)
  }
  if (consistency !== undefined && mode !== 'read') {
    throw new TypeError(`handle: consistency applies to mode 'read' only, not '${mode}'`)
  }
  if (consistency !== undefined && !CONSISTENCIES.has(consistency)) {
    throw new TypeError(
      `handle: consistency must be one of ${[...CONSISTENCIES].join(', ')}, got ${String(consistency)}`,
    )
  }
  return { mode, consistency: consistency ?? 'linearizable' }
}

function isRawRequestType(type: unknown): type is RawRequestType {
  return typeof (type as RawRequestType).ctor === 'bigint'
}

function rawType(type: RawRequestType): RequestType {
  const name = type.name ?? String(type.ctor)
  return {
    ctor: type.ctor,
    name,
    type: undefined,
    decode: (bytes) => decodeMessage(type, bytes, name),
  }
}
