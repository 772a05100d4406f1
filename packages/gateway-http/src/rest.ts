/**
 * REST answers and error bodies: the HTTP answer made from the edge's reply to a REST
 * call, and the JSON error body every gateway-level error uses: the wire `Error` message in protobuf JSON, as in an envelope
 * (`{"Code":"E01","Items":"BODY","Description":"…"}`).
 */
import {
  C_Error,
  C_MessageContainer,
  C_Redirect,
  decodeEnvelope,
  parseJson,
  rony,
  stringifyJson,
  WIRE_ERRORS,
} from '@rony/envelope'
import type { PayloadFormat } from '@rony/interface'

/** An HTTP answer the gateway writes itself. */
export interface HttpAnswer {
  readonly status: number
  /** JSON text. */
  readonly body: string
}

/** The HTTP status of a wire error code, as `RonyError.status` maps it (500 for unknown codes). */
export function statusOf(wireCode: string): number {
  return Object.hasOwn(WIRE_ERRORS, wireCode)
    ? WIRE_ERRORS[wireCode as keyof typeof WIRE_ERRORS].status
    : 500
}

/** `{ status, body }` of a JSON error: the `Error` message's fields, as an envelope's error. */
export function jsonError(
  status: number,
  code: string,
  items: string,
  description: string,
): HttpAnswer {
  return { status, body: JSON.stringify({ Code: code, Items: items, Description: description }) }
}

/**
 * The answer to a REST call: a JSON or protobuf body, a JSON error, or a redirect (whose
 * `Location` is the request's URL on `hostPort`, as the Go framework's REST server writes it).
 */
export type RestAnswer =
  | { readonly kind: 'body'; readonly type: 'json' | 'binary'; readonly body: Uint8Array | string }
  | { readonly kind: 'error'; readonly answer: HttpAnswer }
  | { readonly kind: 'redirect'; readonly status: 307 | 308; readonly hostPort: string }

interface WireErrorFields {
  Code?: unknown
  Items?: unknown
  Description?: unknown
}

interface WireRedirectFields {
  Reason?: unknown
  Edges?: unknown
}

function errorAnswer(fields: WireErrorFields | null | undefined): RestAnswer {
  const code = typeof fields?.Code === 'string' && fields.Code !== '' ? fields.Code : 'E00'
  const items = typeof fields?.Items === 'string' ? fields.Items : ''
  const description = typeof fields?.Description === 'string' ? fields.Description : ''
  return { kind: 'error', answer: jsonError(statusOf(code), code, items, description) }
}

/**
 * A `Redirect` as Go's REST server answers it: 308 for the session's replica set
 * (`ReplicaSetSession`, 0), 307 for this request's (`ReplicaSetRequest`, 1), to the first
 * address of the first edge; without an address (or another reason) it is an error.
 */
function redirectAnswer(fields: WireRedirectFields | null | undefined): RestAnswer {
  const edges = Array.isArray(fields?.Edges) ? fields.Edges : []
  const hostPorts = (edges[0] as { HostPorts?: unknown } | undefined)?.HostPorts
  const hostPort = Array.isArray(hostPorts) ? hostPorts[0] : undefined
  const reason = fields?.Reason ?? 0
  const status =
    reason === 0 || reason === 'ReplicaSetSession'
      ? 308
      : reason === 1 || reason === 'ReplicaSetRequest'
        ? 307
        : undefined
  if (typeof hostPort !== 'string' || hostPort === '' || status === undefined) {
    return BAD_REPLY('a redirect without an address')
  }
  return { kind: 'redirect', status, hostPort }
}

const BAD_REPLY = (what: string): RestAnswer => ({
  kind: 'error',
  answer: jsonError(500, 'E00', 'SERVER', `the edge sent ${what} to a REST request`),
})

/**
 * The answer to a REST call from the edge's reply, one envelope in the route's encoding:
 * its message as the body (protobuf JSON or binary protobuf), an `Error` as the HTTP status
 * of its code with `{"Code","Items","Description"}`, a `Redirect` as 307/308. Never throws.
 */
export function restAnswer(bytes: Uint8Array, format: PayloadFormat): RestAnswer {
  if (format === 'binary') {
    try {
      const envelope = decodeEnvelope(bytes)
      if (envelope.ctor === C_Error) return errorAnswer(rony.Error.decode(envelope.message))
      if (envelope.ctor === C_Redirect) {
        return redirectAnswer(rony.Redirect.decode(envelope.message))
      }
      if (envelope.ctor === C_MessageContainer) return BAD_REPLY('several replies')
      return { kind: 'body', type: 'binary', body: envelope.message }
    } catch {
      return BAD_REPLY('an undecodable binary reply')
    }
  }
  let reply: unknown
  try {
    // Exact: an int64 field's number past 2^53 reaches the client with all its digits.
    reply = parseJson(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
    )
  } catch {
    return BAD_REPLY('invalid JSON')
  }
  if (reply === null || typeof reply !== 'object')
    return BAD_REPLY('a JSON reply that is not an envelope')
  const { cmd, message } = reply as { cmd?: unknown; message?: unknown }
  if (cmd === 'Error') return errorAnswer(message as WireErrorFields | undefined)
  if (cmd === 'Redirect') return redirectAnswer(message as WireRedirectFields | undefined)
  if (cmd === 'MessageContainer') return BAD_REPLY('several replies')
  return { kind: 'body', type: 'json', body: stringifyJson(message ?? {}) }
}

/**
 * The `Location` of a redirect: the request's path and query on `hostPort`, which is a
 * `host:port` (Go's gateways publish those) or a URL (a TS edge's gateway addresses).
 */
export function redirectLocation(hostPort: string, requestUrl: string, secure: boolean): string {
  let origin: string
  try {
    origin = hostPort.includes('://') ? new URL(hostPort).origin : ''
  } catch {
    origin = ''
  }
  if (origin === '' || origin === 'null') origin = `${secure ? 'https' : 'http'}://${hostPort}`
  return origin + (requestUrl.startsWith('/') ? requestUrl : `/${requestUrl}`)
}

/** The JSON error for a Fastify error in the gateway's routes (body limit, content type…). */
export function fastifyErrorAnswer(
  error: { code?: unknown; statusCode?: unknown; message?: unknown },
  bodyLimit: number,
): HttpAnswer {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return jsonError(
        413,
        'E01',
        'BODY',
        `the request body exceeds ${bodyLimit} bytes (bodyLimit)`,
      )
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return UNSUPPORTED_MEDIA_TYPE
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return jsonError(400, 'E01', 'BODY', 'the request body does not match its Content-Length')
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : 500
  if (status >= 400 && status < 500) {
    return jsonError(status, 'E01', 'REQUEST', String(error.message ?? 'bad request'))
  }
  return jsonError(500, 'E00', 'SERVER', 'internal error in the HTTP gateway')
}

const UNSUPPORTED_MEDIA_TYPE = jsonError(
  415,
  'E01',
  'CONTENT_TYPE',
  'send a binary envelope (Content-Type application/x-protobuf, application/octet-stream or none) or a JSON envelope (application/json)',
)
