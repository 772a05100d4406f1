import { packetTransportSuite, realDriver } from '@rony/testing/transport'
import { describe, expect, it } from 'vitest'
import { udpTransport } from '../src/index.js'

packetTransportSuite('udp on 127.0.0.1', async () => ({
  a: udpTransport({ bind: '127.0.0.1:0' }),
  b: udpTransport({ bind: '127.0.0.1:0' }),
  driver: realDriver(),
  // A port from the dynamic range on loopback that nothing here binds; UDP to it is a drop.
  nowhere: '127.0.0.1:9',
}))

describe('udpTransport', () => {
  it('reports the real bound port after start', async () => {
    const udp = udpTransport({ bind: '127.0.0.1:0' })
    expect(udp.address).toBe('127.0.0.1:0')
    await udp.start()
    try {
      expect(udp.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/)
    } finally {
      await udp.stop()
    }
  })

  it('counts oversize, pre-start and bad-address sends as drops, never throwing', async () => {
    const udp = udpTransport({ bind: '127.0.0.1:0', maxPacketSize: 100 })
    udp.send('127.0.0.1:9', new Uint8Array(1))
    await udp.start()
    try {
      udp.send('127.0.0.1:9', new Uint8Array(101))
      udp.send('not an address', new Uint8Array(1))
      udp.send('127.0.0.1:99999', new Uint8Array(1))
      const { dropped } = udp.stats
      expect(dropped.notStarted).toBe(1)
      expect(dropped.oversize).toBe(1)
      expect(dropped.badAddress).toBe(2)
    } finally {
      await udp.stop()
    }
    udp.send('127.0.0.1:9', new Uint8Array(1))
    expect(udp.stats.dropped.notStarted).toBe(2)
    await expect(udp.start()).rejects.toMatchObject({ code: 'RONY_ERR_STOPPED' })
  })

  it('works over IPv6 loopback when the host has it', async (ctx) => {
    const a = udpTransport({ bind: '[::1]:0' })
    try {
      await a.start()
    } catch {
      ctx.skip()
    }
    const b = udpTransport({ bind: '[::1]:0' })
    const got: string[] = []
    b.onPacket((_d, from) => got.push(from))
    await b.start()
    try {
      expect(a.address).toMatch(/^\[::1\]:\d+$/)
      a.send(b.address, new Uint8Array([1]))
      await realDriver().until(() => got.length === 1)
      expect(got[0]).toBe(a.address)
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  it('survives a throwing handler and ICMP errors', async () => {
    const a = udpTransport({ bind: '127.0.0.1:0' })
    const b = udpTransport({ bind: '127.0.0.1:0' })
    let calls = 0
    b.onPacket(() => {
      calls++
      throw new Error('handler bug')
    })
    await a.start()
    await b.start()
    try {
      for (let i = 0; i < 5; i++) a.send('127.0.0.1:9', new Uint8Array([i])) // port unreachable
      a.send(b.address, new Uint8Array([1]))
      a.send(b.address, new Uint8Array([2]))
      await realDriver().until(() => calls === 2)
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  it('rejects start on an address in use', async () => {
    const a = udpTransport({ bind: '127.0.0.1:0' })
    await a.start()
    try {
      const b = udpTransport({ bind: a.address })
      await expect(b.start()).rejects.toThrow()
    } finally {
      await a.stop()
    }
  })
})
