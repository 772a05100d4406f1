import { createClient } from '@rony/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demo } from '../src/gen/echo.js'
import { type Playground, startPlayground } from '../src/playground.ts'

describe('playground server', () => {
  let playground: Playground

  beforeAll(async () => {
    playground = await startPlayground({ id: 'test-edge' })
  })

  afterAll(async () => {
    await playground.close()
  })

  it('serves the page and its bundled script', async () => {
    const page = await fetch(playground.url)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(await page.text()).toContain('<script type="module" src="/app.js">')
    const script = await (await fetch(new URL('/app.js', playground.url))).text()
    expect(script).toContain('EchoRequest')
    expect(script).not.toMatch(/from ["']node:/)
    expect((await fetch(new URL('/missing', playground.url))).status).toBe(404)
  })

  it('answers EchoRequest over WebSocket on /rpc', async () => {
    const client = createClient(playground.rpcUrl)
    try {
      const reply = await client.request(demo.EchoRequest.create({ Text: 'hi' }), demo.EchoResponse)
      expect([reply.Text, reply.ServerID]).toEqual(['hi', 'test-edge'])
      expect(Number(reply.ServedAt)).toBeGreaterThan(Date.UTC(2020, 0))
    } finally {
      await client.close()
    }
  })
})
