import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import * as net from 'node:net'
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

/** Writes `head` on a fresh socket and returns everything the server sends until it closes. */
async function rawExchange(port: number, head: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1')
  let text = ''
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1')
  })
  socket.write(head)
  await new Promise((resolve) => {
    socket.on('close', resolve)
    socket.on('error', resolve)
    // A keep-alive answer leaves the socket open: end once a whole response arrived.
    socket.on('data', () => {
      const end = text.indexOf('\r\n\r\n')
      const length = /content-length: (\d+)/i.exec(text)
      if (end !== -1 && length && text.length >= end + 4 + Number(length[1])) socket.destroy()
    })
  })
  return text
}

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

  // Plain requests take the gateway's fast path; these variants go through Fastify's parser.
  it.each([
    ['a chunked body', { 'transfer-encoding': 'chunked' }, 'application/x-protobuf'],
    ['a content type in capitals', {}, 'Application/X-Protobuf'],
    ['a content type with parameters', {}, 'application/x-protobuf; proto=rony.Envelope'],
  ])('answers %s the same way', async (_what, headers, contentType) => {
    const res = await request(url, { contentType, headers, body: echoEnvelope('variant') })
    expect(res.status).toBe(200)
    expect(EchoReply.decode(decodeEnvelope(res.body).message).Text).toBe('variant')
  })

  // What the Go framework's client sends: a binary envelope without Content-Type, or as
  // application/octet-stream; on the fast path and (chunked) through Fastify's parser.
  it.each([
    ['no content type', undefined, {}],
    ['no content type, chunked', undefined, { 'transfer-encoding': 'chunked' }],
    ['application/octet-stream', 'application/octet-stream', {}],
    [
      'application/octet-stream, chunked',
      'application/octet-stream',
      { 'transfer-encoding': 'chunked' },
    ],
  ])('serves a binary envelope with %s (the Go client)', async (_what, contentType, headers) => {
    const res = await request(url, {
      ...(contentType === undefined ? {} : { contentType }),
      headers,
      body: echoEnvelope('go', 2n ** 64n - 1n),
    })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/x-protobuf')
    const reply = decodeEnvelope(res.body)
    expect([reply.ctor, reply.requestId]).toEqual([C_EchoReply, 2n ** 64n - 1n])
    expect(EchoReply.decode(reply.message).Text).toBe('go')
  })

  it('takes a POST without body or Content-Type as an empty binary envelope', async () => {
    const res = await request(url, {})
    expect([res.status, res.headers['content-type']]).toEqual([200, 'application/x-protobuf'])
    const reply = decodeEnvelope(res.body)
    expect(reply.ctor).toBe(C_Error)
    expect(rony.Error.decode(reply.message)).toMatchObject({ Code: 'E01', Items: 'HANDLER' })
  })

  it('answers a body that arrives after the headers, in pieces', async () => {
    const { port } = new URL(url)
    const socket = net.connect(Number(port), '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    const body = echoEnvelope('late')
    const answer = new Promise<string>((resolve) => {
      let text = ''
      socket.on('data', (chunk) => {
        text += chunk.toString('latin1')
        if (text.includes('late')) resolve(text)
      })
    })
    socket.write(
      'POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n' +
        `Content-Length: ${body.length}\r\n\r\n`,
    )
    for (const piece of [body.subarray(0, 3), body.subarray(3)]) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      socket.write(piece)
    }
    expect(await answer).toMatch(/^HTTP\/1\.1 200 /)
    socket.destroy()
  })

  it('drops a request whose body is cut off, and serves the next one', async () => {
    const { port } = new URL(url)
    const socket = net.connect(Number(port), '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write(
      'POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n' +
        'Content-Length: 100\r\n\r\n',
    )
    socket.write(echoEnvelope('cut').subarray(0, 5))
    await new Promise((resolve) => setTimeout(resolve, 20))
    socket.destroy()
    const res = await request(url, {
      contentType: 'application/x-protobuf',
      body: echoEnvelope('next'),
    })
    expect(EchoReply.decode(decodeEnvelope(res.body).message).Text).toBe('next')
  })

  it('413 with a clear JSON error for a body over bodyLimit; the edge never sees it', async () => {
    const big = await request(url, {
      contentType: 'application/x-protobuf',
      body: new Uint8Array(LIMIT + 1),
    })
    expect(big.status).toBe(413)
    expect(JSON.parse(big.body.toString())).toMatchObject({ Code: 'E01', Items: 'BODY' })
    expect(JSON.parse(big.body.toString()).Description).toContain(`${LIMIT} bytes`)
  })

  it('415 for an unsupported content type, with the Error shape', async () => {
    for (const [contentType, headers] of [
      ['text/plain', {}],
      ['application/xml', { 'transfer-encoding': 'chunked' }],
      ['application/json-seq', {}],
    ] as const) {
      const res = await request(url, { contentType, headers, body: 'hello' })
      expect(res.status, contentType).toBe(415)
      expect(res.headers['content-type']).toContain('application/json')
      expect(JSON.parse(res.body.toString())).toEqual({
        Code: 'E01',
        Items: 'CONTENT_TYPE',
        Description: expect.stringContaining('application/octet-stream'),
      })
    }
  })

  it('405 with Allow: POST for every other method on the RPC path (PROPFIND, TRACE, …)', async () => {
    for (const method of [
      'GET',
      'PUT',
      'DELETE',
      'PATCH',
      'OPTIONS',
      'PROPFIND',
      'TRACE',
      'MKCOL',
    ]) {
      const res = await request(url, { method })
      expect(res.status, method).toBe(405)
      expect(res.headers.allow).toBe('POST')
      expect(JSON.parse(res.body.toString())).toEqual({
        Code: 'E01',
        Items: 'METHOD',
        Description: `${method} is not allowed here: POST an envelope`,
      })
    }
    const head = await request(url, { method: 'HEAD' })
    expect([head.status, head.headers.allow]).toEqual([405, 'POST'])
  })

  it("answers Fastify's own errors with the Error shape", async () => {
    // A Content-Type Fastify cannot parse, a bad Content-Length, a malformed URL.
    const badType = await request(url, { contentType: 'nonsense', body: '{}' })
    expect(badType.status).toBe(415)
    expect(JSON.parse(badType.body.toString())).toMatchObject({
      Code: 'E01',
      Items: 'CONTENT_TYPE',
    })
    const { port } = new URL(url)
    for (const [head, status] of [
      [
        'POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
        400,
      ],
      ['GET /rpc/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ] as const) {
      const answer = await rawExchange(Number(port), head)
      expect(answer, head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `))
      const body = answer.slice(answer.indexOf('\r\n\r\n') + 4)
      expect(JSON.parse(body), head).toMatchObject({ Code: 'E01', Items: 'REQUEST' })
    }
  })

  it('404 with a JSON error for an unknown route, under the prefix and outside it', async () => {
    const res = await requestJson(`${url}/nope?x=1`, { method: 'GET' })
    expect(res.status).toBe(404)
    expect(res.json).toEqual({ Code: 'E01', Items: 'ROUTE', Description: 'no route GET /rpc/nope' })
    const outside = await requestJson(`${url.replace('/rpc', '')}/elsewhere`, { method: 'POST' })
    expect(outside).toMatchObject({
      status: 404,
      json: { Code: 'E01', Items: 'ROUTE', Description: 'no route POST /elsewhere' },
    })
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

describe('standalone options that change the server', () => {
  const fixture = (name: string): string =>
    readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

  async function startEdge(options: Parameters<typeof httpGateway>[0]): Promise<Edge> {
    const edge = createEdge({ id: 'opts', gateways: [httpGateway({ port: 0, ...options })] })
    registerTestServices(edge)
    await edge.start()
    return edge
  }

  it('serves https:// with the given certificate', async () => {
    const cert = fixture('cert.pem')
    const edge = await startEdge({ tls: { key: fixture('key.pem'), cert } })
    try {
      const url = edge.addresses()[0]!
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/)
      const body = echoEnvelope('tls')
      const res = await new Promise<Buffer>((resolve, reject) => {
        const req = https.request(url, {
          method: 'POST',
          ca: cert,
          headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
        })
        req.on('error', reject)
        req.on('response', (r) => {
          const chunks: Buffer[] = []
          r.on('data', (c: Buffer) => chunks.push(c))
          r.on('end', () => resolve(Buffer.concat(chunks)))
        })
        req.end(body)
      })
      expect(EchoReply.decode(decodeEnvelope(res).message).Text).toBe('tls')
    } finally {
      await edge.stop({ timeout: 1_000 })
    }
  })

  it('adds the CORS headers to RPC answers when cors is on', async () => {
    const edge = await startEdge({ cors: { origin: 'https://app.example' } })
    try {
      const res = await request(edge.addresses()[0]!, {
        contentType: 'application/x-protobuf',
        headers: { origin: 'https://app.example' },
        body: echoEnvelope('cors'),
      })
      expect(res.status).toBe(200)
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example')
      expect(EchoReply.decode(decodeEnvelope(res.body).message).Text).toBe('cors')
    } finally {
      await edge.stop({ timeout: 1_000 })
    }
  })
})
