import { defineConfig } from 'tsup'
import base from '../../tsup.base.ts'

/**
 * One entry per subpath: the root (gateway suite and edge helpers) and the narrow suites
 * (`startable`, `transport`, `storage`) that depend on `@rony/interface` and vitest only, so
 * a transport or a storage can run them without pulling in the edge and the client; and the
 * linearizability checker (`linearizability`), which depends on nothing.
 */
export default defineConfig({
  ...(base as object),
  entry: {
    index: 'src/index.ts',
    startable: 'src/startable/index.ts',
    transport: 'src/transport/index.ts',
    storage: 'src/storage/index.ts',
    linearizability: 'src/linearizability/index.ts',
  },
})
