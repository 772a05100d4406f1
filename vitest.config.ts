import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Tests run on sources, so no build is needed: `@rony/<pkg>` resolves to
// packages/<pkg>/src/index.ts, and a subpath export `@rony/<pkg>/<sub>` (such as
// `@rony/testing/startable`) to packages/<pkg>/src/<sub>/index.ts, the layout every
// package's tsup entries follow.
const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url))
const names = readdirSync(packagesDir).join('|')
const alias = [
  { find: new RegExp(`^@rony/(${names})$`), replacement: `${packagesDir}$1/src/index.ts` },
  {
    find: new RegExp(`^@rony/(${names})/([\\w-]+)$`),
    replacement: `${packagesDir}$1/src/$2/index.ts`,
  },
  // Package-internal `imports` that point at dist/ in package.json: the sources in tests.
  { find: '#quic-dialer', replacement: `${packagesDir}client/src/transport/quic-dialer.ts` },
]

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
