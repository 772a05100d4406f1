import { describe, expect, it } from 'vitest'
import { createClient } from '../src/index.js'
import { isQuicMultiaddr } from '../src/transport/quic.js'
import { dialQuic } from '../src/transport/quic-unsupported.js'

// The QUIC transport's address handling and its browser stand-in. Dialing a real gateway
// is tested end to end in packages/gateway-quic/test/e2e.spec.ts.

describe('QUIC multiaddrs', () => {
  it('takes ip4, ip6 and dns multiaddrs over udp/quic-v1, with or without /p2p/', () => {
    for (const address of [
      '/ip4/127.0.0.1/udp/4433/quic-v1/p2p/12D3KooWLj8hfWXT5EKXR4Xc5wWvbqboBniTNGkJhse5vzyrFpK3',
      '/ip4/127.0.0.1/udp/4433/quic-v1',
      '/ip6/::1/udp/4433/quic-v1/p2p/12D3KooWLj8hfWXT5EKXR4Xc5wWvbqboBniTNGkJhse5vzyrFpK3',
      '/dns4/edge.example.com/udp/4433/quic-v1',
      '/dns/edge.example.com/udp/4433/quic-v1',
      '/dns6/edge.example.com/udp/4433/quic-v1',
    ]) {
      expect([address, isQuicMultiaddr(address)]).toEqual([address, true])
      expect(createClient(address).url).toBe(address)
    }
  })

  it('refuses other multiaddrs with a TypeError', () => {
    for (const address of [
      '/ip4/127.0.0.1/tcp/4433',
      '/ip4/127.0.0.1/udp/4433/quic',
      '/ip4/127.0.0.1/udp/x/quic-v1',
      '/unix/tmp/rony.sock',
      '/',
    ]) {
      expect([address, isQuicMultiaddr(address)]).toEqual([address, false])
      expect(() => createClient(address)).toThrow(TypeError)
    }
  })

  it('fails every dial with a TypeError in browsers (quic-unsupported)', async () => {
    const events = { onFrame: () => {}, onClose: () => {} }
    const options = { signal: new AbortController().signal, maxFrameBytes: 1, closeGraceMs: 1 }
    await expect(dialQuic('/ip4/127.0.0.1/udp/1/quic-v1', events, options)).rejects.toThrow(
      /only available in Node/,
    )
  })

  it('reports an unreachable address as RONY_ERR_DIAL_FAILED, and dials nothing before', async () => {
    const client = createClient('/ip4/127.0.0.1/udp/9/quic-v1', {
      reconnect: false,
      connectTimeout: 1_000,
      keepalive: false,
    })
    expect(client.state).toBe('idle')
    try {
      await expect(client.connect()).rejects.toMatchObject({ code: 'RONY_ERR_DIAL_FAILED' })
    } finally {
      await client.close()
    }
  })
})
