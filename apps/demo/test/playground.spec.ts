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
    // The client's QUIC dialer as browsers get it: the stub, no libp2p.
    expect(script).toContain('only available in Node')
    expect(script).not.toMatch(/createLibp2p|dialProtocol/)
    expect((await fetch(new URL('/missing', playground.url))).status).toBe(404)
  })

  it('answers EchoRequest with the same handler over ws, http and quic', async () => {
    const addresses = {
      ws: playground.rpcUrl,
      http: playground.httpUrl,
      quic: playground.quicAddress,
    }
    for (const [gateway, address] of Object.entries(addresses)) {
      const client = createClient(address)
      try {
        const reply = await client.request(
          demo.EchoRequest.create({ Text: `hi ${gateway}` }),
          demo.EchoResponse,
        )
        expect([reply.Text, reply.ServerID]).toEqual([`hi ${gateway}`, `test-edge via ${gateway}`])
        expect(Number(reply.ServedAt)).toBeGreaterThan(Date.UTC(2020, 0))
      } finally {
        await client.close()
      }
    }
  })

  it('answers the curl lines main.ts prints: REST and a JSON envelope', async () => {
    const rest = await fetch(new URL('echo/hi%20there', playground.httpUrl))
    expect(rest.status).toBe(200)
    expect(await rest.json()).toMatchObject({ Text: 'hi there', ServerID: 'test-edge via http' })
    const json = await fetch(playground.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requestId: '1', cmd: 'EchoRequest', message: { Text: 'hi' } }),
    })
    expect(await json.json()).toMatchObject({
      requestId: 1, // a JSON number, as the Go framework writes it
      cmd: 'EchoResponse',
      message: { Text: 'hi', ServerID: 'test-edge via http' },
    })
  })
})
