import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { C_Error, decodeEnvelope, encodeEnvelope, RonyError, rony } from '@rony/envelope'
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
    const error = (await client
      .request(EchoRequest.create({ text: 'x' }))
      .catch((e: unknown) => e)) as RonyError
    // The code a dropped WebSocket gives: the request may or may not have run.
    expect(error).toMatchObject({
      wireCode: 'E02',
      items: 'CONNECTION',
      code: 'RONY_ERR_CONNECTION_LOST',
    })
    expect(error.cause).toBeInstanceOf(TypeError) // fetch's own error
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

/** A second server on another port of 127.0.0.1: another origin. */
async function otherOrigin(): Promise<{
  url: string
  posts: http.IncomingHttpHeaders[]
  bodies: Buffer[]
  close(): Promise<void>
}> {
  const posts: http.IncomingHttpHeaders[] = []
  const bodies: Buffer[] = []
  const other = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      posts.push(req.headers)
      bodies.push(Buffer.concat(chunks))
      echo(Buffer.concat(chunks), req, res)
    })
  })
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(other.address() as AddressInfo).port}/rpc`,
    posts,
    bodies,
    close: () => {
      other.closeAllConnections()
      return new Promise((resolve) => other.close(() => resolve()))
    },
  }
}

const redirectTo =
  (location: string, status = 307): Script =>
  (_body, _req, res) => {
    res.writeHead(status, { location })
    res.end()
  }

describe('redirects', () => {
  it('never re-POSTs the envelope (and its auth) to another origin: RONY_ERR_REDIRECT', async () => {
    const other = await otherOrigin()
    try {
      for (const status of [307, 308]) {
        script = redirectTo(other.url, status)
        client = createClient(url, { reconnect: false, auth: 'secret-token' })
        const error = await client
          .request(EchoRequest.create({ text: 'x' }), EchoResponse, { timeout: 60_000 })
          .catch((e) => e)
        expect(error).toBeInstanceOf(RonyError)
        expect(error).toMatchObject({ code: 'RONY_ERR_REDIRECT', items: 'REDIRECT' })
        expect(error.message).toContain(other.url)
        await client.close()
        client = undefined
      }
      expect(other.posts).toEqual([])
      expect(Buffer.concat(other.bodies).includes('secret-token')).toBe(false)
    } finally {
      await other.close()
    }
  })

  it('follows a 307/308 to the same origin, keeping the POST and its body', async () => {
    script = (body, req, res) => {
      if (req.url === '/rpc') redirectTo('/moved', 308)(body, req, res)
      else echo(body, req, res)
    }
    client = createClient(url, { reconnect: false })
    const reply = await client.request(EchoRequest.create({ text: 'moved' }), EchoResponse)
    expect((reply as unknown as { text: string }).text).toBe('moved')
    expect(posts.map((post) => post.method)).toEqual(['POST', 'POST'])
  })

  it('refuses a 301/302/303 (they turn a POST into a GET) and a redirect loop', async () => {
    for (const status of [301, 302, 303]) {
      script = redirectTo('/elsewhere', status)
      const c = createClient(url, { reconnect: false })
      await expect(c.request(EchoRequest.create({ text: 'x' }))).rejects.toMatchObject({
        code: 'RONY_ERR_REDIRECT',
      })
      await c.close()
    }
    posts = []
    script = redirectTo('/rpc', 307) // to itself, for ever
    client = createClient(url, { reconnect: false })
    await expect(client.request(EchoRequest.create({ text: 'x' }))).rejects.toMatchObject({
      code: 'RONY_ERR_REDIRECT',
      message: expect.stringMatching(/more than 5 redirects/),
    })
    expect(posts).toHaveLength(6)
  })

  it('in a browser (an opaque manual redirect, target unknown) refuses every redirect', async () => {
    const original = globalThis.fetch
    let calls = 0
    globalThis.fetch = (async () => {
      calls++
      // What a browser's fetch gives for redirect: 'manual'.
      return { type: 'opaqueredirect', status: 0, headers: new Headers(), body: null }
    }) as unknown as typeof fetch
    try {
      client = createClient(url, { reconnect: false })
      await expect(
        client.request(EchoRequest.create({ text: 'x' }), EchoResponse, { timeout: 60_000 }),
      ).rejects.toMatchObject({ code: 'RONY_ERR_REDIRECT' })
      expect(calls).toBe(1)
    } finally {
      globalThis.fetch = original
    }
  })
})

describe('responses that cannot be the reply fail at once', () => {
  const reply = (contentType: string | undefined, body: Uint8Array | string): Script => {
    return (_body, _req, res) => {
      res.writeHead(200, contentType === undefined ? {} : { 'content-type': contentType })
      res.end(body)
    }
  }
  /** A request with a long timeout: a rejection comes from the response, not the clock. */
  const ask = (c: Client) =>
    c.request(EchoRequest.create({ text: 'x' }), EchoResponse, { timeout: 60_000 }).catch((e) => e)

  it('an undecodable body: RONY_ERR_INVALID_ENVELOPE', async () => {
    script = reply('application/x-protobuf', Uint8Array.of(0xff, 0xff, 0xff))
    client = createClient(url, { reconnect: false })
    expect(await ask(client)).toMatchObject({ code: 'RONY_ERR_INVALID_ENVELOPE' })
  })

  it('a body over limits.maxEnvelopeBytes, declared or streamed: RONY_ERR_ENVELOPE_TOO_LARGE', async () => {
    const big = new Uint8Array(4096)
    script = reply('application/x-protobuf', big)
    client = createClient(url, { reconnect: false, limits: { maxEnvelopeBytes: 1024 } })
    expect(await ask(client)).toMatchObject({ code: 'RONY_ERR_ENVELOPE_TOO_LARGE' })
    script = (_body, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }) // chunked: no length
      for (let i = 0; i < 8; i++) res.write(big)
      res.end()
    }
    expect(await ask(client)).toMatchObject({ code: 'RONY_ERR_ENVELOPE_TOO_LARGE' })
    // A small gzip body that fetch inflates past the limit: its Content-Length says nothing.
    const bomb = gzipSync(new Uint8Array(64 * 1024)) // ~100 bytes on the wire
    script = (_body, _req, res) => {
      res.writeHead(200, {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'gzip',
        'content-length': String(bomb.length),
      })
      res.end(bomb)
    }
    // Refused while reading (the transport's error), not after inflating it all (the decoder's).
    const inflated = await ask(client)
    expect(inflated).toMatchObject({ code: 'RONY_ERR_ENVELOPE_TOO_LARGE' })
    expect(inflated.message).toMatch(/the response body is more than 1024 bytes/)
  })

  it('a content type that is not binary protobuf: RONY_ERR_UNEXPECTED_RESPONSE naming it', async () => {
    script = reply('text/html; charset=utf-8', '<html>captive portal</html>')
    client = createClient(url, { reconnect: false })
    const error = await ask(client)
    expect(error).toMatchObject({ code: 'RONY_ERR_UNEXPECTED_RESPONSE' })
    expect(error.message).toContain('text/html')
  })

  it('a reply to another request: RONY_ERR_UNEXPECTED_RESPONSE', async () => {
    script = (body, req, res) => {
      const request = decodeEnvelope(body)
      echo(Buffer.from(encodeEnvelope({ ...request, requestId: request.requestId + 1n })), req, res)
    }
    client = createClient(url, { reconnect: false })
    expect(await ask(client)).toMatchObject({ code: 'RONY_ERR_UNEXPECTED_RESPONSE' })
  })

  it('an Error under request id 0 (the edge could not read the request) is the answer', async () => {
    script = reply(
      'application/x-protobuf',
      encodeEnvelope({
        ctor: C_Error,
        requestId: 0n,
        message: rony.Error.encode({ Code: 'E01', Items: 'ENVELOPE', Description: 'bad' }).finish(),
      }),
    )
    client = createClient(url, { reconnect: false })
    expect(await ask(client)).toMatchObject({ wireCode: 'E01', items: 'ENVELOPE' })
  })

  it('a binary reply without a content type, or with text/plain (the Go edge’s), is read', async () => {
    for (const contentType of [
      undefined,
      'text/plain; charset=utf-8',
      'application/octet-stream',
    ]) {
      script = (body, _req, res) => {
        const request = decodeEnvelope(body)
        res.writeHead(200, contentType === undefined ? {} : { 'content-type': contentType })
        res.end(
          encodeEnvelope({
            ctor: C_EchoResponse,
            requestId: request.requestId,
            message: EchoResponse.encode({ text: 'go' }).finish(),
          }),
        )
      }
      const c = createClient(url, { reconnect: false })
      const answer = await c.request(EchoRequest.create({ text: 'x' }), EchoResponse)
      expect((answer as unknown as { text: string }).text).toBe('go')
      await c.close()
    }
  })
})
