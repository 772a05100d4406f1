import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeFrames, encodeFrame, encodeFrames, FrameDecoder, RonyError } from '../src/index.js'
import { catchRonyError, hex, toHex } from './helpers.js'

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let pos = 0
  for (const part of parts) {
    out.set(part, pos)
    pos += part.length
  }
  return out
}

/** Splits `bytes` into chunks of the given sizes, cycling through them. */
function chunk(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = []
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const size = sizes[i % sizes.length]!
    chunks.push(bytes.slice(pos, pos + size))
    pos += size
  }
  return chunks
}

function pushAll(decoder: FrameDecoder, chunks: readonly Uint8Array[]): string[] {
  return chunks.flatMap((c) => decoder.push(c)).map(toHex)
}

function expectBadFrame(fn: () => unknown): RonyError {
  const error = catchRonyError(fn)
  expect(error.wireCode).toBe('E01')
  expect(error.items).toBe('ENVELOPE')
  expect(error.code).toBe('RONY_ERR_BAD_FRAME')
  return error
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<string[]> {
  const frames: string[] = []
  for await (const frame of source) frames.push(toHex(frame))
  return frames
}

async function* asAsync<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve()
    yield item
  }
}

const arbPayloads = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 })

describe('encodeFrame', () => {
  // Varint prefixes: 127 = 7f; 128 = 80 01; 300 = 0x12c → (0x2c | 0x80) 02 = ac 02;
  // 16383 = ff 7f; 16384 = 2^14 → 80 80 01.
  it.each([
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '80 01'],
    [300, 'ac 02'],
    [16383, 'ff 7f'],
    [16384, '80 80 01'],
  ])('prefixes a %i-byte payload with %s', (length, prefix) => {
    const payload = Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff)
    const frame = encodeFrame(payload)
    expect(toHex(frame)).toBe(toHex(hex(prefix)) + toHex(payload))
  })

  it('writes a one-byte payload as 01 <byte>', () => {
    expect(toHex(encodeFrame(hex('aa')))).toBe('01aa')
  })
})

