// `node --import` this file to run bin/rony.js on the sources: its `../dist/cli.js` becomes
// src/cli.ts (scripts/readme-examples/source-hooks.ts maps the rest), so no build is needed.
import { registerHooks } from 'node:module'

const dist = new URL('../dist/', import.meta.url).href
const src = new URL('../src/', import.meta.url).href

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier.startsWith('.') && context.parentURL) {
      const url = new URL(specifier, context.parentURL).href
      if (url.startsWith(dist)) {
        return { url: src + url.slice(dist.length).replace(/\.js$/, '.ts'), shortCircuit: true }
      }
    }
    return nextResolve(specifier, context)
  },
})
