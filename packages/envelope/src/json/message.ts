import { RonyError } from '../errors.js'
import type { MessageType } from '../registry.js'

/**
 * One message in protobuf's JSON mapping, both ways, on top of protobufjs' `fromObject` /
 * `toObject` (generated static classes and reflected types both have them).
 *
 * `fromObject` coerces silently (`"abc"` → 0 for an int, `"false"` → true for a bool,
 * 2^40 wrapped into an int32) and ignores unknown fields. Clients' JSON must not be read
 * that way, so the input is checked against the message read back: every field the
 * client sent must exist and survive the round trip unchanged. Strings from a URL (REST
 * path and query values) are converted for top-level bool and number fields first.
 */

/** protobufjs conversion options for protobuf's canonical JSON mapping. */
const JSON_OPTIONS = { longs: String, enums: String, bytes: String, json: true } as const
/** The same, with every field present, to learn a message's fields and their kinds. */
const SHAPE_OPTIONS = { ...JSON_OPTIONS, defaults: true, arrays: true, objects: true } as const

type JsonObject = Record<string, unknown>

/** A message type with the JSON conversions (every protobufjs type has them). */
export interface JsonMessageType<T = unknown> extends MessageType<T> {
  fromObject(object: JsonObject): T
  toObject(message: T, options?: object): JsonObject
}

export function hasJsonMapping(type: MessageType): type is JsonMessageType {
  const candidate = type as Partial<JsonMessageType>
  return typeof candidate.fromObject === 'function' && typeof candidate.toObject === 'function'
}

function invalidMessage(name: string, detail: string, cause?: unknown): RonyError {
  const options = cause === undefined ? {} : { cause }
  return new RonyError('E01', 'MESSAGE', `invalid ${name}: ${detail}`, {
    code: 'RONY_ERR_INVALID_MESSAGE',
    ...options,
  })
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Reads `json` as a message of `type` and encodes it; throws `RonyError` E01/MESSAGE. */
export function messageFromJson(type: MessageType, name: string, json: unknown): Uint8Array {
  if (!hasJsonMapping(type)) {
    throw new RonyError('E13', 'JSON', `${name} has no JSON mapping: send binary protobuf`, {
      code: 'RONY_ERR_JSON_UNSUPPORTED',
    })
  }
  if (json === undefined || json === null) json = {}
  if (!isJsonObject(json)) throw invalidMessage(name, 'expected a JSON object')
  const input = coerceUrlStrings(type, json)
  let message: unknown
  try {
    message = type.fromObject(input)
  } catch (cause) {
    throw invalidMessage(name, cause instanceof Error ? cause.message : String(cause), cause)
  }
  const readBack = type.toObject(message, SHAPE_OPTIONS)
  const problem = mismatch(input, readBack, '')
  if (problem !== undefined) throw invalidMessage(name, problem)
  try {
    return type.encode(message).finish()
  } catch (cause) {
    throw invalidMessage(name, cause instanceof Error ? cause.message : String(cause), cause)
  }
}

/** Decodes `bytes` as `type` and returns its JSON mapping (default values left out). */
export function messageToJson(type: JsonMessageType, bytes: Uint8Array): JsonObject {
  return type.toObject(type.decode(bytes), JSON_OPTIONS)
}

/**
 * `"true"`/`"false"` for top-level bool fields, where REST binds path and query values
 * (always strings). The field kinds come from the message's defaults (`false` for a bool).
 * Numeric strings need nothing: protobuf JSON allows them and `fromObject` reads them.
 */
function coerceUrlStrings(type: JsonMessageType, input: JsonObject): JsonObject {
  let shape: JsonObject | undefined
  let output: JsonObject | undefined
  for (const key of Object.keys(input)) {
    const value = input[key]
    if (value !== 'true' && value !== 'false') continue
    shape ??= type.toObject(type.fromObject({}), SHAPE_OPTIONS)
    if (typeof shape[key] !== 'boolean') continue
    output ??= { ...input }
    output[key] = value === 'true'
  }
  return output ?? input
}

/**
 * Where `input` and the message read back from it disagree, as `field: what`; undefined
 * when every field the input set came back with its value.
 */
function mismatch(input: unknown, readBack: unknown, path: string): string | undefined {
  if (input === null || input === undefined) return undefined
  if (Array.isArray(input)) {
    if (!Array.isArray(readBack)) return `${path || 'value'}: unexpected list`
    for (let i = 0; i < input.length; i++) {
      const problem = mismatch(input[i], readBack[i], `${path}[${i}]`)
      if (problem !== undefined) return problem
    }
    return undefined
  }
  if (isJsonObject(input)) {
    if (!isJsonObject(readBack)) return `${path || 'value'}: unexpected object`
    for (const key of Object.keys(input)) {
      const field = path ? `${path}.${key}` : key
      if (!Object.hasOwn(readBack, key)) {
        if (input[key] === null) continue
        return `${field}: no such field`
      }
      const problem = mismatch(input[key], readBack[key], field)
      if (problem !== undefined) return problem
    }
    return undefined
  }
  return sameScalar(input, readBack) ? undefined : `${path}: invalid value ${JSON.stringify(input)}`
}

const INTEGER = /^-?\d+$/
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-?Infinity$|^NaN$/

function sameScalar(input: unknown, readBack: unknown): boolean {
  if (input === readBack) return true
  if (typeof readBack === 'number') {
    // 32-bit numbers and floats; protobuf JSON allows them as strings.
    const value = typeof input === 'string' && NUMBER.test(input.trim()) ? Number(input) : input
    return value === readBack || (Number.isNaN(value) && Number.isNaN(readBack))
  }
  if (typeof readBack !== 'string') return false
  if (INTEGER.test(readBack)) {
    // A 64-bit integer, read back as a decimal string; the input may be a number or string.
    const text =
      typeof input === 'string' ? input.trim() : Number.isInteger(input) ? String(input) : ''
    return INTEGER.test(text) && BigInt(text) === BigInt(readBack)
  }
  // Bytes (base64 comes back normalized) and enums (a number comes back as its name) may
  // be spelled differently; fromObject already rejected what it cannot read.
  return typeof input === 'string' || typeof input === 'number'
}
