import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Tests run on sources: `@rony/<pkg>` resolves to packages/<pkg>/src, so no build is needed.
const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url))
const alias = Object.fromEntries(
  readdirSync(packagesDir).map((name) => [`@rony/${name}`, `${packagesDir}${name}/src/index.ts`]),
)
// Package-internal `imports` that point at dist/ in package.json: the sources in tests.
alias['#quic-dialer'] = `${packagesDir}client/src/transport/quic-dialer.ts`

export default defineConfig({
  resolve: { alias },
  test: {
    include: [
      'packages/*/test/**/*.spec.ts',
      'apps/*/test/**/*.spec.ts',
      'bench/test/**/*.spec.ts',
      'scripts/test/**/*.spec.ts',
    ],
    testTimeout: 20_000,
  },
})
