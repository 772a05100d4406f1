import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BUILTIN_TYPES,
  createRegistry,
  decodeContainer,
  decodeEnvelope,
  encodeContainer,
  encodeEnvelope,
  encodeFrame,
  FrameDecoder,
  RonyError,
  rony,
} from '../src/index.js'
import { arbEnvelopeInit, plain, plainPb, toLong, U64_MAX } from './helpers.js'

const RUNS = { numRuns: 2000, interruptAfterTimeLimit: 15_000 }

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'duplicate'; from: number; length: number; at: number }

const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
      fc.constantFrom(
        ...[[0x80], [0xff, 0xff], [0x0b], [0x0c], [0x0f], [0x00]].map((b) => Uint8Array.from(b)),
      ),
    ),
  }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    from: fc.nat(),
    length: fc.integer({ min: 1, max: 16 }),
    at: fc.nat(),
  }),
)

function mutate(input: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(input)
  for (const m of mutations) {
    const at = m.at % (bytes.length + 1)
    if (m.kind === 'flip') {
      if (bytes.length > 0) bytes[at % bytes.length]! ^= 1 << m.bit
    } else if (m.kind === 'truncate') {
      bytes = bytes.slice(0, at)
    } else {
      const insert =
        m.kind === 'insert'
          ? m.bytes
          : bytes.slice(m.from % (bytes.length + 1), (m.from % (bytes.length + 1)) + m.length)
      bytes = Uint8Array.from([...bytes.subarray(0, at), ...insert, ...bytes.subarray(at)])
    }
  }
  return bytes
}

const arbSmallEnvelope = arbEnvelopeInit.map((init) => ({
  ...init,
  message: init.message?.subarray(0, 24) ?? new Uint8Array(0),
  header: init.header?.slice(0, 2) ?? [],
}))

/** Valid encodings of every message the decoders and the registry know. */
const arbValid: fc.Arbitrary<Uint8Array> = fc.oneof(
  arbSmallEnvelope.map(encodeEnvelope),
  fc
    .record({ envelopes: fc.array(arbSmallEnvelope, { maxLength: 3 }), syncRun: fc.boolean() })
    .map(encodeContainer),
  fc
    .record({ id: fc.bigInt({ min: 0n, max: U64_MAX }), s: fc.string({ maxLength: 12 }) })
    .map(({ id, s }) =>
      rony.Redirect.encode({
        Reason: 1,
        WaitInSec: 3,
        Edges: [{ ReplicaSet: toLong(id), ServerID: s, HostPorts: [s, 'h:1'] }],
      }).finish(),
    ),
  fc
    .array(fc.bigInt({ min: 0n, max: U64_MAX }), { maxLength: 4 })
    .map((ids) => rony.GetNodes.encode({ ReplicaSet: ids.map(toLong) }).finish()),
  fc.string({ maxLength: 12 }).map((s) => rony.Error.encode({ Code: 'E01', Items: s }).finish()),
)

/** Random bytes, and valid encodings mutated by bit flips, truncation, insertion, duplication. */
const arbInput: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .tuple(arbValid, fc.array(arbMutation, { minLength: 1, maxLength: 4 }))
    .map(([b, m]) => mutate(b, m)),
)

/** Runs `fn`: it must return, or throw a RonyError with one of `wireCodes`. */
function valueOrRonyError<T>(fn: () => T, wireCodes: readonly string[] = ['E01']): T | RonyError {
  try {
    return fn()
  } catch (error) {
    expect(error).toBeInstanceOf(RonyError)
    expect(wireCodes).toContain((error as RonyError).wireCode)
    return error as RonyError
  }
}

