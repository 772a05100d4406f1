/**
 * Bundles a page script for the browser with esbuild, from the workspace's sources: the
 * playground lives in this repository, so its pages always run the client as it is now.
 */
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'esbuild'

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))
const source = (name: string): string => here(`../../../packages/${name}/src/index.ts`)

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
    alias: {
      '@rony/client': source('client'),
      '@rony/envelope': source('envelope'),
      '@rony/interface': source('interface'),
    },
    plugins: [browserQuicDialer],
  })
  return result.outputFiles[0]!.text
}
