/** Test helpers shared by the spec files: hex, plain views of envelopes, arbitraries. */
import fc from 'fast-check'
import Long from 'long'
import { expect } from 'vitest'
import {
  type Envelope,
  type EnvelopeInit,
  type KeyValue,
  RonyError,
  type rony,
} from '../src/index.js'

export const U64_MAX = (1n << 64n) - 1n

/** Bytes from hex; whitespace and `# comments` are ignored so vectors can be annotated. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/#.*$/gm, '').replace(/\s/g, '')
  if (!/^(?:[0-9a-f]{2})*$/i.test(digits)) throw new Error(`bad hex vector: ${text}`)
  return new Uint8Array(Buffer.from(digits, 'hex'))
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Canonical uint64 varint of `value`, written independently of src (for boundary sweeps). */
export function varintHex(value: bigint): string {
  let out = ''
  do {
    const low = Number(value & 0x7fn)
    value >>= 7n
    out += (value > 0n ? low | 0x80 : low).toString(16).padStart(2, '0')
  } while (value > 0n)
  return out
}

/** An envelope with bytes as hex, comparable with toEqual whatever the byte containers are. */
export interface PlainEnvelope {
  ctor: bigint
  requestId: bigint
  jsonEncoded: boolean
  message: string
  auth: string
  header: KeyValue[]
}

export function plain(envelope: Envelope): PlainEnvelope {
  return {
    ctor: envelope.ctor,
    requestId: envelope.requestId,
    jsonEncoded: envelope.jsonEncoded,
    message: toHex(envelope.message),
    auth: toHex(envelope.auth),
    header: envelope.header.map(({ key, value }) => ({ key, value })),
  }
}

/** What decoding the encoding of `init` must give. */
export function plainInit(init: EnvelopeInit): PlainEnvelope {
  return {
    ctor: init.ctor,
    requestId: init.requestId ?? 0n,
    jsonEncoded: init.jsonEncoded ?? false,
    message: toHex(init.message ?? new Uint8Array(0)),
    auth: toHex(init.auth ?? new Uint8Array(0)),
    header: (init.header ?? []).map(({ key, value }) => ({ key, value })),
  }
}

/** A generated-class envelope in the same plain shape (64-bit Longs via their decimal string). */
export function plainPb(envelope: rony.MessageEnvelope.$Properties): PlainEnvelope {
  return {
    ctor: BigInt(String(envelope.Constructor ?? 0)),
    requestId: BigInt(String(envelope.RequestID ?? 0)),
    jsonEncoded: envelope.JsonEncoded ?? false,
    message: toHex(envelope.Message ?? new Uint8Array(0)),
    auth: toHex(envelope.Auth ?? new Uint8Array(0)),
    header: (envelope.Header ?? []).map((kv) => ({ key: kv.Key ?? '', value: kv.Value ?? '' })),
  }
}

export function toLong(value: bigint): Long {
  return Long.fromString(value.toString(), true)
}

/** The generated-class properties for `init`. */
export function toPb(init: EnvelopeInit): rony.MessageEnvelope.$Properties {
  return {
    Constructor: toLong(init.ctor),
    RequestID: toLong(init.requestId ?? 0n),
    JsonEncoded: init.jsonEncoded ?? false,
    Message: init.message ?? new Uint8Array(0),
    Auth: init.auth ?? new Uint8Array(0),
    Header: (init.header ?? []).map(({ key, value }) => ({ Key: key, Value: value })),
  }
}

/** Strings without lone surrogates (protobufjs and TextEncoder differ on those). */
export const wellFormedString = fc
  .oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
  )
  .filter((text) => !/[\uD800-\uDFFF]/u.test(text))

export const arbUint64 = fc.oneof(
  fc.bigInt({ min: 0n, max: U64_MAX }),
  fc.constantFrom(0n, 1n, 127n, 128n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 63n, U64_MAX),
)

export const arbHeader = fc.array(fc.record({ key: wellFormedString, value: wellFormedString }), {
  maxLength: 5,
})

/** Every field always present (possibly zero). */
export const arbEnvelopeInit: fc.Arbitrary<EnvelopeInit> = fc.record({
  ctor: arbUint64,
  requestId: arbUint64,
  jsonEncoded: fc.boolean(),
  message: fc.uint8Array({ maxLength: 300 }),
  auth: fc.uint8Array({ maxLength: 40 }),
  header: arbHeader,
})

/** Asserts that `fn` throws a RonyError and returns it. */
export function catchRonyError(fn: () => unknown): RonyError {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(RonyError)
  return caught as RonyError
}

/** Asserts that `fn` throws RonyError E01/ENVELOPE (with `code`, when given). */
export function expectInvalidEnvelope(fn: () => unknown, code?: string): RonyError {
  const error = catchRonyError(fn)
  expect(error.wireCode).toBe('E01')
  expect(error.items).toBe('ENVELOPE')
  if (code !== undefined) expect(error.code).toBe(code)
  return error
}
