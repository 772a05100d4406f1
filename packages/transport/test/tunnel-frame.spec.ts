import { isCodedError } from '@rony/interface'
import { describe, expect, it } from 'vitest'
import { decodeFrame, encodeFrame, FrameKind } from '../src/tunnel/frame.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('tunnel frame', () => {
  it('is kind, big-endian uint32 id, payload', () => {
    expect(hex(encodeFrame(FrameKind.Request, 0x01020304, new Uint8Array([0xaa])))).toBe(
      '0101020304aa',
    )
    expect(hex(encodeFrame(FrameKind.Cancel, 0xffffffff))).toBe('06ffffffff')
    const frame = decodeFrame(new Uint8Array([0xff, 2, 0, 0, 0, 0x80, 9, 8]).subarray(1))
    expect(frame).toEqual({ kind: FrameKind.Response, id: 0x80, payload: new Uint8Array([9, 8]) })
  })

  it('rejects short frames and unknown kinds with RONY_ERR_BAD_FRAME', () => {
    for (const bad of ['', '01000000', '0000000000', '0700000000']) {
      const bytes = new Uint8Array(Buffer.from(bad, 'hex'))
      expect(() => decodeFrame(bytes), bad).toThrow(
        expect.toSatisfy((e) => isCodedError(e, 'RONY_ERR_BAD_FRAME')),
      )
    }
  })
})
