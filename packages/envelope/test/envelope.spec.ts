import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_LIMITS,
  decodeContainer,
  decodeEnvelope,
  type EnvelopeInit,
  encodeContainer,
  encodeEnvelope,
  resolveLimits,
  rony,
} from '../src/index.js'
import {
  arbEnvelopeInit,
  catchRonyError,
  expectInvalidEnvelope,
  hex,
  plain,
  plainInit,
  plainPb,
  toHex,
  toPb,
  varintHex,
} from './helpers.js'
import {
  ALL_FIELDS,
  ALL_FIELDS_HEX,
  CONTAINER_VECTORS,
  ENVELOPE_VECTORS,
  hasLoneSurrogate,
} from './vectors.js'

describe('MessageEnvelope test vectors', () => {
  it('strips the vector comments correctly', () => {
    expect(hex(ALL_FIELDS_HEX)).toHaveLength(31)
  })

  it.each(ENVELOPE_VECTORS)('%s: encodes to exactly the vector', (_, bytes, init) => {
    expect(toHex(encodeEnvelope(init))).toBe(toHex(hex(bytes)))
  })

  it.each(ENVELOPE_VECTORS)('%s: decodes to the fields', (_, bytes, init) => {
    const expected = plainInit(init)
    for (const h of expected.header) {
      h.key = h.key.replace(/[\uD800-\uDFFF]/gu, '\uFFFD')
      h.value = h.value.replace(/[\uD800-\uDFFF]/gu, '\uFFFD')
    }
    expect(plain(decodeEnvelope(hex(bytes)))).toEqual(expected)
  })

  it.each(ENVELOPE_VECTORS.filter(([, , init]) => !hasLoneSurrogate(init)))(
    '%s: the generated class reads the vector alike',
    (_, bytes, init) => {
      expect(plainPb(rony.MessageEnvelope.decode(hex(bytes)))).toEqual(plainInit(init))
    },
  )

  it('writes every varint length boundary of the ctor', () => {
    for (let k = 1n; k <= 9n; k++) {
      for (const ctor of [2n ** (7n * k) - 1n, 2n ** (7n * k)]) {
        const bytes = encodeEnvelope({ ctor })
        expect(toHex(bytes), `ctor ${ctor}`).toBe(`08${varintHex(ctor)}`)
        expect(decodeEnvelope(bytes).ctor).toBe(ctor)
      }
    }
  })

  it('decodes message and auth as views into the input', () => {
    const input = hex(ALL_FIELDS_HEX)
    const envelope = decodeEnvelope(input)
    expect(envelope.message.buffer).toBe(input.buffer)
    expect(envelope.auth.buffer).toBe(input.buffer)
  })

  it('decodes from a view with a non-zero offset', () => {
    const backing = hex(`ff ff ${ALL_FIELDS_HEX} ff`)
    expect(plain(decodeEnvelope(backing.subarray(2, 33)))).toEqual(plainInit(ALL_FIELDS))
  })
})

describe('MessageContainer test vectors', () => {
  it.each(CONTAINER_VECTORS)('%s: encodes to exactly the vector', (_, bytes, init) => {
    expect(toHex(encodeContainer(init))).toBe(toHex(hex(bytes)))
  })

  it.each(CONTAINER_VECTORS)('%s: decodes to the fields', (_, bytes, init) => {
    const container = decodeContainer(hex(bytes))
    expect(container.syncRun).toBe(init.syncRun ?? false)
    expect(container.envelopes.map(plain)).toEqual(init.envelopes.map(plainInit))
  })
})

const arbContainerInit = fc.record({
  envelopes: fc.array(arbEnvelopeInit, { maxLength: 4 }),
  syncRun: fc.boolean(),
})

