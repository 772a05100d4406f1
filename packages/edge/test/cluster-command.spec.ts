import { decodeEnvelope, encodeEnvelope } from '@rony/envelope'
import { describe, expect, it } from 'vitest'
import {
  COMMAND_VERSION,
  decodeCommand,
  encodeCommand,
  type ReplicatedCommand,
} from '../src/cluster/command.js'
import {
  codedErrorExpecter,
  decodesOrFailsWith,
  fuzzInputs,
  truncations,
} from './cluster-codec-fuzz.js'

const CODE = 'RONY_ERR_INVALID_COMMAND'
const U64_MAX = 2n ** 64n - 1n

const envelope = encodeEnvelope({
  ctor: 42n,
  requestId: U64_MAX,
  message: new Uint8Array([1, 2, 3]),
  auth: new Uint8Array([9, 9]),
  header: [{ key: 'rony-session', value: 's-1' }],
})

const command: ReplicatedCommand = {
  envelope,
  origin: 'n1',
  token: 7,
  gateway: 'ws',
  session: 's-1',
  requestId: U64_MAX,
  now: 1_767_225_600_000,
  seed: [0, 1, 0x8000_0000, 0xffff_ffff],
}

const expectCodedError = codedErrorExpecter(CODE)

describe('replicated command codec', () => {
  it('round-trips every field, the envelope unchanged', () => {
    const decoded = decodeCommand(encodeCommand(command))
    expect(decoded).toEqual(command)
    expect(decodeEnvelope(decoded.envelope).header).toEqual([{ key: 'rony-session', value: 's-1' }])
  })

  it('round-trips the edges of every range', () => {
    const cases: ReplicatedCommand[] = [
      { ...command, requestId: 0n, token: 0, now: 0, seed: [0, 0, 0, 0] },
      { ...command, requestId: U64_MAX, token: 0xffff_ffff, now: Number.MAX_SAFE_INTEGER },
      { ...command, requestId: 2n ** 63n, now: 2 ** 31, token: 2 ** 31 },
      { ...command, envelope: new Uint8Array(0), origin: '', gateway: '' },
      { ...command, envelope: new Uint8Array(100_000).fill(7) },
    ]
    for (const c of cases) expect(decodeCommand(encodeCommand(c))).toEqual(c)
  })

  it('keeps an absent session apart from an empty one', () => {
    const none = decodeCommand(encodeCommand({ ...command, session: undefined }))
    const empty = decodeCommand(encodeCommand({ ...command, session: '' }))
    expect(none.session).toBeUndefined()
    expect(empty.session).toBe('')
  })

  it('round-trips unicode ids, short and long', () => {
    for (const id of ['é', 'n😀', 'サーバー', '😀'.repeat(40), `${'a'.repeat(40)}ü`]) {
      const c = { ...command, origin: id, gateway: id, session: id }
      expect(decodeCommand(encodeCommand(c))).toEqual(c)
    }
  })

  it('writes the documented layout', () => {
    const bytes = encodeCommand({
      envelope: new Uint8Array([0xaa]),
      origin: 'n1',
      token: 300,
      gateway: 'ws',
      session: 's',
      requestId: 0x0102n,
      now: 128,
      seed: [1, 2, 3, 0xffff_ffff],
    })
    expect(Buffer.from(bytes).toString('hex')).toBe(
      [
        '01', // version
        '01aa', // envelope
        '026e31', // origin 'n1'
        'ac02', // token 300
        '027773', // gateway 'ws'
        '0273', // session 's': length + 1, then the bytes
        '0201000000000000', // requestId, u64le
        '8001', // now 128
        '01000000020000000300000' + '0ffffffff', // seed, u32le × 4
      ].join(''),
    )
    expect(bytes[0]).toBe(COMMAND_VERSION)
  })

  it('decodes the envelope as a view into the input, not a copy', () => {
    const bytes = encodeCommand(command)
    const decoded = decodeCommand(bytes)
    expect(decoded.envelope.buffer).toBe(bytes.buffer)
    expect(decoded.envelope.byteOffset).toBe(bytes.byteOffset + 2)
  })

  it('reads a Node Buffer and a view at an offset', () => {
    const bytes = encodeCommand(command)
    const padded = Buffer.concat([Buffer.from([0xff, 0xff]), bytes, Buffer.from([0xff])])
    const decoded = decodeCommand(padded.subarray(2, 2 + bytes.length))
    expect(decoded).toEqual(command)
    expect(decoded.envelope.constructor).toBe(Uint8Array)
  })

  it('refuses another version, naming it', () => {
    const bytes = encodeCommand(command)
    bytes[0] = 2
    expectCodedError(() => decodeCommand(bytes), /format version 2/)
    expectCodedError(() => decodeCommand(new Uint8Array(0)), /empty/)
  })

  it('refuses trailing bytes', () => {
    const bytes = encodeCommand(command)
    const longer = new Uint8Array(bytes.length + 1)
    longer.set(bytes)
    expectCodedError(() => decodeCommand(longer), /1 trailing bytes/)
  })

  it('refuses every truncation of a valid command', () => {
    const bytes = encodeCommand(command)
    for (const prefix of truncations(bytes)) expectCodedError(() => decodeCommand(prefix))
  })

  it('refuses malformed UTF-8 in a string, naming the field', () => {
    const bytes = encodeCommand({ ...command, origin: 'né' })
    const at = bytes.indexOf(0xc3)
    bytes[at + 1] = 0x28 // a lead byte without its continuation
    expectCodedError(() => decodeCommand(bytes), /origin is not valid UTF-8/)
  })

  it('refuses out-of-range and non-canonical varints', () => {
    // Token 2^32 (5-byte varint) where a uint32 is expected.
    const base = encodeCommand({ ...command, token: 0xffff_ffff })
    const tokenAt = 1 + 1 + envelope.length + 1 + 2
    expect(Array.from(base.subarray(tokenAt, tokenAt + 5))).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f])
    const above = base.slice()
    above[tokenAt + 4] = 0x10
    expectCodedError(() => decodeCommand(above), /token is above 4294967295/)
    // Token 0 written in two bytes.
    const padded = encodeCommand({ ...command, token: 0 })
    const bytes = new Uint8Array(padded.length + 1)
    bytes.set(padded.subarray(0, tokenAt))
    bytes.set([0x80, 0x00], tokenAt)
    bytes.set(padded.subarray(tokenAt + 1), tokenAt + 2)
    expectCodedError(() => decodeCommand(bytes), /token is not in its shortest form/)
  })

  it('refuses a time past the safe integers', () => {
    const bytes = encodeCommand({ ...command, now: Number.MAX_SAFE_INTEGER })
    const nowAt = bytes.length - 16 - 8
    // 2^53 - 1 is seven 0xff bytes and 0x0f; make it 2^53.
    expect(bytes[nowAt + 7]).toBe(0x0f)
    bytes.set([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10], nowAt)
    expectCodedError(() => decodeCommand(bytes), /now is above/)
    // A ninth byte, even of zeros.
    const nine = new Uint8Array(bytes.length + 1)
    nine.set(bytes.subarray(0, nowAt))
    nine.set([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], nowAt)
    nine.set(bytes.subarray(nowAt + 8), nowAt + 9)
    expectCodedError(() => decodeCommand(nine), /now is above/)
  })

  it('answers 10k seeded random and mutated inputs with a command or the coded error', () => {
    const valid = encodeCommand(command)
    let decoded = 0
    for (const bytes of fuzzInputs(14, COMMAND_VERSION, valid)) {
      const result = decodesOrFailsWith(decodeCommand, bytes, CODE)
      if (result === undefined) continue
      decoded++
      // A decoded command is canonical: it encodes back to the very same bytes.
      expect(encodeCommand(result)).toEqual(new Uint8Array(bytes))
    }
    expect(decoded).toBeGreaterThan(100)
  })

  it('refuses to encode out-of-range fields, naming them', () => {
    const bad: [Partial<Record<keyof ReplicatedCommand, unknown>>, RegExp][] = [
      [{ token: -1 }, /token/],
      [{ token: 2 ** 32 }, /token/],
      [{ token: 1.5 }, /token/],
      [{ requestId: -1n }, /requestId/],
      [{ requestId: 2n ** 64n }, /requestId/],
      [{ requestId: 1 }, /requestId/],
      [{ now: -1 }, /now/],
      [{ now: 1.5 }, /now/],
      [{ now: 2 ** 53 }, /now/],
      [{ seed: [1, 2, 3] }, /seed/],
      [{ seed: [1, 2, 3, 2 ** 32] }, /seed/],
      [{ envelope: [1, 2] }, /envelope/],
      [{ origin: 1 }, /origin/],
      [{ gateway: null }, /gateway/],
      [{ session: 5 }, /session/],
    ]
    for (const [fields, message] of bad) {
      expectCodedError(() => encodeCommand({ ...command, ...fields } as ReplicatedCommand), message)
    }
  })
})
