import { createSocket } from 'node:dgram'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { type Client, type ClientInit, type CloseInfo, createClient } from '@rony/client'
import { createEdge, type Edge } from '@rony/edge'
import { Echo, EchoReply, PushMany, registerTestServices } from '@rony/testing'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type QuicGatewayInit, quicGateway } from '../src/index.js'

// The real client against a real edge over QUIC on loopback: what an application sees.

const fastReconnect = { initialDelay: 20, maxDelay: 200, factor: 2, jitter: 0 }
const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.()
})

async function startEdge(
  id: string,
  init: QuicGatewayInit = {},
): Promise<{ edge: Edge; url: string }> {
  const gateway = quicGateway(init)
  const edge = createEdge({ id, gateways: [gateway] })
  registerTestServices(edge)
  cleanups.push(() => edge.stop({ timeout: 1_000 }))
  await edge.start()
  const url = gateway.addresses()[0]
  if (url === undefined) throw new Error('no address')
  return { edge, url }
}

function client(url: string, init: ClientInit = {}): Client {
  const c = createClient(url, { keepalive: false, ...init })
  c.registry.register(EchoReply)
  cleanups.push(() => c.close())
  return c
}

/** A UDP port nothing listens on right now (bound a moment ago, then released). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

describe('client ↔ edge over QUIC', () => {
  it('answers requests, concurrent ones included', async () => {
    const { url } = await startEdge('q1')
    expect(url).toMatch(/^\/ip4\/127\.0\.0\.1\/udp\/\d+\/quic-v1\/p2p\/12D3KooW\w+$/)
    const c = client(url)
    const reply = await c.request(Echo.create({ Text: 'hello' }), EchoReply)
    expect([reply.Text, reply.ServerID]).toEqual(['hello', 'q1'])
    const texts = Array.from({ length: 50 }, (_, i) => `r${i}`)
    const replies = await Promise.all(
      texts.map((Text) => c.request(Echo.create({ Text, DelayMs: Text.length % 3 }), EchoReply)),
    )
    expect(replies.map((r) => r.Text)).toEqual(texts)
  })

  it("delivers PushMany's updates before the reply", async () => {
    const { url } = await startEdge('q2')
    const c = client(url)
    const pushed: string[] = []
    c.on('update', (update) => pushed.push((update.message as EchoReply).Text))
    const reply = await c.request(PushMany.create({ Count: 4, Text: 'u' }), EchoReply)
    expect(reply.Text).toBe('u')
    expect(pushed).toEqual(['u#0', 'u#1', 'u#2', 'u#3'])
  })

  it('reconnects to an edge restarted on the same address', async () => {
    const port = await freeUdpPort()
    const privateKey = await generateKeyPair('Ed25519')
    const init = { listen: [`/ip4/127.0.0.1/udp/${port}/quic-v1`], privateKey }
    const first = await startEdge('before', init)
    const c = client(first.url, { reconnect: fastReconnect })
    expect((await c.request(Echo.create({ Text: 'a' }), EchoReply)).ServerID).toBe('before')
    const closes: CloseInfo[] = []
    c.on('close', (info) => closes.push(info))
    await first.edge.stop({ timeout: 1_000 })
    await vi.waitFor(() => expect(closes).toHaveLength(1), { timeout: 5_000 })
    expect(closes[0]?.reconnecting).toBe(true)
    expect(c.state).not.toBe('open')

    const second = await startEdge('after', init)
    expect(second.url).toBe(first.url) // same key, same port: the same multiaddr
    const reply = await c.request(Echo.create({ Text: 'b' }), EchoReply, { timeout: 8_000 })
    expect([reply.Text, reply.ServerID]).toEqual(['b', 'after'])
    expect(c.state).toBe('open')
  })

  it('fails a dial to a multiaddr nobody serves with RONY_ERR_DIAL_FAILED', async () => {
    const port = await freeUdpPort()
    const { url } = await startEdge('elsewhere')
    const peer = url.slice(url.indexOf('/p2p/'))
    const c = client(`/ip4/127.0.0.1/udp/${port}/quic-v1${peer}`, {
      reconnect: false,
      connectTimeout: 2_000,
    })
    await expect(c.connect()).rejects.toMatchObject({ code: 'RONY_ERR_DIAL_FAILED' })
  })
})
