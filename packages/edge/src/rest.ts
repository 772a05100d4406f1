/**
 * REST bindings, as the Go framework's `rony_rest` option defines them: checked against the
 * request type when a handler is registered, and at request time the request message built
 * from the HTTP body and the URL values the gateway read.
 *
 * Go's rules, kept: every `:name` of the path fills the field `name` unless
 * `bindPathParams` says `name=Field`; query parameters fill fields only through
 * `bindQueryParams` (`q=Field`); the body is read first (protobuf JSON when `jsonEncode`,
 * else binary protobuf), then path values, then query values. Unlike Go (which turned
 * `"12abc"` into 0 and never bound bools or enums), every value is converted to its field's
 * type exactly or the request is answered E01.
 */
import {
  hasJsonMapping,
  type JsonMessageType,
  type MessageType,
  messageFromJson,
  messageToJson,
  parseJson,
  RonyError,
} from '@rony/envelope'
import type { PayloadFormat, RestMethod, RestParam, RestRoute } from '@rony/interface'

/** A handler's REST route (`edge.handle`'s `rest` option; `rony_rest` for a service method). */
export interface RestBinding {
  method: RestMethod
  /** Relative to the HTTP gateway's prefix; `:name` segments are path parameters. */
  path: string
  /** `param=Field`: path parameter `param` fills field `Field`. Default: each `:name` fills `name`. */
  bindPathParams?: readonly string[]
  /** `param=Field`: query parameter `param` fills field `Field`. Default: none. */
  bindQueryParams?: readonly string[]
  /**
   * Body and answer in protobuf JSON (`application/json`); `false`: binary protobuf
   * (`application/x-protobuf`). Default `true` for `edge.handle`; a service method's
   * `rony_rest` says it (Go's default, `false`).
   */
  jsonEncode?: boolean
}

/** The scalar kinds a URL value can fill; REST binds nothing else (as Go). */
type FieldKind = 'string' | 'bytes' | 'int64' | 'number' | 'bool' | 'enum'

/** A REST binding checked against its request type, ready to build requests. */
export interface RestPlan {
  /** What the gateways get (with the handler's name as `cmd`). */
  readonly route: Omit<RestRoute, 'cmd'>
  readonly type: JsonMessageType
  /** Per bound field: its kind, and where its value comes from, for errors. */
  readonly fields: ReadonlyMap<string, { readonly kind: FieldKind; readonly source: string }>
}

const METHODS: ReadonlySet<string> = new Set<RestMethod>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
/** protobufjs conversion options of protobuf's JSON mapping, with every field present. */
const SHAPE_OPTIONS = {
  longs: String,
  enums: String,
  bytes: String,
  json: true,
  defaults: true,
  arrays: true,
  objects: true,
} as const
const INTEGER = /^-?\d+$/
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/
const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Checks `binding` against the request type `type` (named `name` in errors) and resolves
 * its parameters. Throws `TypeError` for a bad method or path, a bind naming a path
 * parameter the path lacks or a field the message lacks, a field that is not a scalar, or a
 * field bound twice.
 */
export function planRest(binding: RestBinding, type: MessageType, name: string): RestPlan {
  const fail = (why: string): never => {
    throw new TypeError(`REST binding of ${name}: ${why}`)
  }
  if (!hasJsonMapping(type)) fail('its request type has no JSON mapping (a { ctor, decode } type)')
  const json = type as JsonMessageType
  const method = typeof binding.method === 'string' ? binding.method.toUpperCase() : ''
  if (!METHODS.has(method)) {
    fail(`method must be one of ${[...METHODS].join(', ')}, got ${String(binding.method)}`)
  }
  const { path } = binding
  if (typeof path !== 'string' || !path.startsWith('/')) {
    fail(`path must start with '/', got ${String(path)}`)
  }
  const shape = json.toObject(json.fromObject({}), SHAPE_OPTIONS)
  const fields = new Map<string, { kind: FieldKind; source: string }>()
  const bind = (param: string, field: string, source: string): RestParam => {
    const resolved = resolveField(shape, field) ?? fail(`${source} names no field ${field}`)
    const kind =
      kindOf(json, shape, resolved) ??
      fail(`field ${resolved} (${source}) is not a scalar: REST binds scalar fields only`)
    const other = fields.get(resolved)
    if (other !== undefined) fail(`field ${resolved} is bound twice (${other.source}, ${source})`)
    fields.set(resolved, { kind, source })
    return { param, field: resolved }
  }

  const pathNames = pathParamsOf(path, fail)
  const pathBinds = parseBinds(binding.bindPathParams, 'bindPathParams', fail)
  for (const param of pathBinds.keys()) {
    if (!pathNames.includes(param)) fail(`bindPathParams: the path ${path} has no :${param}`)
  }
  const pathParams = pathNames.map((param) =>
    bind(param, pathBinds.get(param) ?? param, `path parameter :${param}`),
  )
  const queryBinds = parseBinds(binding.bindQueryParams, 'bindQueryParams', fail)
  const queryParams = [...queryBinds].map(([param, field]) =>
    bind(param, field, `query parameter ${param}`),
  )
  const encoding: PayloadFormat = (binding.jsonEncode ?? true) ? 'json' : 'binary'
  return {
    route: { method: method as RestMethod, path, pathParams, queryParams, encoding },
    type: json,
    fields,
  }
}

/**
 * A `rony_rest` path as Go's generator reads it: `/` and the path without leading or
 * trailing slashes (`items/:id/` is `/items/:id`).
 */
export function goRestPath(path: string): string {
  return `/${path.replace(/^\/+|\/+$/g, '')}`
}

