import { describe, expect, it } from 'vitest'
import {
  disabledLogger,
  type GatewayConn,
  GatewayConnections,
  integerOption,
  Lifecycle,
  type RequestMeta,
  truncateCloseReason,
} from '../src/index.js'

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

  describe('with { restartable: false }', () => {
    function once() {
      const calls: string[] = []
      const lifecycle = new Lifecycle(
        {
          start: async () => {
            calls.push('start')
          },
          stop: async () => {
            calls.push('stop')
          },
        },
        { restartable: false },
      )
      return { calls, lifecycle }
    }
    const stoppedError = { name: 'CodedError', code: 'RONY_ERR_STOPPED' }

    it('rejects a start after stop with RONY_ERR_STOPPED and starts nothing', async () => {
      const { calls, lifecycle } = once()
      await lifecycle.start()
      await lifecycle.stop()
      await expect(lifecycle.start()).rejects.toMatchObject(stoppedError)
      await lifecycle.stop() // still a no-op
      expect(calls).toEqual(['start', 'stop'])
    })

    it('rejects a start made during the stop, and one after a stop during start', async () => {
      const { calls, lifecycle } = once()
      const started = lifecycle.start()
      const stopped = lifecycle.stop() // during start: waits for it, then stops
      const restarted = lifecycle.start() // during stop
      await expect(restarted).rejects.toMatchObject(stoppedError)
      await Promise.all([started, stopped])
      await expect(lifecycle.start()).rejects.toMatchObject(stoppedError)
      expect(calls).toEqual(['start', 'stop'])
    })

    it('a stop before any start does not count: start still works', async () => {
      const { calls, lifecycle } = once()
      await lifecycle.stop()
      await lifecycle.start()
      expect(calls).toEqual(['start'])
    })
  })
})

describe('GatewayConnections', () => {
  const conn = (id: number): GatewayConn => ({
    id,
    persistent: true,
    remoteAddress: `test:${id}`,
    protocol: 'test',
    closed: false,
    send: () => true,
    close: () => {},
  })
  const meta: RequestMeta = { headers: new Map(), format: 'binary' }

  function table() {
    const calls: string[] = []
    const errors: unknown[] = []
    const log = Object.assign(() => {}, {
      enabled: false,
      trace: disabledLogger.trace,
      warn: disabledLogger.warn,
      error: Object.assign((_f: string, ...args: unknown[]) => errors.push(args.at(-1)), {
        enabled: true,
      }),
    })
    const connections = new GatewayConnections<GatewayConn>('test', log)
    connections.attach({
      onConnect: (c) => {
        calls.push(`connect ${c.id}`)
        if (c.id === 2) throw new Error('connect boom')
      },
      onMessage: (c, data) => calls.push(`message ${c.id} ${data.length}`),
      onClose: (c, reason) => calls.push(`close ${c.id} ${reason.initiator}`),
    })
    return { calls, errors, connections }
  }

  it('hands out ids that are never reused and reports each connection in order, close once', () => {
    const { calls, connections } = table()
    const ids = [connections.nextId(), connections.nextId()]
    expect(ids).toEqual([1, 2])
    const a = conn(ids[0]!)
    connections.open(a)
    connections.message(a, new Uint8Array(3), meta)
    expect(connections.close(a, { initiator: 'remote' })).toBe(true)
    expect(connections.close(a, { initiator: 'local' })).toBe(false)
    expect(calls).toEqual(['connect 1', 'message 1 3', 'close 1 remote'])
    expect(connections.size).toBe(0)
    expect(connections.nextId()).toBe(3)
  })

  it('logs a throwing callback instead of passing it on', () => {
    const { calls, errors, connections } = table()
    const b = conn(2)
    expect(() => connections.open(b)).not.toThrow()
    expect([...connections]).toEqual([b])
    expect(calls).toEqual(['connect 2'])
    expect(errors).toHaveLength(1)
  })

  it('drained() resolves when the last connection closes, or false after the timeout', async () => {
    const { connections } = table()
    expect(await connections.drained(10)).toBe(true)
    const a = conn(1)
    connections.open(a)
    expect(await connections.drained(10)).toBe(false)
    const waiting = connections.drained()
    connections.close(a, { initiator: 'local' })
    expect(await waiting).toBe(true)
  })
})
