import { isCodedError } from '@rony/interface'
import { expect } from 'vitest'

/** mulberry32: a tiny seeded generator for test inputs (independent of the code under test). */
export function testRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A checker that `fn` throws the coded error `code` (and, if given, a message matching
 * `message`), and nothing else.
 */
export function codedErrorExpecter(code: string) {
  return (fn: () => unknown, message?: RegExp): void => {
    try {
      fn()
    } catch (err) {
      expect(isCodedError(err, code), String(err)).toBe(true)
      if (message) expect((err as Error).message).toMatch(message)
      return
    }
    expect.fail('did not throw')
  }
}

/**
 * Decodes `bytes` and tells whether it decoded; fails the test on any exception but the
 * coded error `code`.
 */
export function decodesOrFailsWith<T>(
  decode: (bytes: Uint8Array) => T,
  bytes: Uint8Array,
  code: string,
): T | undefined {
  try {
    return decode(bytes)
  } catch (err) {
    if (!isCodedError(err, code)) {
      expect.fail(`decoding ${Buffer.from(bytes).toString('hex')} threw ${String(err)}`)
    }
    return undefined
  }
}

/**
 * 10k inputs from one seed: random strings (half of them with the right version byte, so
 * they get past it) and single-byte mutations of `valid`.
 */
export function* fuzzInputs(
  seed: number,
  version: number,
  valid: Uint8Array,
): Generator<Uint8Array> {
  const random = testRandom(seed)
  const int = (n: number) => Math.floor(random() * n)
  for (let i = 0; i < 5_000; i++) {
    const bytes = new Uint8Array(int(64))
    for (let j = 0; j < bytes.length; j++) bytes[j] = int(256)
    if (bytes.length > 0 && i % 2 === 0) bytes[0] = version
    yield bytes
  }
  for (let i = 0; i < 5_000; i++) {
    const bytes = valid.slice()
    bytes[int(bytes.length)] = int(256)
    if (i % 3 === 0) {
      const at = int(bytes.length)
      bytes[at] = bytes[at]! ^ (1 << int(8))
    }
    yield bytes
  }
}

/** Every proper prefix of `bytes`. */
export function* truncations(bytes: Uint8Array): Generator<Uint8Array> {
  for (let end = 0; end < bytes.length; end++) yield bytes.subarray(0, end)
}
