import { describe, expect, it } from 'vitest'
import { check } from '../../src/linearizability/check.js'
import { formatHistory, HistoryRecorder } from '../../src/linearizability/history.js'
import { type KvInput, type KvOutput, kv, kvModel } from '../../src/linearizability/kv-model.js'

/** A recorder on a clock the test moves by hand. */
function recorder() {
  const clock = { now: 0 }
  return { clock, rec: new HistoryRecorder<KvInput, KvOutput>(() => clock.now) }
}

describe('HistoryRecorder', () => {
  it('records calls and returns at the clock, unknown and in-flight operations as Infinity', () => {
    const { clock, rec } = recorder()
    const put = rec.invoke(0, kv.put('x', '1'))
    clock.now = 3
    const get = rec.invoke(1, kv.get('x'))
    const lost = rec.invoke(2, kv.append('x', '2'))
    clock.now = 5
    rec.complete(put, true)
    rec.unknown(lost)
    clock.now = 8
    rec.complete(get, '1')
    rec.invoke(0, kv.delete('x'))
    expect(rec.history()).toEqual([
      { client: 0, input: kv.put('x', '1'), output: true, call: 0, return: 5 },
      { client: 1, input: kv.get('x'), output: '1', call: 3, return: 8 },
      { client: 2, input: kv.append('x', '2'), output: undefined, call: 3, return: Infinity },
      { client: 0, input: kv.delete('x'), output: undefined, call: 8, return: Infinity },
    ])
    expect(check(rec.history(), kvModel).result).toBe('ok')
  })

  it('returns a snapshot that later recording does not change', () => {
    const { rec } = recorder()
    const op = rec.invoke(0, kv.get('x'))
    const before = rec.history()
    rec.complete(op, null)
    expect(before[0]?.return).toBe(Infinity)
    expect(rec.history()[0]?.return).toBe(0)
  })

  it('refuses to resolve an operation twice or one it never issued', () => {
    const { rec } = recorder()
    const done = rec.invoke(0, kv.get('x'))
    rec.complete(done, null)
    expect(() => rec.complete(done, null)).toThrow(/already/)
    expect(() => rec.unknown(done)).toThrow(/already/)
    const lost = rec.invoke(0, kv.get('x'))
    rec.unknown(lost)
    expect(() => rec.complete(lost, null)).toThrow(/already/)
    expect(() => rec.unknown(7)).toThrow(RangeError)
  })

  it('refuses an undefined output and a clock going backwards', () => {
    const { clock, rec } = recorder()
    const op = rec.invoke(0, kv.get('x'))
    expect(() => rec.complete(op, undefined as unknown as KvOutput)).toThrow(/unknown\(\)/)
    clock.now = -1
    expect(() => rec.invoke(0, kv.get('x'))).toThrow(/backwards/)
  })
})

describe('formatHistory', () => {
  it('prints one line per operation by call time, numbered by position', () => {
    const { clock, rec } = recorder()
    clock.now = 10
    const late = rec.invoke(1, kv.cas('x', null, 'a'))
    rec.complete(late, true)
    const history = [
      ...rec.history(),
      { client: 0, input: kv.get('x'), output: undefined, call: 2, return: Infinity },
    ]
    expect(formatHistory(history, kvModel.describeOperation)).toBe(
      ['#1 c0 [2, inf] get(x) -> ?', '#0 c1 [10, 10] cas(x, null => "a") -> true'].join('\n'),
    )
    expect(formatHistory(history)).toBe(
      [
        '#1 c0 [2, inf] {"op":"get","key":"x"} -> ?',
        '#0 c1 [10, 10] {"op":"cas","key":"x","expected":null,"next":"a"} -> true',
      ].join('\n'),
    )
  })
})
