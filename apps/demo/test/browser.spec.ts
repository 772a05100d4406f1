import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Playground, startPlayground } from '../src/playground.ts'
import { chromiumAvailable, chromiumSkipReason, launchChromium } from './chromium.ts'

describe.skipIf(!chromiumAvailable)(
  `the client bundle in headless Chromium${chromiumSkipReason}`,
  () => {
    let playground: Playground
    let browser: Browser

    beforeAll(async () => {
      playground = await startPlayground({ id: 'browser-edge' })
      browser = await launchChromium()
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
      await page
        .locator('#log', { hasText: 'echo "second round trip" from browser-edge' })
        .waitFor()
      expect(await page.textContent('#status')).toBe('connected')
      expect(errors).toEqual([])
    }, 60_000)
  },
)
