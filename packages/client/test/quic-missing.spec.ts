import { rony } from '@rony/envelope'
import { expect, it, vi } from 'vitest'

// libp2p is an optional peer dependency: without it, a QUIC dial cannot work however often
// it is retried, so the client says so at once instead of reconnecting in the background.
vi.mock('#quic-dialer', () => {
  throw new Error("Cannot find package 'libp2p'")
})

it('without libp2p installed, a QUIC request fails at once with what to install, and nothing retries', async () => {
  const { createClient } = await import('../src/index.js')
  const c = createClient('/ip4/127.0.0.1/udp/4433/quic-v1', {
    keepalive: false,
    reconnect: { initialDelay: 10, maxDelay: 50, factor: 2, jitter: 0 },
  })
  const attempts: unknown[] = []
  c.on('reconnecting', (info) => attempts.push(info))
  try {
    const [fromConnect, fromRequest] = await Promise.all([
      c.connect({ timeout: 60_000 }).catch((e: unknown) => e),
      c
        .request(rony.Ping.create({ ID: 1 }), rony.Pong, { timeout: 60_000 })
        .catch((e: unknown) => e),
    ])
    for (const error of [fromConnect, fromRequest] as Error[]) {
      expect(error).toMatchObject({ code: 'RONY_ERR_DIAL_FAILED' })
      expect(error.cause).toBeInstanceOf(TypeError)
      expect(error.message).toMatch(/install libp2p/)
    }
    expect(attempts).toEqual([])
    expect(c.state).toBe('idle')
  } finally {
    await c.close()
  }
})
