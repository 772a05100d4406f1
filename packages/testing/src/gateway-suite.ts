import { createEdge, type Edge } from '@rony/edge'
import {
  C_MessageContainer,
  constructorOf,
  type EnvelopeInit,
  encodeContainer,
  encodeEnvelope,
} from '@rony/envelope'
import type { Gateway } from '@rony/interface'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Echo, EchoReply, PushMany } from './messages.js'
import { type RawConnection, RawPeer } from './raw.js'
import { registerTestServices, type ServiceProbe } from './services.js'

/** What a gateway implementation hands the compliance suite. */
export interface GatewaySuiteSetup {
  /** A new, unstarted gateway that accepts messages up to `maxMessageSize` bytes. */
  createGateway(options: { maxMessageSize: number }): Gateway
  /** Opens a raw connection to `address`, one of the started gateway's `addresses()`. */
  connect(address: string): Promise<RawConnection>
}

const LIMIT = 64 * 1024
const C_Echo = constructorOf('Echo')
const C_PushMany = constructorOf('PushMany')

function echo(text: string, extra: Partial<Echo> = {}): Echo {
  return Echo.create({ Text: text, ...extra })
}

/** An Echo request envelope of exactly `size` encoded bytes. */
export function echoEnvelopeOfSize(size: number, requestId: bigint): Uint8Array {
  let payload = Math.max(0, size - 32)
  for (let attempt = 0; attempt < 8; attempt++) {
    const init: EnvelopeInit = {
      ctor: C_Echo,
      requestId,
      message: Echo.encode({ Payload: new Uint8Array(payload).fill(7) }).finish(),
    }
    const bytes = encodeEnvelope(init)
    if (bytes.length === size) return bytes
    payload += size - bytes.length
  }
  throw new Error(`cannot build an envelope of exactly ${size} bytes`)
}

/**
 * Registers the gateway compliance tests: every gateway (ws, http, quic, memory, yours)
 * runs them against a real edge through its own spec file. Only the `Gateway` contract
 * and raw connections are used. Features a gateway does not declare (`serverPush`) are
 * skipped by name, never silently.
 */
