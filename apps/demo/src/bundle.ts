/**
 * Bundles the playground's code with esbuild, from the workspace's sources: the playground
 * lives in this repository, so it always runs the packages as they are now, and `pnpm demo`
 * needs no build of them first (a bundle takes well under a second).
 */

import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { pathToFileURL } from 'node:url'
import { build, type Plugin } from 'esbuild'
import { demoPath } from './paths.ts'

const source = (name: string): string => demoPath('..', '..', 'packages', name, 'src', 'index.ts')
/** The workspace packages the playground runs, by name, as their sources. */
const SOURCES = [
  'client',
  'edge',
  'envelope',
  'gateway-http',
  'gateway-quic',
  'gateway-ws',
  'gossip',
  'interface',
  'raft',
  'transport',
]
const sourceAliases = Object.fromEntries(SOURCES.map((name) => [`@rony/${name}`, source(name)]))

// The client's `#quic-dialer` as a browser bundler resolves it (package.json `imports`,
// `browser` condition): the stub. Left alone, esbuild would follow packages/client's
// tsconfig `paths`, which point at the libp2p dialer for type checking, into the page.
const browserQuicDialer: Plugin = {
  name: 'browser-quic-dialer',
  setup(b) {
    b.onResolve({ filter: /^#quic-dialer$/ }, () => ({
      path: demoPath('..', '..', 'packages/client/src/transport/quic-unsupported.ts'),
    }))
  },
}

/** The bundled script of `entry` (an absolute path), as one ES module. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    alias: sourceAliases,
    plugins: [browserQuicDialer],
  })
  return result.outputFiles[0]!.text
}

// Every other package stays an import of the bundle, by the absolute path esbuild resolves
// it to from the importing package (its own node_modules), so the bundle needs nothing
// installed next to it.
const npmExternal: Plugin = {
  name: 'npm-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === NPM || args.path.startsWith('@rony/') || args.path.startsWith('#')) {
        return undefined
      }
      if (isBuiltin(args.path)) return { external: true }
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: NPM,
      })
      if (resolved.errors.length > 0) return { errors: resolved.errors }
      return { path: pathToFileURL(resolved.path).href, external: true }
    })
  },
}
const NPM = Symbol('npm')

/** Where Node bundles go. */
export const NODE_BUNDLES = demoPath('.bundle')

/**
 * Bundles `entry` (an absolute path) for Node into `NODE_BUNDLES/<name>.mjs`, with the
 * workspace packages from their sources; returns the bundle's path.
 */
export async function bundleForNode(entry: string, name: string): Promise<string> {
  const outfile = `${NODE_BUNDLES}/${name}.mjs`
  mkdirSync(NODE_BUNDLES, { recursive: true })
  const result = await build({
    entryPoints: [entry],
    outfile,
    write: false,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    logLevel: 'silent',
    alias: sourceAliases,
    plugins: [npmExternal],
  })
  // Written aside, then renamed: a process started from another run's bundle (tests run in
  // parallel) never reads a half-written file.
  const written = `${outfile}.${process.pid}.${Date.now()}`
  writeFileSync(written, result.outputFiles[0]!.contents)
  renameSync(written, outfile)
  return outfile
}
