import type { PacketTransport } from '@rony/interface'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Driver, payload } from './driver.js'

/**
 * Compliance suite of the `PacketTransport` contract. Each implementation's spec file calls
 * it with a factory; the tests talk to the transports only through the interface.
 */
export interface PacketSetup {
  /** Two transports, not started, that can reach each other once started. */
  a: PacketTransport
  b: PacketTransport
  driver: Driver
  /** An address nothing listens on. */
  nowhere: string
  teardown?: () => Promise<void>
}

export function packetTransportSuite(name: string, setup: () => Promise<PacketSetup>): void {
  describe(`PacketTransport compliance: ${name}`, () => {
    let s: PacketSetup
    beforeEach(async () => {
      s = await setup()
    })
    afterEach(async () => {
      await s.a.stop()
      await s.b.stop()
      await s.teardown?.()
    })

    async function startBoth(): Promise<Array<{ data: Uint8Array; from: string }>> {
      const got: Array<{ data: Uint8Array; from: string }> = []
      s.b.onPacket((data, from) => got.push({ data, from }))
      await s.a.start()
      await s.b.start()
      return got
    }

    it('reports an address and a positive maxPacketSize after start', async () => {
      await startBoth()
      expect(typeof s.a.address).toBe('string')
      expect(s.a.address).not.toBe(s.b.address)
      expect(s.a.maxPacketSize).toBeGreaterThan(0)
    })

    it('delivers packets whole, with the sender address usable for a reply', async () => {
      const got = await startBoth()
      const replies: Uint8Array[] = []
      s.a.onPacket((data) => replies.push(data))
      s.b.onPacket((data, from) => {
        got.push({ data, from })
        s.b.send(from, data.slice().reverse())
      })
      s.a.send(s.b.address, new Uint8Array([1, 2, 3]))
      await s.driver.until(() => replies.length === 1, 'reply')
      expect(got[0]?.from).toBe(s.a.address)
      expect([...got[0]!.data]).toEqual([1, 2, 3])
      expect([...replies[0]!]).toEqual([3, 2, 1])
    })

    it('keeps packets separate (never merged or split), up to maxPacketSize', async () => {
      const got = await startBoth()
      const sizes = [0, 1, 100, Math.min(s.a.maxPacketSize, 1200)]
      for (const [i, size] of sizes.entries()) s.a.send(s.b.address, payload(i, size))
      await s.driver.until(() => got.length === sizes.length, 'all packets')
      expect(got.map((p) => p.data.byteLength).sort((x, y) => x - y)).toEqual(sizes)
    })

    it('drops oversize packets without throwing', async () => {
      const got = await startBoth()
      expect(() => s.a.send(s.b.address, new Uint8Array(s.a.maxPacketSize + 1))).not.toThrow()
      s.a.send(s.b.address, new Uint8Array([9]))
      await s.driver.until(() => got.length === 1, 'small packet')
      await s.driver.settle()
      expect(got.map((p) => p.data.byteLength)).toEqual([1])
    })

    it('never throws from send before start, after stop, or to nowhere', async () => {
      expect(() => s.a.send(s.b.address, new Uint8Array([1]))).not.toThrow()
      await startBoth()
      expect(() => s.a.send(s.nowhere, new Uint8Array([1]))).not.toThrow()
      await s.driver.settle()
      await s.a.stop()
      expect(() => s.a.send(s.b.address, new Uint8Array([1]))).not.toThrow()
    })

    it('is idempotent in start and stop', async () => {
      await s.a.stop() // before start: no-op
      await s.a.start()
      const address = s.a.address
      await s.a.start()
      expect(s.a.address).toBe(address)
      await s.a.stop()
      await s.a.stop()
    })

    it('uses the latest handler', async () => {
      await startBoth()
      const first: Uint8Array[] = []
      const second: Uint8Array[] = []
      s.b.onPacket((d) => first.push(d))
      s.b.onPacket((d) => second.push(d))
      s.a.send(s.b.address, new Uint8Array([5]))
      await s.driver.until(() => second.length === 1, 'packet to second handler')
      expect(first).toEqual([])
    })

    it('stops delivering after stop', async () => {
      const got = await startBoth()
      await s.b.stop()
      s.a.send(s.b.address, new Uint8Array([1]))
      await s.driver.settle()
      expect(got).toEqual([])
    })
  })
}
