import { CodedError } from '@rony/interface'
import { metaSize } from './codec/wire.js'

/** A surrogate code unit without its pair (in `u` mode, pairs match as one code point). */
const LONE_SURROGATE = /\p{Cs}/u

/** Metadata that is not a plain object of strings. */
function invalid(message: string): CodedError<'RONY_ERR_INVALID_META'> {
  return new CodedError(`gossip: ${message}`, 'RONY_ERR_INVALID_META')
}

/**
 * Checks metadata as its type says, at run time (a JavaScript caller, or JSON, can pass
 * anything): a plain object whose keys and values are strings that UTF-8 can carry (no lone
 * surrogates), at most `maxBytes` encoded. Without it a number or `null` value was encoded as
 * an empty string, and a `Map` or array as other keys, silently.
 *
 * @returns A copy, safe to keep.
 * @throws `CodedError` `RONY_ERR_INVALID_META` naming the offending key, or
 *   `RONY_ERR_MESSAGE_TOO_LARGE` above `maxBytes`.
 */
export function checkMeta(meta: unknown, maxBytes: number): Record<string, string> {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw invalid(`metadata must be an object of strings, got ${describe(meta)}`)
  }
  const proto = Object.getPrototypeOf(meta)
  if (proto !== Object.prototype && proto !== null) {
    throw invalid(`metadata must be a plain object of strings, got a ${describe(meta)}`)
  }
  if (Object.getOwnPropertySymbols(meta).length > 0) {
    throw invalid('metadata keys must be strings, got a symbol')
  }
  const copy: Record<string, string> = {}
  for (const [key, value] of Object.entries(meta)) {
    if (LONE_SURROGATE.test(key))
      throw invalid(`metadata key ${JSON.stringify(key)} is not valid UTF-16`)
    if (typeof value !== 'string') {
      throw invalid(
        `metadata value of ${JSON.stringify(key)} must be a string, got ${describe(value)}`,
      )
    }
    if (LONE_SURROGATE.test(value)) {
      throw invalid(`metadata value of ${JSON.stringify(key)} is not valid UTF-16`)
    }
    Object.defineProperty(copy, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  const size = metaSize(copy)
  if (size > maxBytes) {
    throw new CodedError(
      `gossip: metadata is ${size} bytes encoded, above the ${maxBytes}-byte limit`,
      'RONY_ERR_MESSAGE_TOO_LARGE',
    )
  }
  return copy
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'object') return v.constructor?.name ?? 'object'
  return typeof v
}