describe('cross-check with the generated protobufjs classes', () => {
  it('rony.MessageEnvelope reads what encodeEnvelope writes', () => {
    fc.assert(
      fc.property(arbEnvelopeInit, (init) => {
        expect(plainPb(rony.MessageEnvelope.decode(encodeEnvelope(init)))).toEqual(plainInit(init))
      }),
      { numRuns: 500 },
    )
  })

  it('decodeEnvelope reads what rony.MessageEnvelope writes', () => {
    fc.assert(
      fc.property(arbEnvelopeInit, (init) => {
        const bytes = rony.MessageEnvelope.encode(toPb(init)).finish()
        expect(plain(decodeEnvelope(bytes))).toEqual(plainInit(init))
      }),
      { numRuns: 500 },
    )
  })

  it('both write the same bytes (both canonical, in field order)', () => {
    fc.assert(
      fc.property(arbEnvelopeInit, (init) => {
        const ours = toHex(encodeEnvelope(init))
        expect(ours).toBe(toHex(rony.MessageEnvelope.encode(toPb(init)).finish()))
      }),
      { numRuns: 500 },
    )
  })

  it('rony.MessageContainer reads what encodeContainer writes', () => {
    fc.assert(
      fc.property(arbContainerInit, (init) => {
        const decoded = rony.MessageContainer.decode(encodeContainer(init))
        expect(decoded.Length).toBe(init.envelopes.length)
        expect(decoded.SyncRun).toBe(init.syncRun)
        expect(decoded.Envelopes.map(plainPb)).toEqual(init.envelopes.map(plainInit))
      }),
      { numRuns: 300 },
    )
  })

  it('decodeContainer reads what rony.MessageContainer writes', () => {
    fc.assert(
      fc.property(arbContainerInit, (init) => {
        const bytes = rony.MessageContainer.encode({
          Length: init.envelopes.length,
          Envelopes: init.envelopes.map(toPb),
          SyncRun: init.syncRun,
        }).finish()
        const container = decodeContainer(bytes)
        expect(container.syncRun).toBe(init.syncRun)
        expect(container.envelopes.map(plain)).toEqual(init.envelopes.map(plainInit))
      }),
      { numRuns: 300 },
    )
  })

  it('round-trips envelopes and containers through its own codec', () => {
    fc.assert(
      fc.property(arbEnvelopeInit, arbContainerInit, (init, containerInit) => {
        expect(plain(decodeEnvelope(encodeEnvelope(init)))).toEqual(plainInit(init))
        const container = decodeContainer(encodeContainer(containerInit))
        expect(container.envelopes.map(plain)).toEqual(containerInit.envelopes.map(plainInit))
        expect(container.syncRun).toBe(containerInit.syncRun)
      }),
      { numRuns: 300 },
    )
  })
})

describe('decoder tolerance', () => {
  it('skips unknown fields of every wire type, groups included', () => {
    const bytes = hex(`
      08 01
      28 96 01                          # field 5 varint 150
      31 01 02 03 04 05 06 07 08        # field 6 fixed64
      3a 03 61 62 63                    # field 7 bytes
      4d 01 02 03 04                    # field 9 fixed32
      5b 08 05 63 08 01 64 2a 01 00 5c  # field 11 group holding a varint, a group, bytes
      f8 ff ff ff 0f 00                 # field 2^29-1 varint
      18 01
    `)
    expect(rony.MessageEnvelope.decode(bytes).Constructor.toString()).toBe('1') // a valid vector
    expect(plain(decodeEnvelope(bytes))).toEqual(plainInit({ ctor: 1n, jsonEncoded: true }))
  })

  it('skips unknown fields inside a header entry and a container', () => {
    // Entry: 0a 01 61 (3) + 28 01 (2) + 12 01 62 (3) = 8.
    const envelope = decodeEnvelope(hex('52 08 0a 01 61 28 01 12 01 62'))
    expect(envelope.header).toEqual([{ key: 'a', value: 'b' }])
    // Length says 5 (informational) and unknown field 4 is skipped.
    const container = decodeContainer(hex('08 05  22 01 00  12 02 08 07  25 00 00 00 00'))
    expect(container.envelopes.map((e) => e.ctor)).toEqual([7n])
  })

  it('skips known fields with the wrong wire type', () => {
    const bytes = hex(`
      09 01 00 00 00 00 00 00 00   # ctor as fixed64
      10 05                        # requestId as varint
      1a 01 01                     # jsonEncoded as bytes
      20 01                        # message as varint
      45 01 02 03 04               # auth as fixed32
      50 01                        # header as varint
      52 02 08 01                  # key as varint inside an entry
    `)
    expect(plain(decodeEnvelope(bytes))).toEqual(
      plainInit({ ctor: 0n, header: [{ key: '', value: '' }] }),
    )
    const container = decodeContainer(hex('10 01  1a 01 01  12 00'))
    expect(container).toMatchObject({ syncRun: false, envelopes: [{ ctor: 0n }] })
  })

  it('keeps the last occurrence of a scalar or bytes field', () => {
    const bytes = hex(`08 01 08 02  11 ${'01'.repeat(8)} 11 ${'02'.repeat(8)}  18 01 18 00
      22 01 aa 22 01 bb  42 01 cc 42 00  52 03 0a 01 61 52 03 0a 01 62`)
    expect(plain(decodeEnvelope(bytes))).toEqual(
      plainInit({
        ctor: 2n,
        requestId: 0x0202020202020202n,
        message: hex('bb'),
        header: [
          { key: 'a', value: '' },
          { key: 'b', value: '' },
        ],
      }),
    )
    expect(decodeContainer(hex('18 01 18 00')).syncRun).toBe(false)
    expect(decodeEnvelope(hex('52 06 0a 01 61 0a 01 62')).header).toEqual([{ key: 'b', value: '' }])
  })

  it('reads non-canonical varints and any non-zero bool as true', () => {
    expect(decodeEnvelope(hex('08 81 80 80 80 80 80 80 80 80 00')).ctor).toBe(1n)
    expect(decodeEnvelope(hex('18 80 01')).jsonEncoded).toBe(true)
    expect(decodeEnvelope(hex('18 80 00')).jsonEncoded).toBe(false)
  })

  it('accepts groups nested 64 deep', () => {
    expect(decodeEnvelope(hex(`08 01 ${'5b'.repeat(64)}${'5c'.repeat(64)}`)).ctor).toBe(1n)
  })
})

