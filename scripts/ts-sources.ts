// Module hooks that run the workspace's TypeScript sources without a build, for the packages'
// soak and measurement scripts (packages/raft/scripts/fuzz.ts, packages/cluster-sim/scripts/
// soak.ts, packages/gossip/scripts/bench-queue.ts): `@rony/<pkg>[/<subpath>]` and `./x.js`
// resolve as for the README examples (workspace-sources.ts, the root vitest.config.ts's
// mapping), and TypeScript is transformed by `stripTypeScriptTypes` in transform mode, since
// the sources use parameter properties, which Node's own type stripping refuses. So a script
// runs exactly the code the tests test, and a stale `dist/` cannot change what it measures.
import { readFileSync } from 'node:fs'
import { registerHooks, stripTypeScriptTypes } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { tsForJs, workspaceSource } from './readme-examples/workspace-sources.ts'

/**
 * Registers the hooks in the calling thread (a worker registers its own). Call it before the
 * first dynamic `import()` of a source: static imports are resolved before it runs.
 */
export function registerSourceHooks(): void {
  // `stripTypeScriptTypes` is experimental in Node 24: its warning would only be noise here.
  process.removeAllListeners('warning')
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const parent = context.parentURL?.startsWith('file:')
        ? fileURLToPath(context.parentURL)
        : undefined
      const source = workspaceSource(specifier, parent)
      if (source !== undefined) return { url: pathToFileURL(source).href, shortCircuit: true }
      if (parent?.endsWith('.ts') && specifier.startsWith('.')) {
        const url = pathToFileURL(tsForJs(join(dirname(parent), specifier))).href
        return { url, shortCircuit: true }
      }
      return nextResolve(specifier, context)
    },
    load(url, context, nextLoad) {
      if (!url.endsWith('.ts')) return nextLoad(url, context)
      const code = readFileSync(new URL(url), 'utf8')
      const source = stripTypeScriptTypes(code, { mode: 'transform', sourceUrl: url })
      return { format: 'module', source, shortCircuit: true }
    },
  })
}
