import { defineConfig } from 'tsup'

/** The build every published package shares: ESM + bundled .d.ts from src/index.ts. */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  // Browsers load @rony/envelope and @rony/client too: target the language, not Node.
  target: 'es2023',
  platform: 'neutral',
  dts: true,
  sourcemap: true,
  clean: true,
})
