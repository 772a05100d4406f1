import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import { createEdge, type Edge, type HandleOptions } from '@rony/edge'
import { RonyError } from '@rony/envelope'
import { Echo, EchoReply, Fail, startTestEdge } from '@rony/testing'
import { describe, expect, it } from 'vitest'
import { httpGateway } from '../src/index.js'
import { request, requestJson } from './helpers.js'

const curl = ['/usr/bin/curl', '/usr/local/bin/curl'].find((p) => existsSync(p))

describe('@rony/client over http:// against the edge', () => {
  it('request() works as over WebSocket; errors keep their wire code', async () => {
    const t = await startTestEdge({ gateways: [httpGateway({ port: 0, prefix: '/rpc' })] })
    try {
      const client = t.client({ reconnect: false })
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          client.request(Echo.create({ Text: `n${i}` }), EchoReply),
        ),
      )
      expect(replies.map((r) => r.Text)).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`))
      const error = await client
        .request(Fail.create({ Code: 'E07', Items: 'USER' }))
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(RonyError)
      expect(error).toMatchObject({ wireCode: 'E07', items: 'USER', status: 403 })
    } finally {
      await t.stop()
    }
  })
})

const echoRest: HandleOptions = { rest: { method: 'GET', path: '/echo/:Text' } }
const failRest: HandleOptions = { rest: { method: 'POST', path: '/fail' } }

describe('JSON envelopes and REST routes through the real edge', () => {
  async function startEdge(): Promise<{ edge: Edge; url: string }> {
    const edge = createEdge({ id: 'json', gateways: [httpGateway({ port: 0, prefix: '/api' })] })
    edge.handle(Echo, (req) => EchoReply.create({ Text: req.Text }), echoRest)
    edge.handle(
      Fail,
      (req) => {
        throw new RonyError(req.Code, req.Items || 'TEST', 'failed on request')
      },
      failRest,
    )
    await edge.start()
    return { edge, url: edge.addresses()[0]! }
  }

  it('answers a JSON envelope with a JSON envelope (what curl sends)', async () => {
    const { edge, url } = await startEdge()
    try {
      const res = await requestJson(url, {
        body: { requestId: '12', header: { k: 'v' }, cmd: 'Echo', message: { Text: 'json' } },
      })
      expect(res.status).toBe(200)
      expect(res.json).toMatchObject({
        requestId: 12,
        cmd: 'EchoReply',
        message: { Text: 'json' },
      })
      const unknown = await requestJson(url, {
        body: { requestId: '13', cmd: 'Nope', message: {} },
      })
      expect(unknown.json).toMatchObject({
        requestId: 13,
        cmd: 'Error',
        message: { Code: 'E01' },
      })
    } finally {
      await edge.stop({ timeout: 1_000 })
    }
  })

  it('serves REST routes: path params in, reply message out, errors as statuses', async () => {
    const { edge, url } = await startEdge()
    try {
      expect(await requestJson(`${url}/echo/hello`, { method: 'GET' })).toMatchObject({
        status: 200,
        json: { Text: 'hello' },
      })
      for (const [code, status] of [
        ['E01', 400],
        ['E07', 403],
        ['E02', 503],
        ['E06', 504],
        ['E13', 501],
        ['E00', 500],
      ] as const) {
        const res = await requestJson(`${url}/fail`, { body: { Code: code } })
        expect([code, res.status]).toEqual([code, status])
        expect(res.json).toMatchObject({ Code: code, Items: 'TEST' })
      }
      const raw = await request(`${url}/echo/x`, { method: 'GET' })
      expect(raw.headers['content-type']).toContain('application/json')
      if (curl) {
        const { stdout } = await promisify(execFile)(curl, [
          '-sS',
          '--max-time',
          '10',
          '-H',
          'content-type: application/json',
          '-d',
          '{"requestId":"1","cmd":"Echo","message":{"Text":"curl"}}',
          url,
        ])
        expect(JSON.parse(stdout)).toMatchObject({ cmd: 'EchoReply', message: { Text: 'curl' } })
      }
    } finally {
      await edge.stop({ timeout: 1_000 })
    }
  })
})
