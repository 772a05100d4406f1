import { readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { build, type Plugin } from 'esbuild'
import { describe, expect, it } from 'vitest'

// Bundles the client's sources as a browser app would (esbuild, platform 'browser'), with
// `#quic-dialer` resolved through package.json `imports` under the bundler's conditions
// (dist/X.js there stands for src/transport/X.ts here), and checks what got in.

const pkgDir = new URL('../', import.meta.url)
const pkg = JSON.parse(readFileSync(new URL('package.json', pkgDir), 'utf8')) as {
  imports: Record<string, Record<string, string>>
}

/** The source file the `imports` entry of `specifier` picks under `platform`'s conditions. */
function importTarget(specifier: string, platform: 'browser' | 'node'): string {
  const entry = pkg.imports[specifier]
  if (entry === undefined) throw new Error(`no imports entry for ${specifier}`)
  const target = (platform === 'browser' ? entry.browser : undefined) ?? entry.default
  const name = /^\.\/dist\/(.+)\.js$/.exec(target ?? '')?.[1]
  if (name === undefined) throw new Error(`unexpected target ${target}`)
  return new URL(`src/transport/${name}.ts`, pkgDir).pathname
}

/** Resolves #imports like the package would, and @rony/envelope to its sources. */
function workspace(platform: 'browser' | 'node'): Plugin {
  return {
    name: 'workspace',
    setup(b) {
      b.onResolve({ filter: /^#/ }, (args) => ({ path: importTarget(args.path, platform) }))
      b.onResolve({ filter: /^@rony\/envelope$/ }, () => ({
        path: new URL('../envelope/src/index.ts', pkgDir).pathname,
      }))
    },
  }
}

async function bundle(platform: 'browser' | 'node'): Promise<string> {
  const result = await build({
    entryPoints: [new URL('src/index.ts', pkgDir).pathname],
    bundle: true,
    write: false,
    format: 'esm',
    platform,
    // Node bundles leave packages external; the browser one must resolve everything.
    ...(platform === 'node' ? { packages: 'external' as const } : {}),
    splitting: true,
    outdir: '/virtual',
    plugins: [workspace(platform)],
    logLevel: 'silent',
  })
  return result.outputFiles.map((f) => f.text).join('\n')
}

describe('browser bundle', () => {
  it('contains no libp2p or QUIC code, and no Node built-in', async () => {
    const code = await bundle('browser')
    expect(code).toContain('only available in Node') // quic-unsupported.ts made it in
    // Code, not prose: the QUIC transport's error messages may name the packages to install.
    expect(code).not.toMatch(
      /createLibp2p|dialProtocol|["'](?:libp2p|@chainsafe\/|@libp2p\/|@multiformats\/)/,
    )
    const builtins = builtinModules.filter((m) => !m.startsWith('_'))
    const imported = [...code.matchAll(/\bfrom\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']/g)]
      .map((m) => m[1] ?? m[2])
      .filter((s) => s !== undefined && (s.startsWith('node:') || builtins.includes(s)))
    expect(imported).toEqual([])
  })

  it('does load the libp2p dialer under Node conditions (the check above can fail)', async () => {
    const code = await bundle('node')
    expect(code).toMatch(
      /createLibp2p|dialProtocol|["'](?:libp2p|@chainsafe\/|@libp2p\/|@multiformats\/)/,
    )
    expect(code).not.toContain('only available in Node')
  })
})
