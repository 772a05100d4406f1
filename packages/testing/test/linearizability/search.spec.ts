import { describe, expect, it } from 'vitest'
import { kv, kvModel } from '../../src/linearizability/kv-model.js'
import { searchInOrder } from '../../src/linearizability/search.js'
import { op } from './kv-ops.js'

/**
 * The search orders and prunings on their own, on the histories they exist for: many timed-out
 * writes, whose combinations overwhelm a plain Lowe memo. Budgets here are step counts, so
 * these pass or fail the same on any machine.
 */

const bogusRead = op(9, 100, 101, kv.get('x'), 'never written')

describe('searching histories with many unknown outcomes', () => {
  it('never linearizes an unknown outcome that changes nothing', () => {
    const lost = Array.from({ length: 30 }, (_, i) => op(1, i, Infinity, kv.cas('x', 'z', `${i}`)))
    const history = [op(0, 0, 1, kv.put('x', 'a'), true), ...lost, bogusRead]
    expect(searchInOrder(kvModel, history, 1_000, 'call').result).toBe('illegal')
  })

  it('prunes configurations with more unknown outcomes linearized than one that failed', () => {
    // A write concurrent with eight timed-out ones: every subset of them is a configuration.
    const history = [
      op(0, 0, 50, kv.put('x', 'kept'), true),
      ...Array.from({ length: 8 }, (_, i) => op(1, 1 + i, Infinity, kv.put('x', `lost${i}`))),
      bogusRead,
    ]
    expect(searchInOrder(kvModel, history, 20_000, 'call').result).toBe('illegal')
  })

  it('needs known-first order to rule out timed-out writes that were each overwritten', () => {
    const history = Array.from({ length: 16 }, (_, i) => [
      op(1, 3 * i, Infinity, kv.put('x', `lost${i}`)),
      op(0, 3 * i + 1, 3 * i + 2, kv.put('x', `kept${i}`), true),
    ]).flat()
    history.push(bogusRead)
    expect(searchInOrder(kvModel, history, 20_000, 'known-first').result).toBe('illegal')
    // Call order tries them eagerly and drowns in their 2^16 combinations.
    expect(searchInOrder(kvModel, history, 20_000, 'call').result).toBe('unknown')
  })

  it('finds linearizations in either order', () => {
    const history = [
      op(0, 0, 1, kv.put('x', 'a'), true),
      op(1, 2, Infinity, kv.append('x', 'b')),
      op(1, 3, Infinity, kv.append('x', 'c')),
      op(0, 4, 5, kv.put('y', 'untouched'), true),
      op(0, 10, 11, kv.get('x'), 'acb'),
    ]
    for (const order of ['call', 'known-first'] as const) {
      expect(searchInOrder(kvModel, history, 1_000, order).result, order).toBe('ok')
    }
  })
})
