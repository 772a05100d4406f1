import { RonyError } from '../errors.js'
import type { MessageType } from '../registry.js'

/**
 * One message in protobuf's JSON mapping, both ways, on top of protobufjs' `fromObject` /
 * `toObject` (generated static classes and reflected types both have them).
 *
 * `fromObject` coerces silently (`"abc"` → 0 for an int, `"false"` → true for a bool,
 * 2^40 wrapped into an int32, `5` → `"5"` for a string) and ignores unknown fields.
 * Clients' JSON must not be read that way, so the input is checked against the message
 * read back: every field the client sent must exist and survive the round trip unchanged.
 * 64-bit integers arrive exact (`parseJson` gives a `bigint` past 2^53) and go to
 * protobufjs as decimal strings. Strings from a URL (REST path and query values) are
 * converted for top-level bool fields first.
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
    message = type.fromObject(bigintsAsStrings(input) as JsonObject)
  } catch (cause) {
    throw invalidMessage(name, cause instanceof Error ? cause.message : String(cause), cause)
  }
  const readBack = type.toObject(message, SHAPE_OPTIONS)
  const problem = new Mismatch(type).find(input, readBack, [])
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

/** `value` with every bigint replaced by its decimal string (protobufjs reads longs from strings). */
function bigintsAsStrings(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    const items = value.map(bigintsAsStrings)
    return items.some((item, i) => item !== value[i]) ? items : value
  }
  let copy: JsonObject | undefined
  for (const key of Object.keys(value)) {
    const item = (value as JsonObject)[key]
    const converted = bigintsAsStrings(item)
    if (converted === item) continue
    copy ??= { ...(value as JsonObject) }
    copy[key] = converted
  }
  return copy ?? value
}

type Path = readonly (string | number)[]

const INTEGER = /^-?\d+$/
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-?Infinity$|^NaN$/
const ENUM_NAME = /^[A-Za-z_]\w*$/
const STRING_PROBE = 'x'

/** Per message type, whether the field at a path (indices as 0) keeps any string as is. */
const stringFields = new WeakMap<JsonMessageType, Map<string, boolean>>()

/** Finds where the input and the message read back from it disagree. */
class Mismatch {
  constructor(private readonly type: JsonMessageType) {}

  /** `field: what` at the first disagreement; undefined when every field set came back. */
  find(input: unknown, readBack: unknown, path: Path): string | undefined {
    if (input === null || input === undefined) return undefined
    const field = pathText(path)
    if (Array.isArray(input)) {
      if (!Array.isArray(readBack)) return `${field || 'value'}: unexpected list`
      for (let i = 0; i < input.length; i++) {
        const problem = this.find(input[i], readBack[i], [...path, i])
        if (problem !== undefined) return problem
      }
      return undefined
    }
    if (isJsonObject(input)) {
      if (!isJsonObject(readBack)) return `${field || 'value'}: unexpected object`
      for (const key of Object.keys(input)) {
        if (!Object.hasOwn(readBack, key)) {
          if (input[key] === null) continue
          return `${pathText([...path, key])}: no such field`
        }
        const problem = this.find(input[key], readBack[key], [...path, key])
        if (problem !== undefined) return problem
      }
      return undefined
    }
    if (this.sameScalar(input, readBack, path)) return undefined
    const shown = typeof input === 'bigint' ? input.toString() : JSON.stringify(input)
    const why = this.isStringField(path) && typeof input !== 'string' ? ' (expected a string)' : ''
    return `${field}: invalid value ${shown}${why}`
  }

  private sameScalar(input: unknown, readBack: unknown, path: Path): boolean {
    if (input === readBack) return true
    if (typeof readBack === 'number') {
      // 32-bit numbers and floats; protobuf JSON allows them as strings. A bigint fits
      // only a float field, whose precision is a double's anyway.
      const value =
        typeof input === 'string' && NUMBER.test(input.trim())
          ? Number(input)
          : typeof input === 'bigint'
            ? Number(input)
            : input
      return value === readBack || (Number.isNaN(value) && Number.isNaN(readBack))
    }
    if (typeof readBack !== 'string') return false
    if (INTEGER.test(readBack)) {
      // A 64-bit integer, read back as a decimal string: the input may be a string or an
      // exact number. A string field reads back the number's digits too: that is refused.
      if (typeof input === 'string') {
        const text = input.trim()
        return INTEGER.test(text) && BigInt(text) === BigInt(readBack)
      }
      const exact =
        typeof input === 'bigint' || (typeof input === 'number' && Number.isSafeInteger(input))
      return exact && BigInt(input) === BigInt(readBack) && !this.isStringField(path)
    }
    // An enum given by number reads back as its name. A name the enum lacks reads back as
    // its zero value (fromObject leaves the field unset), so an enum's name must come back
    // as given; bytes come back as normalized base64 ("AQ" is "AQ=="), and fromObject
    // already rejected base64 it cannot read.
    if (typeof input === 'number') return ENUM_NAME.test(readBack)
    return typeof input === 'string' && !this.isEnumField(path)
  }

  /** Whether the field at `path` is an enum: 0 reads back as a name, not a number or text. */
  private isEnumField(path: Path): boolean {
    const value = this.probe(path, 0, SHAPE_OPTIONS)
    return typeof value === 'string' && ENUM_NAME.test(value)
  }

  /** Whether the field at `path` is a string field: one that keeps an arbitrary string. */
  private isStringField(path: Path): boolean {
    const key = path.map((part) => (typeof part === 'number' ? 0 : part)).join('\u0000')
    let cache = stringFields.get(this.type)
    if (cache === undefined) {
      cache = new Map()
      stringFields.set(this.type, cache)
    }
    let known = cache.get(key)
    if (known === undefined) {
      known = this.probe(path, STRING_PROBE, JSON_OPTIONS) === STRING_PROBE
      cache.set(key, known)
    }
    return known
  }

  /** What `value` at `path` (indices as 0) reads back as; undefined when it cannot be read. */
  private probe(path: Path, value: unknown, options: object): unknown {
    let skeleton: unknown = value
    for (let i = path.length - 1; i >= 0; i--) {
      const part = path[i] as string | number
      skeleton = typeof part === 'number' ? [skeleton] : { [part]: skeleton }
    }
    try {
      let readBack: unknown = this.type.toObject(
        this.type.fromObject(skeleton as JsonObject),
        options,
      )
      for (const part of path) {
        readBack = (readBack as Record<string | number, unknown> | undefined)?.[
          typeof part === 'number' ? 0 : part
        ]
      }
      return readBack
    } catch {
      return undefined
    }
  }
}

function pathText(path: Path): string {
  let text = ''
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text ? `.${part}` : part
  return text
}
