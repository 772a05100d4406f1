import { describe, expect, it } from 'vitest'
import { disabledLogger, integerOption, Lifecycle, truncateCloseReason } from '../src/index.js'

describe('integerOption', () => {
  it('returns integers within the range and names the option otherwise', () => {
    expect(integerOption('port', 0, 0, 65535)).toBe(0)
    expect(integerOption('limit', 2 ** 53 - 1, 1)).toBe(2 ** 53 - 1)
    for (const bad of [-1, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '80' as never]) {
      expect(() => integerOption('port', bad, 0, 65535)).toThrow(
        /^port must be an integer in \[0, 65535\], got /,
      )
    }
  })
})

describe('truncateCloseReason', () => {
  const utf8 = (s: string): number => new TextEncoder().encode(s).length

  it('keeps reasons of up to 123 bytes and cuts longer ones at a character boundary', () => {
    expect(truncateCloseReason('bye')).toBe('bye')
    expect(truncateCloseReason('a'.repeat(123))).toBe('a'.repeat(123))
    expect(truncateCloseReason('a'.repeat(124))).toBe('a'.repeat(123))
    // 3-byte characters: 41 fit (123 bytes), the 42nd does not.
    expect(truncateCloseReason('€'.repeat(50))).toBe('€'.repeat(41))
    // A surrogate pair (4 bytes) is never split.
    const cut = truncateCloseReason(`${'a'.repeat(121)}😀b`)
    expect(cut).toBe('a'.repeat(121))
    expect(utf8(cut)).toBeLessThanOrEqual(123)
  })
})

describe('disabledLogger', () => {
  it('is disabled on every channel and accepts calls', () => {
    expect([
      disabledLogger.enabled,
      disabledLogger.error.enabled,
      disabledLogger.trace.enabled,
    ]).toEqual([false, false, false])
    expect(() => disabledLogger('x %s', 1)).not.toThrow()
  })
})

describe('Lifecycle', () => {
  function counted(failStarts = 0) {
    const calls: string[] = []
    let fails = failStarts
    const lifecycle = new Lifecycle({
      start: async () => {
        calls.push('start')
        if (fails-- > 0) throw new Error('bind failed')
      },
      stop: async () => {
        calls.push('stop')
      },
    })
    return { calls, lifecycle }
  }

  it('shares one start between concurrent calls and one stop between concurrent stops', async () => {
    const { calls, lifecycle } = counted()
    await Promise.all([lifecycle.start(), lifecycle.start()])
    await lifecycle.start()
    await Promise.all([lifecycle.stop(), lifecycle.stop()])
    expect(calls).toEqual(['start', 'stop'])
  })

  it('stop before start is a no-op; a failed start may be retried and stops nothing', async () => {
    const { calls, lifecycle } = counted(1)
    await lifecycle.stop()
    await expect(lifecycle.start()).rejects.toThrow('bind failed')
    await lifecycle.stop()
    await lifecycle.start()
    expect(calls).toEqual(['start', 'start'])
  })

  it('a start during a stop runs after the stop', async () => {
    const { calls, lifecycle } = counted()
    await lifecycle.start()
    const stopped = lifecycle.stop()
    const restarted = lifecycle.start()
    await Promise.all([stopped, restarted])
    expect(calls).toEqual(['start', 'stop', 'start'])
  })
})
