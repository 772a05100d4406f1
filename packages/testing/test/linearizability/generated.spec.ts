import { describe, expect, it } from 'vitest'
import { check, type Model, type Operation } from '../../src/linearizability/check.js'
import { formatHistory } from '../../src/linearizability/history.js'
import {
  type KvInput,
  type KvOutput,
  type KvState,
  kvModel,
} from '../../src/linearizability/kv-model.js'
import { searchInOrder } from '../../src/linearizability/search.js'
import { seeded } from './seeded.js'

type Op = Operation<KvInput, KvOutput>

const pick = <T>(rand: () => number, items: readonly T[]): T =>
  items[Math.floor(rand() * items.length)]!

/** The key-value model without its partitioning: the whole history is searched at once. */
const unpartitioned: Model<KvState, KvInput, KvOutput> = {
  init: kvModel.init,
  step: kvModel.step,
  stateKey: kvModel.stateKey,
}

interface Shape {
  readonly clients: number
  readonly keys: number
  readonly ops: number
  /** Probability that a client gives up on an operation (unknown outcome). */
  readonly unknown: number
}

/**
 * A history of a truly atomic store. Each client issues operations one after another at
 * integer times (so ties are common); each takes effect at one instant strictly inside its
 * interval (at its instant, if it takes no time), which respects the tie rule. An operation
 * the client gives up on takes effect some time after its call, or never. Executing the
 * effects in time order gives the outputs. Written values are unique tokens (`p7`, `.a8`,
 * `c9`), so which write produced a value read is unambiguous.
 */
function atomicHistory(seed: number, shape: Shape): Op[] {
  const rand = seeded(seed)
  const int = (n: number): number => Math.floor(rand() * n)
  const keys = Array.from({ length: shape.keys }, (_, i) => `k${i}`)
  const free = new Array<number>(shape.clients).fill(0)
  const planned = Array.from({ length: shape.ops }, (_, n) => {
    const client = int(shape.clients)
    const call = free[client]! + int(3)
    const lost = rand() < shape.unknown
    const ret = lost ? Infinity : call + int(6)
    const effect = lost
      ? rand() < 0.5
        ? null
        : call + 0.5 + rand() * 20
      : call + (ret - call) * (0.01 + 0.98 * rand())
    free[client] = lost ? call + int(10) : ret
    const kind = pick(rand, ['get', 'get', 'put', 'append', 'delete', 'cas'] as const)
    return { client, call, ret, effect, kind, key: pick(rand, keys), n }
  })
  const store = new Map<string, string>()
  const ops: Op[] = []
  const order = planned
    .filter((p) => p.effect !== null)
    .sort((a, b) => a.effect! - b.effect!)
    .concat(planned.filter((p) => p.effect === null))
  for (const { client, call, ret, effect, kind, key, n } of order) {
    const current = store.get(key) ?? null
    const apply = (value: string | null) => {
      if (effect === null) return
      if (value === null) store.delete(key)
      else store.set(key, value)
    }
    let input: KvInput
    let output: KvOutput = true
    if (kind === 'get') {
      input = { op: kind, key }
      output = current
    } else if (kind === 'put') {
      input = { op: kind, key, value: `p${n}` }
      apply(input.value)
    } else if (kind === 'append') {
      input = { op: kind, key, value: `.a${n}` }
      apply((current ?? '') + input.value)
    } else if (kind === 'delete') {
      input = { op: kind, key }
      apply(null)
    } else {
      input = { op: kind, key, expected: rand() < 0.5 ? current : null, next: `c${n}` }
      output = current === input.expected
      if (output) apply(input.next)
    }
    ops[n] = { client, input, output: ret === Infinity ? undefined : output, call, return: ret }
  }
  return ops
}

/** The token a write puts into the key's value. */
const tokenOf = (input: KvInput): string | undefined =>
  input.op === 'put' || input.op === 'append'
    ? input.value
    : input.op === 'cas'
      ? input.next
      : undefined

/**
 * Changes a random known read to a value no linearization allows: the token of a write called
 * after the read returned ('future'); a put's value that a later definite write (put, append
 * or delete) overwrote before the read was called ('stale'; tokens never come back); or a
 * value nobody wrote ('never'); chosen at random. Undefined if the history has no known read.
 */
function impossibleRead(history: Op[], rand: () => number) {
  const reads = history.filter((op) => op.input.op === 'get' && op.return !== Infinity)
  if (!reads.length) return undefined
  const read = pick(rand, reads)
  const key = read.input.key
  const onKey = history.filter((op) => op.input.key === key)
  const future = onKey.filter((w) => w.call > read.return && tokenOf(w.input) !== undefined)
  const overwrites = onKey.filter(
    (w) => w.return < read.call && ['put', 'append', 'delete'].includes(w.input.op),
  )
  const stale = onKey.filter(
    (x) =>
      x.input.op === 'put' && x.return !== Infinity && overwrites.some((w) => x.return < w.call),
  )
  const choices = [
    ...future.map((w) => ['future', tokenOf(w.input)!] as const),
    ...stale.map((x) => ['stale', tokenOf(x.input)!] as const),
    ['never', 'never written'] as const,
  ]
  const [kind, value] = pick(rand, choices)
  return { kind, history: history.map((op) => (op === read ? { ...read, output: value } : op)) }
}