describe('FrameDecoder', () => {
  it('gives the same frames fed all at once, byte by byte, or in random chunks', () => {
    fc.assert(
      fc.property(
        arbPayloads,
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
        (payloads, sizes) => {
          const stream = concat(payloads.map(encodeFrame))
          const expected = payloads.map(toHex)
          for (const chunks of [[stream], chunk(stream, [1]), chunk(stream, sizes)]) {
            const decoder = new FrameDecoder()
            expect(pushAll(decoder, chunks)).toEqual(expected)
            expect(decoder.buffered).toBe(0)
            expect(() => decoder.end()).not.toThrow()
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('returns a frame inside one chunk as a view of that chunk', () => {
    const stream = concat([encodeFrame(hex('0102')), encodeFrame(hex('030405'))])
    const frames = new FrameDecoder().push(stream)
    expect(frames.map(toHex)).toEqual(['0102', '030405'])
    for (const frame of frames) expect(frame.buffer).toBe(stream.buffer)
    expect(frames.map((f) => f.byteOffset)).toEqual([1, 4])
  })

  it('returns a frame split across chunks as an exact-length copy', () => {
    const decoder = new FrameDecoder()
    const first = hex('05 01 02')
    expect(decoder.push(first)).toEqual([])
    expect(decoder.buffered).toBe(2)
    const last = hex('03 04 05 00')
    const frames = decoder.push(last)
    expect(frames.map(toHex)).toEqual(['0102030405', ''])
    const split = frames[0]!
    expect(split.byteLength).toBe(5)
    expect(split.buffer).not.toBe(first.buffer)
    expect(split.buffer).not.toBe(last.buffer)
    // A copy: reusing the chunks afterwards does not change the frame.
    first.fill(0xee)
    last.fill(0xee)
    expect(toHex(split)).toBe('0102030405')
  })

  it('returns a view when only the prefix was split', () => {
    const decoder = new FrameDecoder()
    expect(decoder.push(hex('80'))).toEqual([])
    const rest = hex(`01 ${'ee'.repeat(128)}`)
    const [frame] = decoder.push(rest)
    expect(frame).toHaveLength(128)
    expect(frame!.buffer).toBe(rest.buffer)
  })

  it('accepts a frame of exactly maxFrameBytes and a non-canonical prefix', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 100 })
    expect(decoder.push(hex(`64 ${'00'.repeat(100)}`))[0]).toHaveLength(100)
    expect(decoder.push(hex('83 80 80 80 00 0a 0b 0c')).map(toHex)).toEqual(['0a0b0c'])
  })

  it('throws on an oversized prefix before any of the body arrives', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 100 })
    expectBadFrame(() => decoder.push(hex('65'))) // 101
    expect(decoder.buffered).toBeLessThanOrEqual(5)
  })

  it('throws on the default limit (1 MiB) as soon as the prefix is complete', () => {
    const decoder = new FrameDecoder()
    // 1 MiB + 1 = 0x100001 → 81 80 40.
    expect(decoder.push(hex('81 80'))).toEqual([])
    expect(decoder.buffered).toBe(2)
    expectBadFrame(() => decoder.push(hex('40')))
    expect(decoder.buffered).toBeLessThanOrEqual(5)
    expectBadFrame(() => new FrameDecoder().push(hex('ff ff ff ff 0f'))) // 2^32-1
  })

  it('throws on a 6-byte length prefix', () => {
    for (const prefix of ['80 80 80 80 80 80', '80 80 80 80 80 00', 'ff ff ff ff ff 01']) {
      const decoder = new FrameDecoder({ maxFrameBytes: 0xffffffff })
      const bytes = hex(prefix)
      expectBadFrame(() => {
        for (let i = 0; i < bytes.length; i++) decoder.push(bytes.subarray(i, i + 1))
      })
      expect(decoder.buffered).toBeLessThanOrEqual(5)
    }
  })

  it('end() does not throw on a fresh decoder or after whole frames', () => {
    expect(() => new FrameDecoder().end()).not.toThrow()
    const decoder = new FrameDecoder()
    decoder.push(hex('00  02 01 02  00'))
    expect(() => decoder.end()).not.toThrow()
  })

  it.each([
    ['inside the prefix', '80'],
    ['inside the body', '05 01 02'],
    ['after a whole frame, inside the next body', '01 aa 03 01'],
    ['right after the prefix, before any body byte', '05'],
  ])('end() throws when the stream stopped %s', (_, bytes) => {
    const decoder = new FrameDecoder()
    decoder.push(hex(bytes))
    expectBadFrame(() => decoder.end())
  })

  it('is unusable after an error', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 10 })
    expectBadFrame(() => decoder.push(hex('0b')))
    const error = catchRonyError(() => decoder.push(encodeFrame(hex('01'))))
    expect(error.wireCode).toBe('E01')
    expect(() => decoder.push(new Uint8Array(0))).toThrow(RonyError)
    expectBadFrame(() => decoder.end())
  })

  it('rejects a maxFrameBytes outside [0, 2^32)', () => {
    for (const maxFrameBytes of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => new FrameDecoder({ maxFrameBytes })).toThrow(RangeError)
    }
    const decoder = new FrameDecoder({ maxFrameBytes: 0 })
    expect(decoder.push(hex('00 00'))).toHaveLength(2)
    expectBadFrame(() => decoder.push(hex('01 aa')))
  })
})

describe('decodeFrames and encodeFrames', () => {
  it('decodes frames from an async iterable of chunks', async () => {
    const stream = hex('02 01 02  00  03 0a 0b 0c')
    expect(await collect(decodeFrames(asAsync(chunk(stream, [3, 1]))))).toEqual([
      '0102',
      '',
      '0a0b0c',
    ])
  })

  it('decodes frames from a sync iterable', async () => {
    expect(await collect(decodeFrames([hex('01'), hex('ff 00')]))).toEqual(['ff', ''])
  })

  it('rejects with RonyError when the stream ends inside a frame', async () => {
    const error = await collect(decodeFrames(asAsync([hex('03 01 02')]))).catch((e) => e)
    expect(error).toBeInstanceOf(RonyError)
    expect((error as RonyError).code).toBe('RONY_ERR_BAD_FRAME')
  })

  it('passes maxFrameBytes on', async () => {
    const frames = decodeFrames(asAsync([encodeFrame(new Uint8Array(20))]), { maxFrameBytes: 10 })
    await expect(collect(frames)).rejects.toBeInstanceOf(RonyError)
  })

  it('round-trips encodeFrames → decodeFrames through arbitrary chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbPayloads,
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
        async (payloads, sizes) => {
          const encoded: Uint8Array[] = []
          for await (const frame of encodeFrames(asAsync(payloads))) encoded.push(frame)
          expect(encoded.map(toHex)).toEqual(payloads.map((p) => toHex(encodeFrame(p))))
          const chunks = chunk(concat(encoded), sizes)
          expect(await collect(decodeFrames(asAsync(chunks)))).toEqual(payloads.map(toHex))
        },
      ),
      { numRuns: 200 },
    )
  })
})
