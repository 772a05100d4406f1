import { describe, expect, it } from 'vitest'
import { check, type Model, type Operation } from '../../src/linearizability/check.js'
import { kv, kvModel } from '../../src/linearizability/kv-model.js'
import { type Op, op } from './kv-ops.js'

const verdict = (history: Op[]): string => check(history, kvModel).result

/** The single failing partition of an illegal history. */
function failure(history: Op[]) {
  const result = check(history, kvModel)
  const illegal = result.partitions.filter((p) => p.result === 'illegal')
  expect(illegal).toHaveLength(1)
  const [p] = illegal
  if (p?.result !== 'illegal') throw new Error('unreachable')
  return { ...p, message: result.message }
}

describe('linearizability of single-key histories', () => {
  it('accepts a sequential history and rejects a stale read in it', () => {
    const ok = [
      op(0, 0, 1, kv.put('x', '1'), true),
      op(0, 2, 3, kv.get('x'), '1'),
      op(1, 4, 5, kv.put('x', '2'), true),
      op(1, 6, 7, kv.get('x'), '2'),
    ]
    expect(verdict(ok)).toBe('ok')
    expect(verdict([...ok.slice(0, 3), op(1, 6, 7, kv.get('x'), '1')])).toBe('illegal')
  })

  it('lets a read concurrent with a write see either value', () => {
    const put = op(0, 0, 10, kv.put('x', '1'), true)
    expect(verdict([put, op(1, 2, 4, kv.get('x'), null)])).toBe('ok')
    expect(verdict([put, op(1, 2, 4, kv.get('x'), '1')])).toBe('ok')
    expect(verdict([put, op(1, 2, 4, kv.get('x'), '2')])).toBe('illegal')
  })

  it('rejects a read of a value written only after the read returned', () => {
    const history = [op(1, 0, 2, kv.get('x'), '1'), op(0, 3, 5, kv.put('x', '1'), true)]
    expect(verdict(history)).toBe('illegal')
    // Overlapping the write instead, the same read is fine.
    expect(verdict([op(1, 0, 4, kv.get('x'), '1'), history[1]!])).toBe('ok')
  })

  it('rejects a stale read after a completed write', () => {
    expect(verdict([op(0, 0, 2, kv.put('x', '1'), true), op(1, 3, 4, kv.get('x'), null)])).toBe(
      'illegal',
    )
  })

  it('rejects a new-then-old read inversion across sequential reads', () => {
    const writes = [op(0, 0, 1, kv.put('x', '1'), true), op(0, 2, 10, kv.put('x', '2'), true)]
    const inverted = [op(1, 3, 4, kv.get('x'), '2'), op(2, 5, 6, kv.get('x'), '1')]
    expect(verdict([...writes, ...inverted])).toBe('illegal')
    // With the reads overlapping, the old value may be read first.
    const overlapping = [op(1, 3, 6, kv.get('x'), '2'), op(2, 4, 5, kv.get('x'), '1')]
    expect(verdict([...writes, ...overlapping])).toBe('ok')
  })

  it('rejects two readers that saw concurrent writes in opposite orders', () => {
    const writes = [op(0, 0, 10, kv.put('x', '1'), true), op(1, 0, 10, kv.put('x', '2'), true)]
    const a = [op(2, 1, 2, kv.get('x'), '1'), op(2, 3, 4, kv.get('x'), '2')]
    const b = [op(3, 1, 2, kv.get('x'), '2'), op(3, 3, 4, kv.get('x'), '1')]
    expect(verdict([...writes, ...a])).toBe('ok')
    expect(verdict([...writes, ...b])).toBe('ok')
    expect(verdict([...writes, ...a, ...b])).toBe('illegal')
  })

  it('checks compare-and-set results', () => {
    const created = [
      op(0, 0, 1, kv.cas('x', null, 'a'), true),
      op(0, 2, 3, kv.cas('x', 'b', 'c'), false),
    ]
    expect(verdict([...created, op(0, 4, 5, kv.get('x'), 'a')])).toBe('ok')
    expect(verdict([...created, op(0, 4, 5, kv.get('x'), 'c')])).toBe('illegal')
    // A cas that should have swapped but says it did not.
    expect(
      verdict([op(0, 0, 1, kv.put('x', 'a'), true), op(0, 2, 3, kv.cas('x', 'a', 'b'), false)]),
    ).toBe('illegal')
    // Two concurrent creations cannot both win, but either may.
    const first = op(1, 0, 5, kv.cas('x', null, 'p'), true)
    expect(verdict([first, op(2, 0, 5, kv.cas('x', null, 'q'), false)])).toBe('ok')
    expect(verdict([first, op(2, 0, 5, kv.cas('x', null, 'q'), true)])).toBe('illegal')
  })

  it('checks appends in some order consistent with real time', () => {
    const appends = [op(0, 0, 5, kv.append('x', 'a'), true), op(1, 0, 5, kv.append('x', 'b'), true)]
    expect(verdict([...appends, op(2, 6, 7, kv.get('x'), 'ab')])).toBe('ok')
    expect(verdict([...appends, op(2, 6, 7, kv.get('x'), 'ba')])).toBe('ok')
    expect(verdict([...appends, op(2, 6, 7, kv.get('x'), 'a')])).toBe('illegal')
    expect(verdict([...appends, op(2, 1, 2, kv.get('x'), 'b')])).toBe('ok')
    const ordered = [op(0, 0, 1, kv.append('x', 'a'), true), op(1, 2, 3, kv.append('x', 'b'), true)]
    expect(verdict([...ordered, op(2, 4, 5, kv.get('x'), 'ba')])).toBe('illegal')
  })

  it('compares key-value states by value, not by insertion order', () => {
    const ab = new Map([
      ['a', '1'],
      ['b', '2'],
    ])
    const ba = new Map([
      ['b', '2'],
      ['a', '1'],
    ])
    expect(kvModel.stateKey(ab)).toBe(kvModel.stateKey(ba))
    expect(kvModel.stateKey(ab)).not.toBe(kvModel.stateKey(new Map([['a', '1']])))
    expect(kvModel.describeState?.(ba)).toBe('{a: "1", b: "2"}')
  })

  it('reads a deleted key as missing', () => {
    const deleted = [op(0, 0, 1, kv.put('x', 'a'), true), op(0, 2, 3, kv.delete('x'), true)]
    expect(verdict([...deleted, op(1, 4, 5, kv.get('x'), null)])).toBe('ok')
    expect(verdict([...deleted, op(1, 4, 5, kv.get('x'), 'a')])).toBe('illegal')
    expect(verdict([...deleted, op(1, 4, 5, kv.cas('x', null, 'b'), true)])).toBe('ok')
  })
})

