/**
 * Bundles the playground's code with esbuild, from the workspace's sources: the playground
 * lives in this repository, so it always runs the packages as they are now, and `pnpm demo`
 * needs no build of them first (a bundle takes well under a second).
 */

import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'esbuild'

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))
const source = (name: string): string => here(`../../../packages/${name}/src/index.ts`)
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
      path: here('../../../packages/client/src/transport/quic-unsupported.ts'),
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

// Every other package stays an import of the bundle, resolved at run time from where the
// bundle is written: apps/demo, whose package.json lists what the packages need.
const npmExternal: Plugin = {
  name: 'npm-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@rony/') || args.path.startsWith('#') ? undefined : { external: true },
    )
  },
}

/** Where Node bundles go: inside apps/demo, so that their imports resolve. */
export const NODE_BUNDLES = here('../.bundle')

/**
 * Bundles `entry` (an absolute path) for Node into `NODE_BUNDLES/<name>.mjs`, with the
 * workspace packages from their sources; returns the bundle's path.
 */
export async function bundleForNode(entry: string, name: string): Promise<string> {
  const outfile = `${NODE_BUNDLES}/${name}.mjs`
  mkdirSync(dirname(outfile), { recursive: true })
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    logLevel: 'silent',
    alias: sourceAliases,
    plugins: [npmExternal],
  })
  return outfile
}
