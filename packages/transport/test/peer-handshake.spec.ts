import { describe, expect, it } from 'vitest'
import { MAX_HELLO_FIELD_BYTES, peerHandshake } from '../src/index.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

describe('peerHandshake', () => {
  const hello = peerHandshake('p/1')

  it('encodes protocol, from and to as length-prefixed UTF-8', () => {
    expect(hex(hello.encode('a', 'bé'))).toBe('03702f3101610362c3a9')
    expect(hello.decode(hello.encode('n1', 'n2'))).toEqual({ from: 'n1', to: 'n2' })
  })

  it('refuses a hello of another protocol', () => {
    expect(peerHandshake('p/2').decode(hello.encode('n1', 'n2'))).toBeUndefined()
    expect(peerHandshake().decode(hello.encode('n1', 'n2'))).toBeUndefined()
  })

  it('refuses truncated, padded, empty-field and non-UTF-8 frames without throwing', () => {
    const good = hello.encode('n1', 'n2')
    for (let end = 0; end < good.byteLength; end++) {
      expect(hello.decode(good.subarray(0, end))).toBeUndefined()
    }
    expect(hello.decode(Uint8Array.of(...good, 0))).toBeUndefined()
    expect(hello.decode(Uint8Array.of(3, 0x70, 0x2f, 0x31, 0, 1, 0x62))).toBeUndefined()
    expect(hello.decode(Uint8Array.of(3, 0x70, 0x2f, 0x31, 1, 0xff, 1, 0x62))).toBeUndefined()
    expect(hello.decode(new Uint8Array(0))).toBeUndefined()
  })

  it('takes ids up to 255 bytes and refuses longer or empty ones', () => {
    const longest = 'x'.repeat(MAX_HELLO_FIELD_BYTES)
    expect(hello.decode(hello.encode(longest, 'n2'))).toEqual({ from: longest, to: 'n2' })
    expect(() => hello.encode(`${longest}x`, 'n2')).toThrow(RangeError)
    expect(() => hello.encode('n1', '')).toThrow(RangeError)
    expect(() => peerHandshake('')).toThrow(RangeError)
  })
})
