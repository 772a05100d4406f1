import { describe, expect, it } from 'vitest'
import { formatHostPort, parseHostPort } from '../src/address.js'
import { encodeFrame, encodePrefix, FrameDecoder, FrameError } from '../src/framing.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('framing', () => {
  it('encodes varint prefixes as unsigned LEB128', () => {
    expect(hex(encodePrefix(0))).toBe('00')
    expect(hex(encodePrefix(127))).toBe('7f')
    expect(hex(encodePrefix(128))).toBe('8001')
    expect(hex(encodePrefix(300))).toBe('ac02')
    expect(hex(encodePrefix(8 * 1024 * 1024))).toBe('80808004')
    expect(hex(encodePrefix(0xffffffff))).toBe('ffffffff0f')
    expect(() => encodePrefix(-1)).toThrow(RangeError)
    expect(hex(encodeFrame(new Uint8Array([0xaa, 0xbb])))).toBe('02aabb')
  })

  it('decodes frames across arbitrary chunk boundaries', () => {
    const bytes = Buffer.from(`02aabb00ac02${'cc'.repeat(300)}01dd`, 'hex')
    for (const step of [1, 2, 3, 7, 64, bytes.length]) {
      const d = new FrameDecoder(1_000)
      const frames: string[] = []
      for (let i = 0; i < bytes.length; i += step) {
        for (const f of d.push(bytes.subarray(i, i + step))) frames.push(hex(f))
      }
      expect(frames).toEqual(['aabb', '', 'cc'.repeat(300), 'dd'])
      expect(d.inFrame).toBe(false)
    }
  })

  it('refuses an oversize announcement before buffering, and then any input', () => {
    const d = new FrameDecoder(100)
    expect(() => d.push(Buffer.from('6501', 'hex'))).toThrow(FrameError)
    expect(() => d.push(Buffer.from('00', 'hex'))).toThrow(/after an error/)
  })

  it('refuses a prefix longer than five bytes', () => {
    const d = new FrameDecoder(2 ** 32 - 1)
    expect(() => d.push(Buffer.from('ffffffffff', 'hex'))).toThrow(/too long/)
  })

  it('reports an incomplete frame', () => {
    const d = new FrameDecoder(100)
    expect(d.push(Buffer.from('05aabb', 'hex'))).toEqual([])
    expect(d.inFrame).toBe(true)
    expect(d.buffered).toBe(2)
  })
})

describe('host:port addresses', () => {
  it('parses IPv4, names and bracketed IPv6, and formats them back', () => {
    expect(parseHostPort('127.0.0.1:7946')).toEqual({ host: '127.0.0.1', port: 7946 })
    expect(parseHostPort('node-1.local:0')).toEqual({ host: 'node-1.local', port: 0 })
    expect(parseHostPort('[::1]:9001')).toEqual({ host: '::1', port: 9001 })
    expect(formatHostPort('::1', 9001)).toBe('[::1]:9001')
    expect(formatHostPort('10.0.0.1', 1)).toBe('10.0.0.1:1')
  })

  it('rejects malformed addresses', () => {
    for (const bad of ['', '127.0.0.1', ':80', '::1:80', '[::1]80', 'h:65536', 'h:-1', 'h:8x']) {
      expect(parseHostPort(bad)).toBeUndefined()
    }
  })
})