describe('fuzz: decoders never throw anything but RonyError', () => {
  it('mutate() really mutates (sanity of the generator)', () => {
    const bytes = Uint8Array.of(1, 2, 3, 4)
    expect([...mutate(bytes, [{ kind: 'flip', at: 1, bit: 0 }])]).toEqual([1, 3, 3, 4])
    expect([...mutate(bytes, [{ kind: 'truncate', at: 2 }])]).toEqual([1, 2])
    expect([...mutate(bytes, [{ kind: 'insert', at: 1, bytes: Uint8Array.of(9) }])]).toEqual([
      1, 9, 2, 3, 4,
    ])
    expect([...mutate(bytes, [{ kind: 'duplicate', from: 1, length: 2, at: 4 }])]).toEqual([
      1, 2, 3, 4, 2, 3,
    ])
  })

  it('decodeEnvelope: a value (that re-encodes to itself) or RonyError E01', () => {
    const seen = { value: 0, error: 0 }
    fc.assert(
      fc.property(arbInput, (bytes) => {
        const result = valueOrRonyError(() => decodeEnvelope(bytes))
        seen[result instanceof RonyError ? 'error' : 'value']++
        if (result instanceof RonyError) return
        expect(result.ctor >= 0n && result.ctor <= U64_MAX).toBe(true)
        expect(result.requestId >= 0n && result.requestId <= U64_MAX).toBe(true)
        if (result.message.length > 0) expect(result.message.buffer).toBe(bytes.buffer)
        const again = decodeEnvelope(encodeEnvelope(result))
        expect(plain(again)).toEqual(plain(result))
      }),
      RUNS,
    )
    // Both outcomes were exercised, so the assertions on decoded values ran.
    expect(seen.value).toBeGreaterThan(100)
    expect(seen.error).toBeGreaterThan(100)
  })

  it('decodeEnvelope agrees with rony.MessageEnvelope.decode whenever both accept', () => {
    let both = 0
    fc.assert(
      fc.property(arbInput, (bytes) => {
        let theirs: ReturnType<typeof plainPb>
        try {
          theirs = plainPb(rony.MessageEnvelope.decode(bytes))
        } catch {
          return
        }
        const ours = valueOrRonyError(() => decodeEnvelope(bytes))
        if (ours instanceof RonyError) return
        both++
        expect(plain(ours)).toEqual(theirs)
      }),
      RUNS,
    )
    expect(both).toBeGreaterThan(100) // the comparison did happen
  })

  it('decodeContainer: a value or RonyError E01/E03', () => {
    const limits = { maxEnvelopeBytes: 1 << 20, maxContainerEnvelopes: 2 }
    fc.assert(
      fc.property(arbInput, (bytes) => {
        const result = valueOrRonyError(() => decodeContainer(bytes, limits), ['E01', 'E03'])
        if (result instanceof RonyError) return
        expect(result.envelopes.length).toBeLessThanOrEqual(2)
        expect(typeof result.syncRun).toBe('boolean')
      }),
      RUNS,
    )
  })

  it('decodeEnvelope and decodeContainer under a tight byte limit: only E01', () => {
    fc.assert(
      fc.property(arbInput, fc.integer({ min: 1, max: 32 }), (bytes, maxEnvelopeBytes) => {
        const limits = { maxEnvelopeBytes, maxContainerEnvelopes: 1024 }
        valueOrRonyError(() => decodeEnvelope(bytes, limits))
        valueOrRonyError(() => decodeContainer(bytes, limits))
      }),
      RUNS,
    )
  })

  it('FrameDecoder.push: frames within the limit or RonyError E01, then only RonyError', () => {
    const arbStream = fc.oneof(
      fc.array(fc.uint8Array({ maxLength: 24 }), { maxLength: 8 }),
      fc
        .tuple(
          fc.array(arbValid, { maxLength: 4 }),
          fc.array(arbMutation, { maxLength: 3 }),
          fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 4 }),
        )
        .map(([payloads, mutations, sizes]) => {
          const frames = payloads.flatMap((p) => [...encodeFrame(p)])
          const stream = mutate(Uint8Array.from(frames), mutations)
          const chunks: Uint8Array[] = []
          for (let pos = 0, i = 0; pos < stream.length; i++) {
            const size = sizes[i % sizes.length]!
            chunks.push(stream.subarray(pos, pos + size))
            pos += size
          }
          return chunks
        }),
    )
    fc.assert(
      fc.property(arbStream, fc.integer({ min: 0, max: 300 }), (chunks, maxFrameBytes) => {
        const decoder = new FrameDecoder({ maxFrameBytes })
        let failed = false
        for (const chunk of chunks) {
          const result = valueOrRonyError(() => decoder.push(chunk))
          if (result instanceof RonyError) failed = true
          else {
            expect(failed).toBe(false)
            for (const frame of result) expect(frame.length).toBeLessThanOrEqual(maxFrameBytes)
          }
          expect(decoder.buffered).toBeLessThanOrEqual(Math.max(5, maxFrameBytes))
        }
        valueOrRonyError(() => decoder.end())
      }),
      RUNS,
    )
  })

  it('registry.decode of every built-in: a value or RonyError E01', () => {
    const registry = createRegistry()
    const ctors = [...registry].map((entry) => entry.ctor)
    expect(ctors).toHaveLength(BUILTIN_TYPES.length)
    fc.assert(
      fc.property(arbInput, (bytes) => {
        for (const ctor of ctors) valueOrRonyError(() => registry.decode(ctor, bytes))
      }),
      RUNS,
    )
  })
})
