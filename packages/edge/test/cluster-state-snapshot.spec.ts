import { describe, expect, it } from 'vitest'
import { SessionTable } from '../src/cluster/sessions.js'
import {
  decodeStateSnapshot,
  encodeStateSnapshot,
  STATE_SNAPSHOT_VERSION,
} from '../src/cluster/state-snapshot.js'
import {
  codedErrorExpecter,
  decodesOrFailsWith,
  fuzzInputs,
  truncations,
} from './cluster-codec-fuzz.js'

const CODE = 'RONY_ERR_INVALID_SNAPSHOT'

function sessions(): Uint8Array {
  const table = new SessionTable()
  table.record('client-1', 2n ** 64n - 1n, [new Uint8Array([1, 2, 3])], 41)
  return table.encode()
}

const snapshot = {
  user: new TextEncoder().encode('{"counter":42}'),
  sessions: sessions(),
  clock: 1_767_225_600_123,
}

const expectCodedError = codedErrorExpecter(CODE)

describe('state snapshot codec', () => {
  it('round-trips the user state, the session table and the clock', () => {
    const decoded = decodeStateSnapshot(encodeStateSnapshot(snapshot))
    expect(decoded).toEqual(snapshot)
    const table = SessionTable.decode(decoded.sessions)
    expect(table.lookup('client-1', 2n ** 64n - 1n)).toEqual([new Uint8Array([1, 2, 3])])
  })

  it('round-trips empty parts and the ends of the clock range', () => {
    for (const clock of [0, Number.MAX_SAFE_INTEGER]) {
      const empty = { user: new Uint8Array(0), sessions: new Uint8Array(0), clock }
      expect(decodeStateSnapshot(encodeStateSnapshot(empty))).toEqual(empty)
    }
    const large = { ...snapshot, user: new Uint8Array(200_000).fill(5) }
    expect(decodeStateSnapshot(encodeStateSnapshot(large))).toEqual(large)
  })

  it('writes the documented layout, and decodes views into the input', () => {
    const bytes = encodeStateSnapshot({
      user: new Uint8Array([0xbb, 0xcc]),
      sessions: new Uint8Array([0xaa]),
      clock: 300,
    })
    expect(Buffer.from(bytes).toString('hex')).toBe('01' + 'ac02' + '01aa' + '02bbcc')
    const decoded = decodeStateSnapshot(bytes)
    expect(decoded.user.buffer).toBe(bytes.buffer)
    expect(decoded.sessions.buffer).toBe(bytes.buffer)
  })

  it('refuses another version, trailing bytes and a clock past the safe integers', () => {
    const bytes = encodeStateSnapshot(snapshot)
    const other = bytes.slice()
    other[0] = 0
    expectCodedError(() => decodeStateSnapshot(other), /format version 0/)
    expectCodedError(() => decodeStateSnapshot(new Uint8Array(0)), /empty/)
    const longer = new Uint8Array(bytes.length + 2)
    longer.set(bytes)
    expectCodedError(() => decodeStateSnapshot(longer), /2 trailing bytes/)
    const past = new Uint8Array([1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0])
    expectCodedError(() => decodeStateSnapshot(past), /clock is above/)
  })

  it('refuses every truncation, naming the part cut short', () => {
    const bytes = encodeStateSnapshot(snapshot)
    for (const prefix of truncations(bytes)) expectCodedError(() => decodeStateSnapshot(prefix))
    expectCodedError(() => decodeStateSnapshot(bytes.subarray(0, bytes.length - 1)), /user state/)
    expectCodedError(() => decodeStateSnapshot(bytes.subarray(0, 10)), /sessions/)
  })

  it('answers 10k seeded random and mutated inputs with a snapshot or the coded error', () => {
    let decoded = 0
    const valid = encodeStateSnapshot(snapshot)
    for (const bytes of fuzzInputs(14, STATE_SNAPSHOT_VERSION, valid)) {
      const result = decodesOrFailsWith(decodeStateSnapshot, bytes, CODE)
      if (result === undefined) continue
      decoded++
      expect(encodeStateSnapshot(result)).toEqual(new Uint8Array(bytes))
      // The session table inside may itself be malformed: it fails with the same code.
      decodesOrFailsWith((b) => SessionTable.decode(b), result.sessions, CODE)
    }
    expect(decoded).toBeGreaterThan(100)
  })

  it('refuses to encode fields of the wrong type or range, naming them', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ clock: -1 }, /clock/],
      [{ clock: 0.5 }, /clock/],
      [{ clock: 2 ** 53 }, /clock/],
      [{ user: 'state' }, /user/],
      [{ sessions: undefined }, /sessions/],
    ]
    for (const [fields, message] of bad) {
      expectCodedError(() => encodeStateSnapshot({ ...snapshot, ...fields } as never), message)
    }
  })
})
