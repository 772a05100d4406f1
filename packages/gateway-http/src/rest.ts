/**
 * REST and error bodies: the JSON request envelope a REST route hands the edge, the HTTP
 * answer made from the edge's reply, and the JSON error body every gateway-level error
 * uses: the wire `Error` message in protobuf JSON, as in an envelope
 * (`{"Code":"E01","Items":"BODY","Description":"…"}`).
 */
import {
  C_Error,
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

/** Why a REST request could not become a request envelope. */
export class RestInputError extends Error {
  override readonly name = 'RestInputError'
}

/**
 * Copies the own enumerable fields of `source` into `target`. `target` has no prototype,
 * so a field named `__proto__` or `constructor` is just a field (no prototype pollution).
 */
function assignFields(target: Record<string, unknown>, source: unknown): void {
  if (source === null || typeof source !== 'object') return
  for (const key of Object.keys(source)) target[key] = (source as Record<string, unknown>)[key]
}

/**
 * The JSON envelope for one REST request: the message is built from the body (a JSON
 * object), then the query string (strings; repeated keys as arrays), then the path
 * parameters (strings); later sources win on the same field.
 *
 * @throws RestInputError when the body is not a JSON object.
 */
export function restEnvelope(
  requestId: number,
  cmd: string,
  body: Uint8Array | undefined,
  query: unknown,
  params: unknown,
): Uint8Array {
  const message: Record<string, unknown> = Object.create(null)
  if (body !== undefined && body.byteLength > 0) {
    let parsed: unknown
    try {
      // Exact: an int64 field's number past 2^53 reaches the edge with all its digits.
      parsed = parseJson(
        Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'),
      )
    } catch (error) {
      throw new RestInputError(`the body is not valid JSON: ${(error as Error).message}`)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new RestInputError('the body must be a JSON object')
    }
    assignFields(message, parsed)
  }
  assignFields(message, query)
  assignFields(message, params)
  return Buffer.from(stringifyJson({ requestId, cmd, message }), 'utf8')
}

interface WireErrorFields {
  Code?: unknown
  Items?: unknown
  Description?: unknown
}

function errorAnswer(fields: WireErrorFields | null | undefined): HttpAnswer {
  const code = typeof fields?.Code === 'string' && fields.Code !== '' ? fields.Code : 'E00'
  const items = typeof fields?.Items === 'string' ? fields.Items : ''
  const description = typeof fields?.Description === 'string' ? fields.Description : ''
  return jsonError(statusOf(code), code, items, description)
}

const BAD_REPLY = (what: string): HttpAnswer =>
  jsonError(500, 'E00', 'SERVER', `the edge sent ${what} to a REST request`)

/**
 * The HTTP answer to a REST request from the edge's reply: 200 with the reply's `message`
 * as the JSON body, or for an `Error` reply the error code's HTTP status with
 * `{"Code","Items","Description"}`. A binary reply (an edge without JSON support answers
 * binary errors) is decoded the same way. Never throws.
 */
export function restAnswer(bytes: Uint8Array, format: PayloadFormat): HttpAnswer {
  if (format === 'binary') {
    try {
      const envelope = decodeEnvelope(bytes)
      if (envelope.ctor !== C_Error) return BAD_REPLY('a binary reply')
      return errorAnswer(rony.Error.decode(envelope.message))
    } catch {
      return BAD_REPLY('an undecodable binary reply')
    }
  }
  let reply: unknown
  try {
    reply = JSON.parse(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
    )
  } catch {
    return BAD_REPLY('invalid JSON')
  }
  if (reply === null || typeof reply !== 'object')
    return BAD_REPLY('a JSON reply that is not an envelope')
  const { cmd, message } = reply as { cmd?: unknown; message?: unknown }
  if (cmd === 'Error') return errorAnswer(message as WireErrorFields | undefined)
  return { status: 200, body: JSON.stringify(message ?? {}) }
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
