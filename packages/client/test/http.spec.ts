import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeEnvelope, encodeEnvelope, RonyError } from '@rony/envelope'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Client, createClient } from '../src/index.js'
import { C_EchoResponse, EchoRequest, EchoResponse } from './helpers/server.js'

// The HTTP transport against a plain node:http server that plays the gateway: each POST
// carries one envelope; the script decides the answer. (Against the real edge and
// @rony/gateway-http: packages/gateway-http/test/client.spec.ts.)

type Script = (body: Buffer, req: http.IncomingMessage, res: http.ServerResponse) => void

const echo: Script = (body, _req, res) => {
  const request = decodeEnvelope(body)
  const { text } = EchoRequest.decode(request.message) as unknown as { text: string }
  res.writeHead(200, { 'content-type': 'application/x-protobuf' })
  res.end(
    encodeEnvelope({
      ctor: C_EchoResponse,
      requestId: request.requestId,
      message: EchoResponse.encode({ text }).finish(),
    }),
  )
}

let server: http.Server
let url: string
let script: Script
let posts: Array<{ headers: http.IncomingHttpHeaders; method: string | undefined }>
let client: Client | undefined

beforeEach(async () => {
  script = echo
  posts = []
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      posts.push({ headers: req.headers, method: req.method })
      script(Buffer.concat(chunks), req, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rpc`
})

afterEach(async () => {
  await client?.close()
  client = undefined
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe('http:// transport', () => {
  it('POSTs each request as application/x-protobuf and resolves with the reply', async () => {
    client = createClient(url, { reconnect: false })
    const replies = await Promise.all(
      ['a', 'b', 'c'].map((text) => client!.request(EchoRequest.create({ text }), EchoResponse)),
    )
    expect(replies.map((r) => (r as unknown as { text: string }).text)).toEqual(['a', 'b', 'c'])
    expect(posts).toHaveLength(3)
    expect(posts[0]).toMatchObject({
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
    })
  })

  it('never pings: only requests are posted', async () => {
    client = createClient(url, { keepalive: 10 })
    await client.connect()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(posts).toHaveLength(0)
  })

  it('rejects with the gateway’s JSON error, keeping its code', async () => {
    script = (_body, _req, res) => {
      res.writeHead(413, { 'content-type': 'application/json' })
      res.end('{"code":"E01","items":"BODY","description":"too big"}')
    }
    client = createClient(url, { reconnect: false })
    const error = await client.request(EchoRequest.create({ text: 'x' })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RonyError)
    expect(error).toMatchObject({ wireCode: 'E01', items: 'BODY', description: 'too big' })
  })

  it('maps bare statuses to wire codes (504 → E06, 503 → E02, 500 → E00)', async () => {
    for (const [status, wireCode] of [
      [504, 'E06'],
      [503, 'E02'],
      [500, 'E00'],
    ] as const) {
      script = (_body, _req, res) => {
        res.writeHead(status, { 'content-type': 'text/plain' })
        res.end('no')
      }
      const c = createClient(url, { reconnect: false })
      await expect(c.request(EchoRequest.create({ text: 'x' }))).rejects.toMatchObject({ wireCode })
      await c.close()
    }
  })

  it('rejects with E02 CONNECTION when nothing listens', async () => {
    const port = (server.address() as AddressInfo).port
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    server = http.createServer()
    client = createClient(`http://127.0.0.1:${port}/`, { reconnect: false })
    await expect(client.request(EchoRequest.create({ text: 'x' }))).rejects.toMatchObject({
      wireCode: 'E02',
      items: 'CONNECTION',
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })

  it('aborts the POST of a request that timed out or was aborted; the client goes on', async () => {
    // Counted per socket: an aborted POST closes its connection, even one the server has
    // not read yet (a loaded machine may take longer than the timeout to get there).
    let closed = 0
    server.on('connection', (socket) => socket.on('close', () => closed++))
    script = (body, req, res) => {
      const { text } = EchoRequest.decode(decodeEnvelope(body).message) as unknown as {
        text: string
      }
      if (text !== 'hang') echo(body, req, res)
    }
    client = createClient(url, { reconnect: false })
    const hang = EchoRequest.create({ text: 'hang' })
    await expect(client.request(hang, EchoResponse, { timeout: 50 })).rejects.toMatchObject({
      code: 'RONY_ERR_TIMEOUT',
    })
    await expect.poll(() => closed, { timeout: 5_000 }).toBeGreaterThan(0)
    const before = closed
    const controller = new AbortController()
    const aborted = client.request(hang, EchoResponse, { signal: controller.signal })
    await expect.poll(() => posts.length, { timeout: 5_000 }).toBeGreaterThan(0)
    controller.abort()
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' })
    await expect.poll(() => closed, { timeout: 5_000 }).toBeGreaterThan(before)
    const reply = await client.request(EchoRequest.create({ text: 'ok' }), EchoResponse)
    expect(reply.text).toBe('ok')
  })

  it('close() aborts the POSTs in flight', async () => {
    let closed = 0
    server.on('connection', (socket) => socket.on('close', () => closed++))
    script = () => {} // never answers
    client = createClient(url, { reconnect: false })
    const pending = client.request(EchoRequest.create({ text: 'x' }), EchoResponse, {
      timeout: 30_000,
    })
    await expect.poll(() => posts.length, { timeout: 5_000 }).toBe(1)
    await client.close()
    await expect(pending).rejects.toMatchObject({ code: 'RONY_ERR_CLIENT_CLOSED' })
    await expect.poll(() => closed, { timeout: 5_000 }).toBeGreaterThan(0)
  })
})
