import { createRequire } from 'node:module'
import type protobuf from 'protobufjs'
import { prune } from './prune.js'

interface Pbjs {
  generate(
    root: protobuf.Root,
    options: Record<string, unknown>,
    callback: (error: Error | null, js?: string, dts?: string) => void,
  ): void
}

// protobufjs-cli is CommonJS with no typings for this entry point.
const pbjs = createRequire(import.meta.url)('protobufjs-cli/pbjs.js') as Pbjs

/**
 * protobufjs's own static code (`pbjs -t static-module -w es6 -d`, as @rony/envelope's is
 * generated) for the types of `mainFile` and the imported types they use (see `prune`).
 * Services are left to our descriptors (`service: false`), and `verify` is off as in
 * @rony/envelope: encode trusts its typed input.
 */
export function staticCode(
  root: protobuf.Root,
  mainFile: string,
  rootName: string,
): Promise<{ js: string; dts: string }> {
  prune(root, mainFile)
  return new Promise((resolve, reject) => {
    pbjs.generate(
      root,
      {
        target: 'static-module',
        wrap: 'es6',
        es6: true,
        root: rootName,
        verify: false,
        service: false,
        dts: true,
      },
      (error, js, dts) => {
        if (error || js === undefined || dts === undefined)
          reject(error ?? new Error('pbjs produced no output'))
        else resolve({ js, dts })
      },
    )
  })
}