describe('unknown outcomes (return: Infinity)', () => {
  const lost = op(0, 0, Infinity, kv.put('x', '1'))

  it('may take effect after the call, even long after the client gave up', () => {
    expect(verdict([lost, op(1, 5, 6, kv.get('x'), '1')])).toBe('ok')
    expect(verdict([lost, op(1, 5, 6, kv.get('x'), null), op(1, 7, 8, kv.get('x'), '1')])).toBe(
      'ok',
    )
  })

  it('may never take effect', () => {
    expect(
      verdict([lost, op(1, 5, 6, kv.get('x'), null), op(1, 100, 101, kv.get('x'), null)]),
    ).toBe('ok')
  })

  it('takes effect at most once and not before its call', () => {
    expect(verdict([lost, op(1, 5, 6, kv.get('x'), '1'), op(1, 7, 8, kv.get('x'), null)])).toBe(
      'illegal',
    )
    expect(verdict([op(1, 0, 1, kv.get('x'), '1'), op(0, 2, Infinity, kv.put('x', '1'))])).toBe(
      'illegal',
    )
  })

  it('applies an unknown compare-and-set only if it would have swapped', () => {
    const history = [op(0, 0, 1, kv.put('x', 'a'), true), op(0, 2, Infinity, kv.cas('x', 'a', 'b'))]
    expect(verdict([...history, op(1, 5, 6, kv.get('x'), 'b')])).toBe('ok')
    expect(verdict([...history, op(1, 5, 6, kv.get('x'), 'a')])).toBe('ok')
    const failing = [op(0, 0, 1, kv.put('x', 'a'), true), op(0, 2, Infinity, kv.cas('x', 'z', 'b'))]
    expect(verdict([...failing, op(1, 5, 6, kv.get('x'), 'b')])).toBe('illegal')
  })

  it('ignores the output recorded for an unknown outcome', () => {
    expect(verdict([op(0, 0, Infinity, kv.get('x'), 'never written')])).toBe('ok')
    expect(
      verdict([op(0, 0, Infinity, kv.cas('x', null, 'a'), false), op(1, 5, 6, kv.get('x'), 'a')]),
    ).toBe('ok')
  })
})

