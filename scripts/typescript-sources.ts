/**
 * For the repository's own scripts that run tests' code outside vitest (raft's fuzzer,
 * cluster-sim's soak): module hooks that resolve and load the workspace's TypeScript
 * sources as the root vitest.config.ts does (`@rony/<pkg>` and `@rony/<pkg>/<sub>` to
 * packages/<pkg>/src, `./x.js` to `./x.ts`), so a seed behaves there exactly as in the specs.
 * Not for README examples (scripts/readme-examples/source-hooks.ts resolves those).
 */
import { existsSync, readFileSync } from 'node:fs'
import { registerHooks, stripTypeScriptTypes } from 'node:module'

/** Resolves and loads the monorepo's TypeScript sources as vitest.config.ts does. */
export function typeScriptSourceHooks(): void {
  const packages = new URL('../packages/', import.meta.url)
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const name = /^@rony\/([a-z0-9-]+)(?:\/([\w-]+))?$/.exec(specifier)
      if (name !== null) {
        const path = name[2] === undefined ? 'index.ts' : `${name[2]}/index.ts`
        return { url: new URL(`${name[1]}/src/${path}`, packages).href, shortCircuit: true }
      }
      const parent = context.parentURL
      if (specifier.startsWith('.') && specifier.endsWith('.js') && parent?.endsWith('.ts')) {
        const ts = new URL(`${specifier.slice(0, -3)}.ts`, parent)
        if (!existsSync(new URL(specifier, parent)) && existsSync(ts)) {
          return { url: ts.href, shortCircuit: true }
        }
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
