import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, get, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pageHandler } from '../src/cluster/page.ts'

describe('pageHandler (the page on a node’s HTTP port)', () => {
  let dir: string
  let server: Server
  let origin: string
  const passed: string[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rony-page-'))
    mkdirSync(join(dir, 'public'))
    writeFileSync(join(dir, 'public', 'index.html'), '<h1>page</h1>')
    writeFileSync(join(dir, 'public', 'style.css'), 'body{}')
    writeFileSync(join(dir, 'public', '.secret.css'), 'no')
    writeFileSync(join(dir, 'secret.css'), 'no')
    writeFileSync(join(dir, 'page.js'), 'console.log(1)')
    const page = pageHandler(join(dir, 'public'), join(dir, 'page.js'))
    server = createServer((req, res) => {
      if (page(req, res)) return
      passed.push(`${req.method} ${req.url}`)
      res.writeHead(418).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  /** A GET of `path` as written (fetch would normalise the dots away). */
  const rawGet = (path: string): Promise<number | undefined> =>
    new Promise((resolve, reject) => {
      get(`${origin}/`, { path }, (res) => {
        res.resume()
        resolve(res.statusCode)
      }).on('error', reject)
    })

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    rmSync(dir, { recursive: true, force: true })
  })

  it('serves index.html at /, the bundled script at /page.js, and public files by name', async () => {
    const index = await fetch(`${origin}/`)
    expect([index.status, index.headers.get('content-type'), await index.text()]).toEqual([
      200,
      'text/html; charset=utf-8',
      '<h1>page</h1>',
    ])
    const script = await fetch(`${origin}/page.js?v=1`)
    expect([script.headers.get('content-type'), await script.text()]).toEqual([
      'text/javascript; charset=utf-8',
      'console.log(1)',
    ])
    expect(await (await fetch(`${origin}/style.css`)).text()).toBe('body{}')
    expect((await fetch(`${origin}/missing.css`)).status).toBe(404)
  })

  it('leaves everything else to the gateways: other methods, paths outside public/, dot files', async () => {
    expect((await fetch(`${origin}/`, { method: 'POST', body: 'x' })).status).toBe(418)
    expect((await fetch(`${origin}/ws`)).status).toBe(418)
    expect(await rawGet('/../secret.css')).toBe(418)
    expect(await rawGet('/..%2fsecret.css')).toBe(418)
    expect((await fetch(`${origin}/sub/style.css`)).status).toBe(418)
    expect((await fetch(`${origin}/.secret.css`)).status).toBe(418)
    expect(passed).toHaveLength(6)
  })
})