export function gatewayComplianceSuite(name: string, setup: GatewaySuiteSetup): void {
  const features = setup.createGateway({ maxMessageSize: LIMIT }).features
  // Gateways with server push keep connections open for many requests; the others
  // (HTTP) answer one request per connection.
  const persistent = features.serverPush

  describe(`gateway compliance: ${name}`, () => {
    let gateway: Gateway
    let edge: Edge
    let probe: ServiceProbe
    let opened: RawConnection[]

    beforeEach(async () => {
      opened = []
      gateway = setup.createGateway({ maxMessageSize: LIMIT })
      edge = createEdge({
        id: 'compliance',
        gateways: [gateway],
        limits: { maxEnvelopeBytes: LIMIT },
      })
      probe = registerTestServices(edge)
      await edge.start()
    })

    afterEach(async () => {
      for (const connection of opened) connection.abort()
      await edge.stop({ timeout: 1_000 })
    })

    async function connect(): Promise<RawPeer> {
      const address = gateway.addresses()[0]
      if (!address) throw new Error('the started gateway lists no address')
      const connection = await setup.connect(address)
      opened.push(connection)
      return new RawPeer(connection)
    }

    async function expectEcho(peer: RawPeer, text: string): Promise<void> {
      const requestId = peer.send(Echo, C_Echo, echo(text))
      const reply = await peer.replyTo(requestId)
      expect(reply.error).toBeUndefined()
      expect(EchoReply.decode(reply.envelope.message).Text).toBe(text)
    }

    it('lists its addresses once started and none once stopped', async () => {
      expect(gateway.addresses().length).toBeGreaterThan(0)
      expect(features.maxMessageSize).toBe(LIMIT)
      await edge.stop()
      expect(gateway.addresses()).toEqual([])
      await edge.start()
    })

    it('answers a request with its request id', async () => {
      const peer = await connect()
      const requestId = peer.send(Echo, C_Echo, echo('hello', { Payload: Uint8Array.of(1, 2, 3) }))
      const reply = await peer.replyTo(requestId)
      expect(reply.envelope.requestId).toBe(requestId)
      expect(reply.envelope.ctor).toBe(constructorOf('EchoReply'))
      const decoded = EchoReply.decode(reply.envelope.message)
      expect([decoded.Text, [...decoded.Payload], decoded.ServerID]).toEqual([
        'hello',
        [1, 2, 3],
        'compliance',
      ])
    })

    it('serves many concurrent clients', async () => {
      const clients = 10
      const requests = persistent ? 20 : 1
      await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          const peer = await connect()
          const ids = new Map<bigint, string>()
          for (let r = 0; r < requests; r++) {
            const text = `client ${c} request ${r}`
            ids.set(peer.send(Echo, C_Echo, echo(text, { DelayMs: r % 3 })), text)
          }
          for (let r = 0; r < requests; r++) {
            const { envelope, error } = await peer.next()
            expect(error).toBeUndefined()
            expect(EchoReply.decode(envelope.message).Text).toBe(ids.get(envelope.requestId))
            ids.delete(envelope.requestId)
          }
          expect(ids.size).toBe(0)
        }),
      )
    })

    it('answers a container with one container of replies', async () => {
      const peer = await connect()
      const envelopes = ['a', 'b', 'c'].map((text, i) => ({
        ctor: C_Echo,
        requestId: BigInt(i + 1),
        message: Echo.encode({ Text: text }).finish(),
      }))
      peer.sendContainer([...envelopes, { ctor: 42n, requestId: 4n }])
      const replies = [await peer.next(), await peer.next(), await peer.next(), await peer.next()]
      const byId = new Map(replies.map((r) => [r.envelope.requestId, r]))
      expect(
        [1n, 2n, 3n].map((id) => EchoReply.decode(byId.get(id)!.envelope.message).Text),
      ).toEqual(['a', 'b', 'c'])
      expect(byId.get(4n)?.error).toMatchObject({ wireCode: 'E01', items: 'HANDLER' })
    })

    // Every request envelope gets exactly one answer: an unanswered empty container hung its
    // caller (and held an HTTP connection slot until the gateway's timeout).
    it('answers an empty container (no envelopes, or no bytes) with E01/ENVELOPES under its request id', async () => {
      for (const message of [encodeContainer({ envelopes: [] }), new Uint8Array()]) {
        const peer = await connect()
        const requestId = peer.requestId()
        peer.connection.send(encodeEnvelope({ ctor: C_MessageContainer, requestId, message }))
        const reply = await peer.replyTo(requestId)
        expect(reply.error).toMatchObject({ wireCode: 'E01', items: 'ENVELOPES' })
        await expectEcho(persistent ? peer : await connect(), 'after an empty container')
      }
    })

    it.skipIf(!features.serverPush)('pushes updates (request id 0) before the reply', async () => {
      const peer = await connect()
      const requestId = peer.send(PushMany, C_PushMany, PushMany.create({ Count: 5, Text: 'p' }))
      const texts: string[] = []
      for (;;) {
        const { envelope } = await peer.next()
        if (envelope.requestId === requestId) break
        expect(envelope.requestId).toBe(0n)
        texts.push(EchoReply.decode(envelope.message).Text)
      }
      expect(texts).toEqual(['p#0', 'p#1', 'p#2', 'p#3', 'p#4'])
    })

    it('accepts an envelope of exactly the size limit', async () => {
      const peer = await connect()
      peer.connection.send(echoEnvelopeOfSize(LIMIT, 77n))
      const reply = await peer.replyTo(77n)
      expect(reply.error).toBeUndefined()
      expect(EchoReply.decode(reply.envelope.message).Payload.length).toBeGreaterThan(LIMIT - 64)
    })

    it('refuses an envelope one byte over the limit, and keeps serving', async () => {
      const peer = await connect()
      peer.connection.send(echoEnvelopeOfSize(LIMIT + 1, 78n))
      const outcome = await Promise.race([
        peer.next().then(
          (r) => r.error?.wireCode ?? 'answered',
          () => 'closed',
        ),
        peer.connection.closed.then(() => 'closed'),
      ])
      expect(['E01', 'closed']).toContain(outcome)
      expect(probe.started).toBe(0)
      await expectEcho(await connect(), 'still serving')
    })

    it('answers garbage with E01/ENVELOPE and then serves the next request', async () => {
      const garbage = [Uint8Array.of(0xff), Uint8Array.of(0x08), Uint8Array.of(0x0f, 0x00, 0x01)]
      for (const bytes of garbage) {
        const peer = await connect()
        peer.connection.send(bytes)
        const { envelope, error } = await peer.next()
        expect(envelope.requestId).toBe(0n)
        expect(error).toMatchObject({ wireCode: 'E01', items: 'ENVELOPE' })
        await expectEcho(persistent ? peer : await connect(), 'after garbage')
      }
    })

    it('survives a client that disconnects mid-request', async () => {
      const peer = await connect()
      peer.send(Echo, C_Echo, echo('slow', { DelayMs: 5_000 }))
      await vi.waitFor(() => expect(probe.started).toBe(1))
      const closed = new Promise((resolve) => edge.once('connection:close', resolve))
      peer.connection.abort()
      await closed
      if (persistent) await vi.waitFor(() => expect(probe.aborted).toBe(1))
      await expectEcho(await connect(), 'after the drop')
    })

    it('stops gracefully: in-flight requests are answered, then connections close', async () => {
      const peer = await connect()
      const requestId = peer.send(Echo, C_Echo, echo('in flight', { DelayMs: 200 }))
      await vi.waitFor(() => expect(probe.started).toBe(1))
      const stopping = edge.stop({ timeout: 5_000 })
      const reply = await peer.replyTo(requestId)
      expect(EchoReply.decode(reply.envelope.message).Text).toBe('in flight')
      await stopping
      await peer.connection.closed
      expect(gateway.addresses()).toEqual([])
      await edge.start()
    })
  })
}
