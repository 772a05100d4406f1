import { defineConfig } from 'tsup'
import base from '../../tsup.base.ts'

/**
 * The shared build with two entries: `index` (everything) and `sim` (the memory network,
 * clocks and random sources only, free of Node built-ins for browsers). Code they share is
 * split into a common chunk, so both entries see the same classes.
 */
export default defineConfig({
  ...(base as object),
  entry: { index: 'src/index.ts', sim: 'src/sim.ts' },
})
