import { describe, expect, it } from 'vitest'
import { DEFAULT_SESSION_LIMITS, SESSIONS_VERSION, SessionTable } from '../src/cluster/sessions.js'
import {
  codedErrorExpecter,
  decodesOrFailsWith,
  fuzzInputs,
  testRandom,
  truncations,
} from './cluster-codec-fuzz.js'

const CODE = 'RONY_ERR_INVALID_SNAPSHOT'
const U64_MAX = 2n ** 64n - 1n
const answer = (...bytes: number[]) => new Uint8Array(bytes)

/** What the table holds, as [session, requestId, answers] triples in lookup order. */
function contents(table: SessionTable, sessions: string[], ids: bigint[]): unknown[] {
  const out: unknown[] = []
  for (const s of sessions) {
    for (const id of ids) {
      const answers = table.lookup(s, id)
      if (answers) out.push([s, id, answers.map((a) => Array.from(a))])
    }
  }
  return out
}

type Call = readonly [session: string, requestId: bigint, answers: Uint8Array[], index: number]

/** A seeded sequence of records over a few sessions and request ids. */
function calls(seed: number, count: number): Call[] {
  const random = testRandom(seed)
  const int = (n: number) => Math.floor(random() * n)
  const out: Call[] = []
  let index = 1
  for (let i = 0; i < count; i++) {
    index += int(3) // several records may share an index
    const answers = Array.from({ length: int(3) }, () => answer(int(256), int(256)))
    out.push([`s${int(12)}`, BigInt(int(40)), answers, index])
  }
  return out
}

const SESSIONS = Array.from({ length: 12 }, (_, i) => `s${i}`)
const IDS = Array.from({ length: 40 }, (_, i) => BigInt(i))

const expectCodedError = codedErrorExpecter(CODE)

