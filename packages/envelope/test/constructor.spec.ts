import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as envelope from '../src/index.js'
import { constructorOf, crc64 } from '../src/index.js'

/**
 * Constructor ids as the Go framework's generated `C_Xxx` constants (verified against
 * ronaksoft/rony's codegen).
 */
const GO_IDS: Record<string, bigint> = {
  MessageEnvelope: 11385363697628734430n,
  MessageContainer: 8705479839606992738n,
  Error: 3300063058275074048n,
  Ping: 3584172304239689728n,
  Pong: 3584174915579805696n,
  KeyValue: 9712539143259722476n,
  Redirect: 12783312295490183931n,
  Edge: 3661905149145645056n,
  Edges: 3202852853167161344n,
  GetNodes: 17614373553603896039n,
  GetAllNodes: 2426091802953969362n,
  HttpBody: 4148778432730789982n,
  TunnelMessage: 12904103981552626014n,
  EdgeNode: 12741646567456486228n,
  SampleEcho: 5610266072904040111n,
  EchoRequest: 634453994073422796n,
}

const U64_MASK = (1n << 64n) - 1n
const POLY = 0xd800000000000000n
const utf8 = new TextEncoder()

/** Bit-by-bit CRC-64/GO-ISO: reflected poly 0xD800000000000000, init ~0, xorout ~0. */
function referenceCrc64(bytes: Uint8Array): bigint {
  let crc = U64_MASK
  for (const byte of bytes) {
    crc ^= BigInt(byte)
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ POLY : crc >> 1n
  }
  return crc ^ U64_MASK
}

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0))

describe('crc64', () => {
  it('gives the CRC-64/GO-ISO check value for "123456789"', () => {
    expect(crc64(ascii('123456789'))).toBe(0xb90956c775a41001n)
  })

  it('the reference implementation gives the same check value', () => {
    // Guards the reference itself, so that comparing against it means something.
    expect(referenceCrc64(ascii('123456789'))).toBe(0xb90956c775a41001n)
  })

  it('is 0 for no bytes (init and xor-out cancel)', () => {
    expect(crc64(new Uint8Array(0))).toBe(0n)
  })

  it('matches the reference for every single byte value', () => {
    for (let b = 0; b < 256; b++) {
      expect(crc64(Uint8Array.of(b)), `byte ${b}`).toBe(referenceCrc64(Uint8Array.of(b)))
    }
  })

  it('matches the reference on long runs of 0x00 and 0xff', () => {
    for (const fill of [0x00, 0xff]) {
      const bytes = new Uint8Array(1000).fill(fill)
      expect(crc64(bytes)).toBe(referenceCrc64(bytes))
    }
  })

  it('matches the reference on random byte arrays', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(crc64(bytes)).toBe(referenceCrc64(bytes))
      }),
      { numRuns: 1000 },
    )
  })

  it('reads only the bytes of a view, not the rest of its buffer', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.nat(),
        fc.nat(),
        (bytes, a, b) => {
          const start = a % bytes.length
          const end = start + (b % (bytes.length - start + 1))
          const view = bytes.subarray(start, end)
          expect(crc64(view)).toBe(referenceCrc64(bytes.slice(start, end)))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('always returns a bigint in [0, 2^64)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const crc = crc64(bytes)
        expect(typeof crc).toBe('bigint')
        expect(crc >= 0n && crc <= U64_MASK).toBe(true)
      }),
      { numRuns: 500 },
    )
  })
})

describe('constructorOf', () => {
  it.each(Object.entries(GO_IDS))('%s has the Go framework id %s', (name, id) => {
    expect(constructorOf(name)).toBe(id)
  })

  it('hashes the whole name given: a package prefix changes the id', () => {
    expect(constructorOf('rony.MessageEnvelope')).toBe(16132715681026794408n)
    expect(constructorOf('rony.MessageEnvelope')).not.toBe(constructorOf('MessageEnvelope'))
  })

  it('agrees with the reference on every Go id (the reference is right too)', () => {
    for (const [name, id] of Object.entries(GO_IDS)) {
      expect(referenceCrc64(ascii(name))).toBe(id)
    }
  })

  it('hashes the UTF-8 bytes of non-ASCII names', () => {
    for (const name of [
      'Сообщение',
      'メッセージ',
      'Ünïcödé',
      'Emoji😀Message',
      'ß',
      '\u{10ffff}',
    ]) {
      expect(constructorOf(name), name).toBe(referenceCrc64(utf8.encode(name)))
    }
    // 'é' is c3 a9 in UTF-8, not the single Latin-1 byte e9.
    expect(constructorOf('é')).toBe(referenceCrc64(Uint8Array.of(0xc3, 0xa9)))
    expect(constructorOf('é')).not.toBe(referenceCrc64(Uint8Array.of(0xe9)))
  })

  it('matches the reference over the UTF-8 encoding of random names', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ minLength: 1, maxLength: 40 }),
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
        ),
        (name) => {
          expect(constructorOf(name)).toBe(referenceCrc64(utf8.encode(name)))
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('throws TypeError for an empty name', () => {
    expect(() => constructorOf('')).toThrow(TypeError)
  })

  it('throws TypeError for a name that is not a string', () => {
    expect(() => constructorOf(42 as unknown as string)).toThrow(TypeError)
    expect(() => constructorOf(undefined as unknown as string)).toThrow(TypeError)
  })
})

describe('C_Xxx constants', () => {
  const exported = Object.entries(envelope).filter(([key]) => key.startsWith('C_'))

  it('exports one constant per built-in message of envelope.proto', () => {
    expect(exported.map(([key]) => key).sort()).toEqual(
      [
        'C_Edge',
        'C_Edges',
        'C_Error',
        'C_GetAllNodes',
        'C_GetNodes',
        'C_KeyValue',
        'C_MessageContainer',
        'C_MessageEnvelope',
        'C_Ping',
        'C_Pong',
        'C_Redirect',
      ].sort(),
    )
  })

  it.each(exported)('%s equals constructorOf of its name and the Go id', (key, value) => {
    const name = key.slice(2)
    expect(value).toBe(constructorOf(name))
    expect(value).toBe(GO_IDS[name])
  })
})
