import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Playground, startPlayground } from '../src/playground.ts'

// Debian's Chromium: `.ci/run` installs it. A developer machine without it skips this
// test by name; under CI a missing browser is a failure, never a skip.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const available = existsSync(CHROMIUM) || Boolean(process.env.CI)

describe.skipIf(!available)('the client bundle in headless Chromium', () => {
  let playground: Playground
  let browser: Browser

  beforeAll(async () => {
    playground = await startPlayground({ id: 'browser-edge' })
    // Playwright gives the browser a fresh, temporary profile.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await playground?.close()
  })

  it('completes requests against the local edge', async () => {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(playground.url)
    await page
      .locator('#log', { hasText: 'echo "hello from the browser" from browser-edge' })
      .waitFor()
    await page.fill('#text', 'second round trip')
    await page.click('button')
    await page.locator('#log', { hasText: 'echo "second round trip" from browser-edge' }).waitFor()
    expect(await page.textContent('#status')).toBe('connected')
    expect(errors).toEqual([])
  }, 60_000)
})
