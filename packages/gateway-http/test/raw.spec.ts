import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import * as http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createEdge, type Edge } from '@rony/edge'
import {
  C_Error,
  C_MessageContainer,
  constructorOf,
  decodeContainer,
  decodeEnvelope,
  encodeContainer,
  encodeEnvelope,
  rony,
} from '@rony/envelope'
import { Echo, EchoReply, registerTestServices } from '@rony/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpGateway } from '../src/index.js'
import { request, requestJson } from './helpers.js'

const C_Echo = constructorOf('Echo')
const C_EchoReply = constructorOf('EchoReply')
const LIMIT = 4096
const curl = ['/usr/bin/curl', '/usr/local/bin/curl', '/bin/curl'].find((p) => existsSync(p))

const echoEnvelope = (text: string, requestId = 7n): Uint8Array =>
  encodeEnvelope({ ctor: C_Echo, requestId, message: Echo.encode({ Text: text }).finish() })

describe('raw HTTP requests against a real edge', () => {
  let edge: Edge
  let url: string

  beforeAll(async () => {
    edge = createEdge({
      id: 'raw',
      gateways: [httpGateway({ port: 0, prefix: '/rpc', bodyLimit: LIMIT })],
    })
    registerTestServices(edge)
    await edge.start()
    url = edge.addresses()[0]!
  })

  afterAll(() => edge.stop({ timeout: 1_000 }))

  it('lists http://127.0.0.1:PORT/prefix', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rpc$/)
  })

  it('answers a binary envelope with the binary reply envelope', async () => {
    const res = await request(url, {
      contentType: 'application/x-protobuf',
      body: echoEnvelope('bin'),
    })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/x-protobuf')
    const reply = decodeEnvelope(res.body)
    expect([reply.ctor, reply.requestId]).toEqual([C_EchoReply, 7n])
    expect(EchoReply.decode(reply.message).Text).toBe('bin')
  })

  it('answers a container with one container, not concatenated envelopes', async () => {
    const envelopes = ['a', 'b'].map((text, i) => ({
      ctor: C_Echo,
      requestId: BigInt(i + 1),
      message: Echo.encode({ Text: text }).finish(),
    }))
    const body = encodeEnvelope({
      ctor: C_MessageContainer,
      requestId: 0n,
      message: encodeContainer({ envelopes }),
    })
    const res = await request(url, { contentType: 'application/x-protobuf', body })
    const outer = decodeEnvelope(res.body)
    expect(outer.ctor).toBe(C_MessageContainer)
    const texts = decodeContainer(outer.message)
      .envelopes.map((e) => EchoReply.decode(e.message).Text)
      .sort()
    expect(texts).toEqual(['a', 'b'])
  })

  it('answers garbage with an E01 error envelope (200, the envelope carries the error)', async () => {
    const res = await request(url, {
      contentType: 'application/x-protobuf',
      body: Uint8Array.of(0xff),
    })
    expect(res.status).toBe(200)
    const reply = decodeEnvelope(res.body)
    expect(reply.ctor).toBe(C_Error)
    expect(rony.Error.decode(reply.message)).toMatchObject({ Code: 'E01', Items: 'ENVELOPE' })
  })

  it('reuses one keep-alive socket for consecutive requests', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const reused: boolean[] = []
      for (let i = 0; i < 3; i++) {
        const res = await request(url, {
          contentType: 'application/x-protobuf',
          body: echoEnvelope(`k${i}`),
          agent,
        })
        expect(res.status).toBe(200)
        reused.push(res.reusedSocket)
      }
      expect(reused).toEqual([false, true, true])
    } finally {
      agent.destroy()
    }
  })

  it('413 with a clear JSON error for a body over bodyLimit; the edge never sees it', async () => {
    const big = await request(url, {
      contentType: 'application/x-protobuf',
      body: new Uint8Array(LIMIT + 1),
    })
    expect(big.status).toBe(413)
    expect(JSON.parse(big.body.toString())).toMatchObject({ code: 'E01', items: 'BODY' })
    expect(JSON.parse(big.body.toString()).description).toContain(`${LIMIT} bytes`)
  })

  it('415 for an unsupported content type', async () => {
    const res = await request(url, { contentType: 'text/plain', body: 'hello' })
    expect(res.status).toBe(415)
    expect(res.headers['content-type']).toContain('application/json')
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'E01', items: 'CONTENT_TYPE' })
  })

  it('405 with Allow: POST for other methods on the RPC path', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await request(url, { method })
      expect(res.status).toBe(405)
      expect(res.headers.allow).toBe('POST')
      expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'E01', items: 'METHOD' })
    }
  })

  it('404 with a JSON error for an unknown route', async () => {
    const res = await requestJson(`${url}/nope?x=1`, { method: 'GET' })
    expect(res.status).toBe(404)
    expect(res.json).toEqual({ code: 'E01', items: 'ROUTE', description: 'no route GET /rpc/nope' })
    expect((await request(`${url.replace('/rpc', '')}/elsewhere`, { method: 'POST' })).status).toBe(
      404,
    )
  })

  it.skipIf(!curl)('answers a real curl run with a binary envelope', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rony-http-'))
    try {
      const file = join(dir, 'req.bin')
      writeFileSync(file, echoEnvelope('from curl', 99n))
      const { stdout } = await promisify(execFile)(
        curl!,
        [
          '-sS',
          '--max-time',
          '10',
          '-H',
          'content-type: application/x-protobuf',
          '--data-binary',
          `@${file}`,
          url,
        ],
        { encoding: 'buffer' },
      )
      const reply = decodeEnvelope(stdout)
      expect(reply.requestId).toBe(99n)
      expect(EchoReply.decode(reply.message).Text).toBe('from curl')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