describe('session table', () => {
  it('answers a recorded request with its answers, per session and request id', () => {
    const table = new SessionTable()
    table.record('a', 1n, [answer(1)], 10)
    table.record('a', 2n, [answer(2), answer(3)], 11)
    table.record('b', 1n, [], 12)
    expect(table.lookup('a', 1n)).toEqual([answer(1)])
    expect(table.lookup('a', 2n)).toEqual([answer(2), answer(3)])
    expect(table.lookup('b', 1n)).toEqual([])
    expect(table.lookup('b', 2n)).toBeUndefined()
    expect(table.lookup('c', 1n)).toBeUndefined()
    expect(table.sessionCount).toBe(2)
    expect(table.requestCount).toBe(3)
  })

  it('keeps uint64 request ids apart, up to the largest', () => {
    const table = new SessionTable()
    table.record('a', U64_MAX, [answer(1)], 1)
    table.record('a', U64_MAX - 1n, [answer(2)], 2)
    table.record('a', 2n ** 53n, [answer(3)], 3)
    table.record('a', 2n ** 53n + 1n, [answer(4)], 4)
    expect(table.lookup('a', U64_MAX)).toEqual([answer(1)])
    expect(table.lookup('a', 2n ** 53n + 1n)).toEqual([answer(4)])
    const decoded = SessionTable.decode(table.encode())
    expect(decoded.lookup('a', U64_MAX)).toEqual([answer(1)])
    expect(decoded.lookup('a', U64_MAX - 1n)).toEqual([answer(2)])
  })

  it('beyond the window drops the session’s oldest request by index', () => {
    const table = new SessionTable({ window: 3 })
    for (let i = 1; i <= 3; i++) table.record('a', BigInt(i), [answer(i)], i)
    table.record('b', 1n, [answer(9)], 4) // another session's records do not count
    table.record('a', 4n, [answer(4)], 5)
    expect(table.lookup('a', 1n)).toBeUndefined()
    expect([2n, 3n, 4n].map((id) => table.lookup('a', id)?.length)).toEqual([1, 1, 1])
    expect(table.lookup('b', 1n)).toEqual([answer(9)])
    expect(table.requestCount).toBe(4)
  })

  it('beyond maxSessions drops the least recently recorded session', () => {
    const table = new SessionTable({ maxSessions: 2 })
    table.record('a', 1n, [answer(1)], 1)
    table.record('b', 1n, [answer(2)], 2)
    table.lookup('a', 1n) // lookups do not count as use: replicas need not agree on them
    table.record('a', 2n, [answer(3)], 3) // a is now the most recent
    table.record('c', 1n, [answer(4)], 4)
    expect(table.lookup('b', 1n)).toBeUndefined()
    expect(table.lookup('a', 1n)).toEqual([answer(1)])
    expect(table.lookup('c', 1n)).toEqual([answer(4)])
    expect(table.sessionCount).toBe(2)
    expect(table.requestCount).toBe(3)
  })

  it('recording a request again replaces its answers and makes it the newest', () => {
    const table = new SessionTable({ window: 2 })
    table.record('a', 1n, [answer(1)], 1)
    table.record('a', 2n, [answer(2)], 2)
    table.record('a', 1n, [answer(5)], 3)
    table.record('a', 3n, [answer(3)], 4)
    expect(table.lookup('a', 2n)).toBeUndefined()
    expect(table.lookup('a', 1n)).toEqual([answer(5)])
    expect(table.requestCount).toBe(2)
  })

  it('copies an answer that is a view into a larger buffer', () => {
    const big = new Uint8Array(1024).fill(1)
    const view = big.subarray(10, 12)
    const whole = answer(7)
    const table = new SessionTable()
    table.record('a', 1n, [view, whole], 1)
    const [kept, same] = table.lookup('a', 1n)!
    expect(kept).toEqual(answer(1, 1))
    expect(kept!.buffer.byteLength).toBe(2)
    expect(same).toBe(whole)
  })

  it('refuses an index below the last one and a request id outside uint64', () => {
    const table = new SessionTable()
    table.record('a', 1n, [], 5)
    table.record('b', 1n, [], 5) // equal is fine: one command may record several requests
    expect(() => table.record('a', 2n, [], 4)).toThrow(RangeError)
    expect(() => table.record('a', 2n, [], 5.5)).toThrow(RangeError)
    expect(() => table.record('a', -1n, [], 6)).toThrow(RangeError)
    expect(() => table.record('a', 2n ** 64n, [], 6)).toThrow(RangeError)
    expect(table.requestCount).toBe(2)
  })

  it('refuses limits that are not positive integers, and unknown ones', () => {
    expect(() => new SessionTable({ window: 0 })).toThrow(RangeError)
    expect(() => new SessionTable({ maxSessions: 1.5 })).toThrow(RangeError)
    expect(() => new SessionTable({ maxSession: 3 } as never)).toThrow(TypeError)
    expect(DEFAULT_SESSION_LIMITS).toEqual({ maxSessions: 4096, window: 128 })
  })

  it('evicts the same way on every replica for the same calls', () => {
    const limits = { maxSessions: 5, window: 4 }
    const a = new SessionTable(limits)
    const b = new SessionTable(limits)
    for (const call of calls(1, 2_000)) {
      a.record(...call)
      b.record(...call)
    }
    expect(b.encode()).toEqual(a.encode())
    expect(contents(b, SESSIONS, IDS)).toEqual(contents(a, SESSIONS, IDS))
    expect(a.sessionCount).toBe(5)
  })

  it('a decoded table holds the same and evicts the same as the original', () => {
    const limits = { maxSessions: 6, window: 5 }
    for (const seed of [2, 3, 4]) {
      const sequence = calls(seed, 1_000)
      const original = new SessionTable(limits)
      let copy = new SessionTable(limits)
      for (const [i, call] of sequence.entries()) {
        original.record(...call)
        copy.record(...call)
        // Snapshot and restore now and then, as a replica that installs snapshots does.
        if (i % 97 === 0) copy = SessionTable.decode(copy.encode(), limits)
        if (i % 101 === 0) {
          expect(contents(copy, SESSIONS, IDS)).toEqual(contents(original, SESSIONS, IDS))
        }
      }
      expect(copy.encode()).toEqual(original.encode())
      expect(copy.sessionCount).toBe(original.sessionCount)
      expect(copy.requestCount).toBe(original.requestCount)
    }
  })

  it('a decoded table keeps refusing an index below the last recorded', () => {
    const table = new SessionTable()
    table.record('a', 1n, [], 3)
    table.record('b', 1n, [], 9)
    const decoded = SessionTable.decode(table.encode())
    expect(() => decoded.record('c', 1n, [], 8)).toThrow(RangeError)
    decoded.record('c', 1n, [], 9)
  })

  it('decoding with smaller limits trims to them: newest requests, most recent sessions', () => {
    const sequence = calls(5, 500)
    const large = new SessionTable({ maxSessions: 12, window: 10 })
    const narrow = new SessionTable({ maxSessions: 12, window: 2 })
    for (const call of sequence) {
      large.record(...call)
      narrow.record(...call)
    }
    // A narrower window: as if recorded with it (window eviction is per session).
    expect(SessionTable.decode(large.encode(), { window: 2 }).encode()).toEqual(narrow.encode())
    // Fewer sessions: the most recently recorded ones stay.
    const few = SessionTable.decode(large.encode(), { maxSessions: 3, window: 10 })
    const recent = [...new Set(sequence.map(([session]) => session).reverse())].slice(0, 3)
    expect(few.sessionCount).toBe(3)
    for (const session of SESSIONS) {
      for (const id of IDS) {
        const expected = recent.includes(session) ? large.lookup(session, id) : undefined
        expect(few.lookup(session, id)).toEqual(expected)
      }
    }
  })

  it('round-trips unicode and empty session ids', () => {
    const table = new SessionTable()
    const ids = ['', 'é', 'サーバー', '😀'.repeat(30)]
    for (const [i, id] of ids.entries()) table.record(id, BigInt(i), [answer(i)], i)
    const decoded = SessionTable.decode(table.encode())
    for (const [i, id] of ids.entries()) expect(decoded.lookup(id, BigInt(i))).toEqual([answer(i)])
    expect(decoded.sessionCount).toBe(4)
  })

  it('writes the documented layout', () => {
    const table = new SessionTable()
    table.record('b', 1n, [answer(0xaa)], 5)
    table.record('a', 2n, [], 6)
    table.record('b', 3n, [answer(1), answer()], 7)
    expect(Buffer.from(table.encode()).toString('hex')).toBe(
      [
        '01', // version
        '02', // sessions
        '0161', // 'a', least recently recorded
        '01', // one request
        '0200000000000000', // requestId 2
        '06', // index
        '00', // no answers
        '0162', // 'b'
        '02', // two requests
        '0100000000000000', // requestId 1
        '05',
        '01', // one answer
        '01aa',
        '0300000000000000', // requestId 3
        '07',
        '02',
        '0101',
        '00',
      ].join(''),
    )
    expect(new SessionTable().encode()).toEqual(new Uint8Array([SESSIONS_VERSION, 0]))
  })

  it('copies answers out of the snapshot bytes', () => {
    const table = new SessionTable()
    table.record('a', 1n, [answer(1, 2, 3)], 1)
    const bytes = table.encode()
    const kept = SessionTable.decode(bytes).lookup('a', 1n)![0]!
    expect(kept.buffer).not.toBe(bytes.buffer)
    bytes.fill(0)
    expect(kept).toEqual(answer(1, 2, 3))
  })

  it('refuses malformed tables, naming what is wrong', () => {
    const hex = (s: string) => new Uint8Array(Buffer.from(s.replaceAll(' ', ''), 'hex'))
    const request = (id: number, index: number) =>
      `${id.toString(16).padStart(2, '0')}00000000000000 ${index.toString(16).padStart(2, '0')} 00`
    expectCodedError(() => SessionTable.decode(hex('02 00')), /format version 2/)
    expectCodedError(() => SessionTable.decode(hex('')), /empty/)
    expectCodedError(() => SessionTable.decode(hex('01 00 00')), /trailing/)
    expectCodedError(() => SessionTable.decode(hex('01 01 0161 00')), /"a" is empty/)
    expectCodedError(
      () => SessionTable.decode(hex(`01 02 0161 01 ${request(1, 1)} 0161 01 ${request(1, 2)}`)),
      /session "a" twice/,
    )
    expectCodedError(
      () => SessionTable.decode(hex(`01 01 0161 02 ${request(1, 1)} ${request(1, 2)}`)),
      /request 1 of session "a" twice/,
    )
    expectCodedError(
      () => SessionTable.decode(hex(`01 01 0161 02 ${request(1, 2)} ${request(2, 1)}`)),
      /index 1 after 2/,
    )
    expectCodedError(
      () => SessionTable.decode(hex(`01 02 0161 01 ${request(1, 3)} 0162 01 ${request(1, 2)}`)),
      /"b" out of recency order/,
    )
    expectCodedError(() => SessionTable.decode(hex('01 01 01ff')), /session id is not valid UTF-8/)
  })

  it('refuses every truncation of a valid table', () => {
    const table = new SessionTable()
    for (const call of calls(6, 50)) table.record(...call)
    for (const prefix of truncations(table.encode())) {
      expectCodedError(() => SessionTable.decode(prefix))
    }
  })

  it('answers 10k seeded random and mutated inputs with a table or the coded error', () => {
    const table = new SessionTable()
    for (const call of calls(7, 20)) table.record(...call)
    let decoded = 0
    for (const bytes of fuzzInputs(14, SESSIONS_VERSION, table.encode())) {
      const result = decodesOrFailsWith((b) => SessionTable.decode(b), bytes, CODE)
      if (result === undefined) continue
      decoded++
      // Within the default limits a decoded table is canonical: it encodes to the same bytes.
      expect(result.encode()).toEqual(new Uint8Array(bytes))
    }
    expect(decoded).toBeGreaterThan(100)
  })
})
