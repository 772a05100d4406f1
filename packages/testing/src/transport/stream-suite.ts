import { isCodedError, type MessageStream, type StreamTransport } from '@rony/interface'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { collect, type Driver, payload, rejection } from './driver.js'

/** Moving 2.5 MB through a transport: about 1 s alone, 31 s seen on a CI machine at load 20. */
const BULK_TIMEOUT_MS = 90_000

/**
 * Compliance suite of the `StreamTransport` / `MessageStream` contracts. Each
 * implementation's spec file calls it with a factory; the tests talk to the transports only
 * through the interface, and wait through the `Driver` (virtual or real time).
 */
export interface StreamSetup {
  /** Two transports, not started, that can reach each other once started. */
  a: StreamTransport
  b: StreamTransport
  driver: Driver
  /** An address nothing listens on (dials fail). */
  nowhere: string
  teardown?: () => Promise<void>
}

export function streamTransportSuite(name: string, setup: () => Promise<StreamSetup>): void {
  describe(`StreamTransport compliance: ${name}`, () => {
    let s: StreamSetup
    let accepted: MessageStream[]
    beforeEach(async () => {
      s = await setup()
      accepted = []
      s.b.onStream((stream) => accepted.push(stream))
      await s.a.start()
      await s.b.start()
    })
    afterEach(async () => {
      await s.a.stop()
      await s.b.stop()
      await s.teardown?.()
    })

    async function connect(): Promise<[MessageStream, MessageStream]> {
      const before = accepted.length
      const local = await s.driver.run(s.a.dial(s.b.address))
      await s.driver.until(() => accepted.length > before, 'inbound stream')
      return [local, accepted[before]!]
    }

    it('delivers messages whole and in order, both ways', async () => {
      const [x, y] = await connect()
      expect(x.remote).toBe(s.b.address)
      const sizes = [0, 1, 300, 70_000, 5]
      const reading = collect(y, sizes.length)
      for (const [i, size] of sizes.entries()) await s.driver.run(x.send(payload(i, size)))
      const got = await s.driver.run(reading)
      expect(got.map((m) => m.byteLength)).toEqual(sizes)
      expect(got[3]).toEqual(payload(3, 70_000))
      await s.driver.run(y.send(new Uint8Array([42])))
      expect(await s.driver.run(collect(x, 1))).toEqual([new Uint8Array([42])])
      await s.driver.run(x.close())
    })

    it('close() ends the remote iteration after the messages sent before it', async () => {
      const [x, y] = await connect()
      await s.driver.run(x.send(payload(1)))
      await s.driver.run(x.send(payload(2)))
      await s.driver.run(x.close())
      const got = await s.driver.run(collect(y))
      expect(got).toEqual([payload(1), payload(2)])
      await s.driver.run(y.close())
      expect(isCodedError(await rejection(x.send(payload(3))), 'RONY_ERR_STREAM_CLOSED')).toBe(true)
    })

    it('abort() makes both sides throw and rejects later sends', async () => {
      const [x, y] = await connect()
      const remote = s.driver.run(collect(y))
      const reason = new Error('local reason')
      x.abort(reason)
      expect(await rejection(collect(x))).toBe(reason)
      expect(await rejection(remote)).toBeInstanceOf(Error)
      expect(isCodedError(await rejection(x.send(payload(1))), 'RONY_ERR_STREAM_CLOSED')).toBe(true)
      x.abort() // idempotent
    })

    it('rejects a message over maxMessageSize and stays usable', async () => {
      const [x, y] = await connect()
      const big = new Uint8Array(s.a.maxMessageSize + 1)
      expect(isCodedError(await rejection(x.send(big)), 'RONY_ERR_MESSAGE_TOO_LARGE')).toBe(true)
      await s.driver.run(x.send(payload(7)))
      expect(await s.driver.run(collect(y, 1))).toEqual([payload(7)])
      await s.driver.run(x.close())
    })

    it('carries a large message and many small ones, with bounded buffers', {
      timeout: BULK_TIMEOUT_MS,
    }, async () => {
      const [x, y] = await connect()
      const big = payload(1, 2 * 1024 * 1024)
      const sends: Array<Promise<void>> = [x.send(big)]
      for (let i = 0; i < 500; i++) sends.push(x.send(payload(i, 1_000)))
      const got = await s.driver.run(collect(y, 501))
      await s.driver.run(Promise.all(sends))
      expect(got[0]).toEqual(big)
      expect(got.slice(1)).toEqual(Array.from({ length: 500 }, (_, i) => payload(i, 1_000)))
      await s.driver.run(x.close())
    })

    it('keeps concurrent streams between the same peers apart', async () => {
      const [x1, y1] = await connect()
      const [x2, y2] = await connect()
      await s.driver.run(Promise.all([x1.send(payload(1)), x2.send(payload(2))]))
      expect(await s.driver.run(collect(y2, 1))).toEqual([payload(2)])
      expect(await s.driver.run(collect(y1, 1))).toEqual([payload(1)])
      await s.driver.run(Promise.all([x1.close(), x2.close()]))
    })

    it('rejects a dial to nowhere with RONY_ERR_DIAL_FAILED', async () => {
      const err = await s.driver.run(rejection(s.a.dial(s.nowhere)))
      expect(isCodedError(err, 'RONY_ERR_DIAL_FAILED')).toBe(true)
    })

    it('rejects a dial before start with RONY_ERR_NOT_STARTED', async () => {
      await s.a.stop()
      const fresh = await setup()
      try {
        const err = await rejection(fresh.a.dial(s.b.address))
        expect(isCodedError(err, 'RONY_ERR_NOT_STARTED')).toBe(true)
      } finally {
        await fresh.teardown?.()
      }
    })

    it('rejects a dial with an aborted signal with its reason', async () => {
      const reason = new Error('changed my mind')
      const err = await rejection(s.a.dial(s.b.address, { signal: AbortSignal.abort(reason) }))
      expect(err).toBe(reason)
    })

    it('stop() aborts open streams on both sides', async () => {
      const [x, y] = await connect()
      const local = rejection(collect(x))
      const remote = s.driver.run(rejection(collect(y)))
      await s.a.stop()
      expect(await local).toBeInstanceOf(Error)
      expect(await remote).toBeInstanceOf(Error)
    })

    it('aborts inbound streams when no handler is set (the dial fails or the stream ends)', async () => {
      const c = await setup()
      try {
        await c.a.start()
        await c.b.start() // no onStream handler
        let outcome: unknown
        try {
          const x = await c.driver.run(c.a.dial(c.b.address))
          outcome = await c.driver.run(rejection(collect(x)).catch(() => 'ended'))
        } catch (err) {
          outcome = err
        }
        expect(outcome).toBeDefined()
      } finally {
        await c.a.stop()
        await c.b.stop()
        await c.teardown?.()
      }
    })
  })
}