describe('decoder rejections', () => {
  it.each([
    ['truncated varint', '08 80'],
    ['missing varint', '08'],
    ['truncated tag', '80'],
    ['truncated fixed64', '11 01 02 03'],
    ['truncated unknown fixed32', '25 01 02'],
    ['length beyond end', '22 05 01 02'],
    ['length beyond a header entry', '52 02 0a 03 61 62 63'],
    ['11-byte varint', '08 80 80 80 80 80 80 80 80 80 80 01'],
    ['11-byte bool varint', '18 80 80 80 80 80 80 80 80 80 80 01'],
    ['10-byte varint overflowing 64 bits (ctor)', '08 ff ff ff ff ff ff ff ff ff 02'],
    ['field number 0, varint', '00 00'],
    ['field number 0, bytes', '02 00'],
    ['wire type 6', '2e 00'],
    ['wire type 7', '2f 00'],
    ['wire type 6 on a known field', '0e 00'],
    ['unmatched end-group', '08 01 5c'],
    ['unterminated group', '5b 08 01'],
    ['groups nested 65 deep', `${'5b'.repeat(65)}${'5c'.repeat(65)}`],
  ])('%s', (_, bytes) => {
    expectInvalidEnvelope(() => decodeEnvelope(hex(bytes)))
    // The same bytes inside a container's envelope are rejected too.
    const container = hex(`12 ${varintHex(BigInt(hex(bytes).length))} ${bytes}`)
    expectInvalidEnvelope(() => decodeContainer(container))
  })

  it('bounds an envelope inside a container by its length', () => {
    // The envelope is 2 bytes (08 80); the 01 after it belongs to the container.
    expectInvalidEnvelope(() => decodeContainer(hex('12 02 08 80 01')))
    expectInvalidEnvelope(() => decodeContainer(hex('12 05 08 01')))
  })

  it('rejects more bytes than limits.maxEnvelopeBytes', () => {
    const limits = { maxEnvelopeBytes: 10, maxContainerEnvelopes: 1024 }
    const ten = hex('08 01 22 06 00 00 00 00 00 00')
    expect(decodeEnvelope(ten, limits).message).toHaveLength(6)
    const eleven = hex('08 01 22 07 00 00 00 00 00 00 00')
    expectInvalidEnvelope(() => decodeEnvelope(eleven, limits), 'RONY_ERR_ENVELOPE_TOO_LARGE')
    expectInvalidEnvelope(() => decodeContainer(eleven, limits), 'RONY_ERR_ENVELOPE_TOO_LARGE')
    const big = new Uint8Array(DEFAULT_LIMITS.maxEnvelopeBytes + 1)
    expectInvalidEnvelope(() => decodeEnvelope(big), 'RONY_ERR_ENVELOPE_TOO_LARGE')
  })

  it('rejects a container over maxContainerEnvelopes with E03', () => {
    const limits = { maxEnvelopeBytes: 1024, maxContainerEnvelopes: 2 }
    expect(decodeContainer(hex('12 00 12 00'), limits).envelopes).toHaveLength(2)
    const error = catchRonyError(() => decodeContainer(hex('12 00 12 00 12 00'), limits))
    expect(error.wireCode).toBe('E03')
    expect(error.items).toBe('ENVELOPES')
    expect(error.code).toBe('RONY_ERR_CONTAINER_TOO_LARGE')
  })

  it('resolveLimits merges over the defaults and rejects nonsense', () => {
    expect(resolveLimits()).toEqual(DEFAULT_LIMITS)
    expect(DEFAULT_LIMITS).toEqual({ maxEnvelopeBytes: 1024 * 1024, maxContainerEnvelopes: 1024 })
    expect(resolveLimits({ maxContainerEnvelopes: 5 })).toEqual({
      maxEnvelopeBytes: 1024 * 1024,
      maxContainerEnvelopes: 5,
    })
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => resolveLimits({ maxEnvelopeBytes: bad })).toThrow(RangeError)
    }
  })

  it('rejects input that is not a Uint8Array', () => {
    expectInvalidEnvelope(() => decodeEnvelope('08 01' as unknown as Uint8Array))
    expectInvalidEnvelope(() => decodeContainer([8, 1] as unknown as Uint8Array))
  })
})

