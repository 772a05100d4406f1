import { defineConfig } from 'tsup'
import base from '../../tsup.base.ts'

/**
 * The shared build, plus the two targets of the `#quic-dialer` import (package.json
 * `imports`): `quic-dialer.js` (libp2p, Node) and `quic-unsupported.js` (browsers). Both
 * stay separate files that `index.js` loads lazily, never inlined into it.
 */
export default defineConfig({
  ...(base as object),
  entry: {
    index: 'src/index.ts',
    'quic-dialer': 'src/transport/quic-dialer.ts',
    'quic-unsupported': 'src/transport/quic-unsupported.ts',
  },
  dts: { entry: { index: 'src/index.ts' } },
  external: ['#quic-dialer'],
})