/** The `:name` segments of a path, in order; throws through `fail` for an empty or repeated one. */
function pathParamsOf(path: string, fail: (why: string) => never): string[] {
  const names: string[] = []
  for (const segment of path.split('/')) {
    if (!segment.startsWith(':')) continue
    const name = segment.slice(1)
    if (!/^[A-Za-z_][\w]*$/.test(name)) fail(`path parameter ${segment} is not a name`)
    if (names.includes(name)) fail(`path parameter :${name} appears twice`)
    names.push(name)
  }
  return names
}

/** `param=Field` pairs (trimmed, as Go reads them); a malformed or repeated one throws. */
function parseBinds(
  binds: readonly string[] | undefined,
  what: string,
  fail: (why: string) => never,
): Map<string, string> {
  const pairs = new Map<string, string>()
  if (binds === undefined) return pairs
  if (!Array.isArray(binds)) fail(`${what} must be an array of 'param=Field' strings`)
  for (const bind of binds) {
    const text = typeof bind === 'string' ? bind.trim() : ''
    const at = text.indexOf('=')
    const param = text.slice(0, at).trim()
    const field = text.slice(at + 1).trim()
    if (at === -1 || param === '' || field === '') {
      fail(`${what}: expected 'param=Field', got ${JSON.stringify(bind)}`)
    }
    if (pairs.has(param)) fail(`${what}: ${param} is bound twice`)
    pairs.set(param, field)
  }
  return pairs
}

/**
 * The message's name for `field`: as given, or in lower camel case (protobufjs' name for
 * the .proto's `snake_case` field, which is how a Go `rony_rest` spells it).
 */
function resolveField(shape: object, field: string): string | undefined {
  if (Object.hasOwn(shape, field)) return field
  const camel = field.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())
  return Object.hasOwn(shape, camel) ? camel : undefined
}

/** The kind of a scalar field from its default value, or undefined for lists, maps, messages. */
function kindOf(
  type: JsonMessageType,
  shape: Record<string, unknown>,
  field: string,
): FieldKind | undefined {
  const value = shape[field]
  if (typeof value === 'boolean') return 'bool'
  if (typeof value === 'number') return 'number'
  if (typeof value !== 'string') return undefined
  if (value === '0') return 'int64'
  if (value !== '') return 'enum' // the name of the enum's zero value
  // A string field keeps any text; a bytes field reads it as base64 ('x' is not).
  try {
    const probe = type.toObject(type.fromObject({ [field]: 'x' }), SHAPE_OPTIONS)
    return probe[field] === 'x' ? 'string' : 'bytes'
  } catch {
    return 'bytes'
  }
}

function badRequest(items: string, description: string, cause?: unknown): RonyError {
  return new RonyError('E01', items, description, {
    code: items === 'PARAM' ? 'RONY_ERR_INVALID_PARAM' : 'RONY_ERR_INVALID_BODY',
    ...(cause === undefined ? {} : { cause }),
  })
}

/** A URL value as its field's JSON value; throws E01/PARAM when it is not one. */
function convert(
  plan: RestPlan,
  name: string,
  field: string,
  text: string,
): string | number | boolean {
  const { kind, source } = plan.fields.get(field) as { kind: FieldKind; source: string }
  const invalid = (what: string): never => {
    throw badRequest('PARAM', `invalid ${name}: ${source}: ${JSON.stringify(text)} ${what}`)
  }
  switch (kind) {
    case 'string':
      return text
    case 'bytes':
      return Buffer.from(text, 'utf8').toString('base64') // the value's bytes, as Go binds them
    case 'bool':
      if (text === 'true' || text === 'false') return text === 'true'
      return invalid('is not true or false')
    case 'int64':
      return INTEGER.test(text) ? text : invalid('is not an integer')
    case 'number': {
      const value = DECIMAL.test(text) ? Number(text) : Number.NaN
      return Number.isFinite(value) ? value : invalid('is not a number')
    }
    case 'enum': {
      // A name as it is (one the enum lacks is refused when the message is read); a number
      // as one, as protobuf JSON takes it.
      if (!INTEGER.test(text)) return text
      const value = Number(text)
      return value >= INT32_MIN && value <= INT32_MAX ? value : invalid('is out of range')
    }
  }
}

/**
 * The request message of a REST call, encoded: the body in the route's encoding, then the
 * URL values over it. Throws a `RonyError` E01 for a body or a value that does not fit.
 */
export function restMessage(
  plan: RestPlan,
  name: string,
  body: Uint8Array,
  values: ReadonlyMap<string, string>,
): Uint8Array {
  const binary = plan.route.encoding === 'binary'
  // Nothing to merge: the handler's decoder reads the body as any envelope's payload.
  if (binary && values.size === 0) return body
  const message = binary ? binaryBody(plan.type, name, body) : jsonBody(name, body)
  for (const [field, text] of values) {
    // Only the route's fields: a gateway's stray value must not reach the message.
    if (!plan.fields.has(field)) throw badRequest('PARAM', `${name} binds no field ${field}`)
    message[field] = convert(plan, name, field, text)
  }
  return messageFromJson(plan.type, name, message)
}

function jsonBody(name: string, body: Uint8Array): Record<string, unknown> {
  if (body.byteLength === 0) return {}
  let parsed: unknown
  try {
    parsed = parseJson(utf8.decode(body)) // exact past 2^53, for 64-bit fields
  } catch (cause) {
    throw badRequest('BODY', `the body of ${name} is not valid JSON`, cause)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest('BODY', `the body of ${name} must be a JSON object`)
  }
  return parsed as Record<string, unknown>
}

function binaryBody(
  type: JsonMessageType,
  name: string,
  body: Uint8Array,
): Record<string, unknown> {
  try {
    return messageToJson(type, body)
  } catch (cause) {
    throw badRequest('BODY', `the body is not a binary ${name}`, cause)
  }
}