// Go's proto.Unmarshal (protowire.ConsumeFieldValue / ConsumeVarint) rejects these; the
// reader's own contract is that every malformed varint and group throws.
describe('decoder strictness like Go', () => {
  it('rejects an end-group whose field number differs from its start-group', () => {
    const bytes = hex('08 01  5b  64') // start group 11, end group 12
    expect(() => rony.MessageEnvelope.decode(bytes)).toThrow(/end group/)
    expectInvalidEnvelope(() => decodeEnvelope(bytes))
  })

  it('rejects a 10-byte varint overflowing 64 bits in a bool field, as it does for ctor', () => {
    expectInvalidEnvelope(() => decodeEnvelope(hex('08 ff ff ff ff ff ff ff ff ff 7f')))
    expectInvalidEnvelope(() => decodeEnvelope(hex('18 ff ff ff ff ff ff ff ff ff 7f')))
  })

  it('rejects a 10-byte varint overflowing 64 bits in an unknown field', () => {
    expectInvalidEnvelope(() => decodeEnvelope(hex('28 ff ff ff ff ff ff ff ff ff 7f')))
  })

  it('accepts padded tag and length varints whose value fits 32 bits, as Go does', () => {
    // tag 08 padded to 6 bytes; message length 2 padded to 10 bytes
    const bytes = hex('88 80 80 80 80 00 01  22 82 80 80 80 80 80 80 80 80 00 68 69')
    expect(plain(decodeEnvelope(bytes))).toEqual(plainInit({ ctor: 1n, message: hex('6869') }))
  })

  it('rejects a length varint over 32 bits or longer than 10 bytes', () => {
    expectInvalidEnvelope(() => decodeEnvelope(hex('22 80 80 80 80 10 00'))) // 2^32
    expectInvalidEnvelope(() => decodeEnvelope(hex('22 80 80 80 80 80 01'))) // 2^35
    expectInvalidEnvelope(() => decodeEnvelope(hex('22 80 80 80 80 80 80 80 80 80 80 00'))) // 11 bytes
  })
})

describe('encoder argument checks', () => {
  it.each([
    ['ctor -1n', { ctor: -1n }],
    ['ctor 2^64', { ctor: 2n ** 64n }],
    ['ctor as a number', { ctor: 1 as unknown as bigint }],
    ['requestId -1n', { ctor: 1n, requestId: -1n }],
    ['requestId 2^64', { ctor: 1n, requestId: 2n ** 64n }],
  ])('%s throws TypeError', (_, init: EnvelopeInit) => {
    expect(() => encodeEnvelope(init)).toThrow(TypeError)
    expect(() => encodeContainer({ envelopes: [{ ctor: 1n }, init] })).toThrow(TypeError)
  })
})