/**
 * The definition, by brute force: some order of the operations, respecting real time under
 * the tie rule, that the model accepts, containing every known operation and any subset of
 * the unknown ones (each after its call). Only for a handful of operations.
 */
function bruteForce(history: readonly Op[], model: Model<KvState, KvInput, KvOutput>): boolean {
  const precedes = (a: Op, b: Op) => a.return < b.call || (a.return === b.call && a.call < a.return)
  const known = history.filter((op) => op.return !== Infinity).length
  const placed = new Set<Op>()
  const extend = (state: KvState, placedKnown: number): boolean => {
    if (placedKnown === known) return true
    for (const op of history) {
      if (placed.has(op) || history.some((o) => !placed.has(o) && precedes(o, op))) continue
      const isKnown = op.return !== Infinity
      const next = model.step(state, op.input, isKnown ? op.output : undefined)
      if (!next.ok) continue
      placed.add(op)
      if (extend(next.state, placedKnown + (isKnown ? 1 : 0))) return true
      placed.delete(op)
    }
    return false
  }
  return extend(model.init(), 0)
}

/** A handful of random operations on two keys, at times from a tiny range (many ties). */
function tinyHistory(seed: number, unknown: number): Op[] {
  const rand = seeded(seed)
  const int = (n: number): number => Math.floor(rand() * n)
  const values = ['1', '2']
  return Array.from({ length: 1 + int(8) }, (): Op => {
    const call = int(6)
    const ret = rand() < unknown ? Infinity : call + int(4)
    const key = rand() < 0.7 ? 'x' : 'y'
    const input: KvInput = pick(rand, [
      { op: 'get', key },
      { op: 'put', key, value: pick(rand, values) },
      { op: 'append', key, value: pick(rand, values) },
      { op: 'delete', key },
      { op: 'cas', key, expected: pick(rand, [null, ...values]), next: pick(rand, values) },
    ] as const)
    const output =
      input.op === 'get'
        ? pick(rand, [null, '1', '2', '12', '21'])
        : input.op === 'cas'
          ? rand() < 0.5
          : true
    return {
      client: int(3),
      input,
      output: ret === Infinity ? undefined : output,
      call,
      return: ret,
    }
  })
}

describe('generated histories', () => {
  const small: Shape = { clients: 4, keys: 3, ops: 60, unknown: 0.1 }

  it('accepts every history of an atomic store', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const history = atomicHistory(seed, small)
      const result = check(history, kvModel)
      expect(result.result, `seed ${seed}\n${result.message}\n${formatHistory(history)}`).toBe('ok')
    }
  })

  it('accepts them unpartitioned too', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const history = atomicHistory(seed, { ...small, ops: 30 })
      expect(check(history, unpartitioned).result, `seed ${seed}`).toBe('ok')
    }
  })

  it('rejects every one of them with a read changed to an impossible value', () => {
    const kinds = { future: 0, stale: 0, never: 0 }
    for (let seed = 1; seed <= 400; seed++) {
      const mutated = impossibleRead(atomicHistory(seed, small), seeded(~seed))
      if (!mutated) continue
      kinds[mutated.kind]++
      const result = check(mutated.history, kvModel)
      expect(
        result.result,
        `seed ${seed} (${mutated.kind})\n${formatHistory(mutated.history)}`,
      ).toBe('illegal')
      expect(result.partitions.filter((p) => p.result === 'illegal')).toHaveLength(1)
    }
    // Each kind of impossible value was tried many times.
    expect(Math.min(kinds.future, kinds.stale, kinds.never)).toBeGreaterThan(20)
  })

  it('agrees with a brute-force search on tiny random histories', () => {
    const verdicts = { ok: 0, illegal: 0 }
    for (const unknown of [0.15, 0.5]) {
      for (let seed = 1; seed <= 2000; seed++) {
        const history = tinyHistory(seed, unknown)
        const expected = bruteForce(history, unpartitioned) ? 'ok' : 'illegal'
        verdicts[expected]++
        const why = `seed ${seed}, unknown ${unknown}\n${formatHistory(history)}`
        expect(check(history, kvModel).result, why).toBe(expected)
        for (const order of ['call', 'known-first'] as const) {
          const { result } = searchInOrder(unpartitioned, history, Infinity, order)
          expect(result, `${order} order, unpartitioned, ${why}`).toBe(expected)
        }
      }
    }
    expect(Math.min(verdicts.ok, verdicts.illegal)).toBeGreaterThan(1000)
  })

  it('checks thousands of operations on ten keys from five clients', () => {
    const shape: Shape = { clients: 5, keys: 10, ops: 3000, unknown: 0.02 }
    const history = atomicHistory(42, shape)
    const result = check(history, kvModel)
    expect(result.result, result.message).toBe('ok')
    expect(result.partitions).toHaveLength(10)
    const mutated = impossibleRead(history, seeded(7))!
    expect(check(mutated.history, kvModel).result).toBe('illegal')
  })
})
