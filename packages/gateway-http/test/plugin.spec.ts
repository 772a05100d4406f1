import { createEdge } from '@rony/edge'
import { constructorOf, decodeEnvelope, encodeEnvelope } from '@rony/envelope'
import { Echo, EchoReply, registerTestServices } from '@rony/testing'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { httpGateway } from '../src/index.js'
import { request, requestJson } from './helpers.js'

const C_Echo = constructorOf('Echo')
const echo = (text: string): Uint8Array =>
  encodeEnvelope({ ctor: C_Echo, requestId: 5n, message: Echo.encode({ Text: text }).finish() })

describe('httpGateway({ fastify }) mounted in an app', () => {
  it('serves next to the app’s own routes without leaking its parsers or 404 handler', async () => {
    const app = Fastify()
    app.get('/health', async () => ({ ok: true }))
    app.post('/own', async (req) => ({ got: req.body }))
    const gateway = httpGateway({
      fastify: app,
      prefix: '/api',
      cors: { origin: 'https://example.com' },
    })
    const edge = createEdge({ id: 'plugin', gateways: [gateway] })
    registerTestServices(edge)
    await edge.start()
    expect(gateway.addresses()).toEqual([]) // the app does not listen yet
    await app.listen({ host: '127.0.0.1', port: 0 })
    try {
      const url = gateway.addresses()[0]!
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/)
      const base = url.slice(0, -'/api'.length)

      const rpc = await request(url, {
        contentType: 'application/x-protobuf',
        body: echo('mounted'),
      })
      expect(EchoReply.decode(decodeEnvelope(rpc.body).message).Text).toBe('mounted')
      expect(rpc.headers['access-control-allow-origin']).toBe('https://example.com')

      // The app's routes, its JSON parser and its own 404 are untouched.
      expect((await requestJson(`${base}/health`, { method: 'GET' })).json).toEqual({ ok: true })
      expect((await requestJson(`${base}/own`, { body: { a: 1 } })).json).toEqual({ got: { a: 1 } })
      expect(
        (await request(`${base}/own`, { contentType: 'application/x-protobuf', body: 'x' })).status,
      ).toBe(415)
      expect(await requestJson(`${base}/missing`, { method: 'GET' })).toMatchObject({
        status: 404,
        json: { error: 'Not Found' },
      })
      // Under the prefix the gateway answers 404 itself, and 405 on its endpoint for any method.
      expect(await requestJson(`${url}/missing`, { method: 'GET' })).toMatchObject({
        status: 404,
        json: { Code: 'E01', Items: 'ROUTE' },
      })
      for (const method of ['PUT', 'PROPFIND', 'TRACE']) {
        const res = await requestJson(url, { method })
        expect([res.status, res.headers.allow, res.json], method).toEqual([
          405,
          'POST',
          expect.objectContaining({ Code: 'E01', Items: 'METHOD' }),
        ])
      }
      // The gateway's error handler answers its routes only; the app's stays the app's.
      const tooBig = await request(url, { body: new Uint8Array(2 * 1024 * 1024) })
      expect(JSON.parse(tooBig.body.toString())).toMatchObject({ Code: 'E01', Items: 'BODY' })
      const appError = await request(`${base}/own`, { contentType: 'application/json', body: '{' })
      expect(appError.status).toBe(400)
      expect(JSON.parse(appError.body.toString())).toMatchObject({ statusCode: 400 })
      expect(
        (await request(`${base}/health`, { method: 'GET' })).headers['access-control-allow-origin'],
      ).toBeUndefined()

      const preflight = await request(url, {
        method: 'OPTIONS',
        headers: { origin: 'https://example.com', 'access-control-request-method': 'POST' },
      })
      expect(preflight.status).toBe(204)
      expect(preflight.headers['access-control-allow-origin']).toBe('https://example.com')
    } finally {
      await app.close() // stops the gateway too (preClose)
    }
    expect(gateway.addresses()).toEqual([])
    await edge.stop({ timeout: 1_000 })
  })

  it('fails the app’s boot with a clear error when the edge did not start first', async () => {
    const app = Fastify()
    httpGateway({ fastify: app })
    await expect(app.ready()).rejects.toMatchObject({ code: 'RONY_ERR_NOT_ATTACHED' })
    await app.close().catch(() => {})
  })

  it('rejects host, port and tls next to fastify', () => {
    expect(() => httpGateway({ fastify: Fastify(), port: 1 })).toThrow(/excludes host, port/)
  })
})
