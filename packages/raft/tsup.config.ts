import { defineConfig } from 'tsup'
import base from '../../tsup.base.ts'

/** Two entries: `index` (the node, storage, transports) and `testing` (the simulated disk). */
export default defineConfig({
  ...(base as object),
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
})