describe('the tie rule', () => {
  const put = (call: number, ret: number) => op(0, call, ret, kv.put('x', '1'), true)
  const missing = (call: number, ret: number) => op(1, call, ret, kv.get('x'), null)

  it('orders a return before a call at the same instant', () => {
    expect(verdict([put(0, 5), missing(5, 6)])).toBe('illegal')
    expect(verdict([put(0, 5), missing(4, 6)])).toBe('ok')
    expect(verdict([put(3, 5), missing(5, 5)])).toBe('illegal')
  })

  it('makes an operation taking no time concurrent with those called at its instant', () => {
    expect(verdict([put(5, 5), missing(5, 5)])).toBe('ok')
    expect(verdict([put(5, 5), missing(5, 7)])).toBe('ok')
    expect(verdict([put(5, 5), missing(6, 7)])).toBe('illegal')
  })
})

describe('partitions and reports', () => {
  it('checks keys separately and names the illegal one', () => {
    const history = [
      op(0, 0, 1, kv.put('x', '1'), true),
      op(1, 0, 1, kv.put('y', '1'), true),
      op(0, 2, 3, kv.get('x'), '1'),
      op(1, 2, 3, kv.put('y', '2'), true),
      op(2, 4, 5, kv.get('y'), '1'),
    ]
    const result = check(history, kvModel)
    expect(result.result).toBe('illegal')
    expect(result.partitions.map((p) => [p.label, p.result, p.operations])).toEqual([
      ['x', 'ok', 2],
      ['y', 'illegal', 3],
    ])
    const { failure: f, message } = failure(history)
    expect(f.linearized).toEqual([history[1], history[3]])
    expect(f.blocked).toBe(history[4])
    expect(f.state).toBe('{y: "2"}')
    expect(message).toContain('partition "y"')
    expect(message).toContain('#4 c2 [4, 5] get(y) -> "1"')
  })

  it('reports the deepest prefix, unknown outcomes included, and what was pending', () => {
    const lost = [op(0, 0, 1, kv.put('x', '1'), true), op(1, 2, Infinity, kv.append('x', '2'))]
    const stale = failure([...lost, op(2, 3, 4, kv.get('x'), '3')])
    expect(stale.failure.linearized).toEqual(lost)
    expect(stale.failure.state).toBe('{x: "12"}')
    expect(stale.message).toContain('#1 c1 [2, inf] append(x, "2") -> ?')

    const history = [
      op(0, 0, 1, kv.put('x', '1'), true),
      op(1, 2, 10, kv.get('x'), '2'),
      op(2, 3, 4, kv.get('x'), '3'),
    ]
    const { failure: f, message } = failure(history)
    expect(f.linearized).toEqual([history[0]])
    expect(f.blocked).toBe(history[2])
    expect(f.pending).toEqual([history[1]])
    expect(message).toMatch(/cannot be linearized next:\n +#2 c2 \[3, 4\] get\(x\) -> "3"/)
    expect(message).toMatch(/also pending when it returned:\n +#1 c1 \[2, 10\] get\(x\) -> "2"/)
  })

  it('reports the deepest prefix even when it was reached after backtracking', () => {
    const history = [
      op(0, 0, 10, kv.put('x', '1'), true),
      op(1, 1, 10, kv.put('x', '2'), true),
      op(2, 11, 12, kv.get('x'), '1'),
      op(2, 13, 14, kv.get('x'), '3'),
    ]
    // Tried first in call order, 1 then 2 fails at the first read; 2 then 1 gets one further.
    const { failure: f } = failure(history)
    expect(f.linearized).toEqual([history[1], history[0], history[2]])
    expect(f.blocked).toBe(history[3])
  })

  it('names the operation stuck after the reported prefix, not after another as deep', () => {
    const history = [
      op(0, 5, 8, kv.cas('x', null, '1'), true),
      op(1, 5, 6, kv.cas('x', null, '1'), true),
      op(2, 5, 5, kv.put('x', '2'), true),
      op(3, 4, 5, kv.delete('x'), true),
    ]
    const { failure: f } = failure(history)
    expect(f.linearized).toEqual([history[3], history[0], history[2]])
    expect(f.blocked).toBe(history[1])
  })

  it('uses a model without partitions as one partition, with default descriptions', () => {
    const counter: Model<number, 'inc' | 'read', number> = {
      init: () => 0,
      step: (n, input, output) =>
        input === 'inc'
          ? { ok: true, state: n + 1 }
          : { ok: output === undefined || output === n, state: n },
      stateKey: String,
    }
    const inc = (call: number, ret: number): Operation<'inc' | 'read', number> => ({
      client: 0,
      input: 'inc',
      output: 0,
      call,
      return: ret,
    })
    const read = (call: number, output: number): Operation<'inc' | 'read', number> => ({
      client: 1,
      input: 'read',
      output,
      call,
      return: call + 1,
    })
    expect(check([inc(0, 10), inc(0, 10), read(11, 2)], counter).result).toBe('ok')
    const result = check([inc(0, 10), inc(0, 10), read(11, 1)], counter)
    expect(result.partitions.map((p) => p.label)).toEqual(['history'])
    expect(result.message).toContain('"read" -> 1')
    expect(result.message).toContain('state after it: 2')
  })

  it('accepts an empty history', () => {
    expect(check([], kvModel)).toMatchObject({ result: 'ok', partitions: [] })
  })

  it('rejects malformed operations', () => {
    expect(() => check([op(0, 5, 4, kv.get('x'), null)], kvModel)).toThrow(TypeError)
    expect(() => check([op(0, Number.NaN, 4, kv.get('x'), null)], kvModel)).toThrow(TypeError)
    expect(() => check([op(0, 0, 4, kv.get('x'))], kvModel)).toThrow(/without an output/)
    expect(() => check([], kvModel, { maxSteps: 0 })).toThrow(RangeError)
  })
})

describe('histories with many unknown outcomes', () => {
  const bogusRead = (at: number) => op(9, at, at + 1, kv.get('x'), 'never written')

  it('proves illegal despite timed-out writes that were each overwritten', () => {
    // 2^16 subsets of the timed-out writes may have taken effect, to no visible difference.
    const history = Array.from({ length: 16 }, (_, i) => [
      op(1, 3 * i, Infinity, kv.put('x', `lost${i}`)),
      op(0, 3 * i + 1, 3 * i + 2, kv.put('x', `kept${i}`), true),
    ]).flat()
    expect(check([...history, bogusRead(100)], kvModel, { maxSteps: 20_000 }).result).toBe(
      'illegal',
    )
    expect(check([...history, op(9, 100, 101, kv.get('x'), 'kept15')], kvModel).result).toBe('ok')
  })

  it('proves illegal despite timed-out writes that could not have changed anything', () => {
    const lost = Array.from({ length: 30 }, (_, i) => op(1, i, Infinity, kv.cas('x', 'z', `${i}`)))
    const history = [op(0, 0, 1, kv.put('x', 'a'), true), ...lost, bogusRead(100)]
    expect(check(history, kvModel, { maxSteps: 10_000 }).result).toBe('illegal')
  })
})

describe('the step budget', () => {
  /** `n` concurrent writes, then a read of a value none wrote: every order must be tried. */
  const pathological = (n: number, key = 'x'): Op[] => [
    ...Array.from({ length: n }, (_, i) => op(i, 0, 100, kv.put(key, String(i)), true)),
    op(n, 200, 201, kv.get(key), 'never written'),
  ]

  it('gives up as unknown instead of searching for ever', () => {
    const result = check(pathological(40), kvModel, { maxSteps: 10_000 })
    expect(result.result).toBe('unknown')
    expect(result.partitions[0]?.steps).toBe(10_000)
    expect(result.message).toMatch(/step budget exhausted, undecided: "x"/)
    // Small enough to exhaust, the same shape is decided.
    expect(check(pathological(6), kvModel, { maxSteps: 10_000 }).result).toBe('illegal')
  })

  it('still reports an illegal partition next to an undecided one', () => {
    const history = [...pathological(40, 'a'), ...pathological(1, 'b')]
    const result = check(history, kvModel, { maxSteps: 10_000 })
    expect(result.result).toBe('illegal')
    expect(result.partitions.map((p) => p.result)).toEqual(['unknown', 'illegal'])
  })
})
