// Debian's Chromium under playwright-core, for the browser tests. `.ci/run` installs it; a
// developer machine without it skips those tests by name, while under CI a missing browser
// is a failure, never a skip.
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Whether the browser tests run: Chromium is installed, or this is CI (where it must be). */
export const chromiumAvailable = existsSync(CHROMIUM) || Boolean(process.env.CI)

/** Appended to a browser test's name when it is skipped, so the reason shows in the report. */
export const chromiumSkipReason = chromiumAvailable ? '' : ` (skipped: no Chromium at ${CHROMIUM})`

/** Headless Chromium with a fresh, temporary profile (Playwright's), quiet on the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
}
