/**
 * The browser bundle a user ships for `@rony/client` plus one generated service: the
 * Greeter of `greeter.proto`, generated with `rony gen`, and `client-greeter.js`
 * (createClient, serviceClient, one call), bundled as an app would be: esbuild `--bundle
 * --minify --format=esm --platform=browser`, then gzip -9 and brotli (quality 11). Two
 * other apps show where the bytes come from: `client-only.js` (the client and its built-in
 * messages, no generated code of the app's) and `protobufjs-minimal.js` (the runtime every
 * generated module imports, alone).
 *
 * Packages resolve only through their published `exports` and `imports` maps (with the
 * `browser` condition), never through the monorepo's tsconfig `paths` (packages/client's
 * points `#quic-dialer` at the libp2p dialer for type checking). Two sources:
 * - `dist`: the built packages, as installed from the registry (needs `turbo run build`);
 * - `src`: each package's sources in place of the dist file its maps point at, so a test
 *   measures without a build (within 1% of `dist`: the same code, minified once instead of
 *   twice).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { generate } from '@rony/codegen'
import { build, type Plugin } from 'esbuild'

export type BundleSource = 'dist' | 'src'

/** The entry module, `<app>.js` in this directory. */
export type BundleApp = 'client-greeter' | 'client-only' | 'protobufjs-minimal'

export interface BundleInput {
  /** A file, relative to the repository: `packages/client/src/client.ts`, `node_modules/long/umd/index.js`. */
  readonly path: string
  /** What it adds to the minified bundle, in bytes. */
  readonly bytes: number
}

export interface BundleSize {
  readonly minified: number
  readonly gzip: number
  readonly brotli: number
  /** Every input file, largest first. */
  readonly inputs: readonly BundleInput[]
  /** The inputs summed by package (`@rony/client`, `protobufjs`, `generated greeter`), largest first. */
  readonly packages: readonly BundleInput[]
}

const here = dirname(fileURLToPath(import.meta.url))
const benchDir = join(here, '..', '..')
const repoDir = join(benchDir, '..')
const packagesDir = join(repoDir, 'packages')

/** Generates the Greeter (for `client-greeter`), bundles `app` and measures the result. */
export async function measureBundle(
  from: BundleSource,
  app: BundleApp = 'client-greeter',
  options: { ownCodeOnly?: boolean } = {},
): Promise<BundleSize> {
  if (options.ownCodeOnly && from !== 'src') {
    throw new Error('ownCodeOnly needs the sources: dist/ inlines the generated modules')
  }
  // Under bench/, so the generated module's `protobufjs/minimal.js` resolves as in an app.
  const work = mkdtempSync(join(benchDir, '.bundle-'))
  try {
    if (app === 'client-greeter') {
      await generate({ inputs: [join(here, 'greeter.proto')], out: join(work, 'gen') })
    }
    writeFileSync(join(work, `${app}.js`), readFileSync(join(here, `${app}.js`)))
    const result = await build({
      entryPoints: [join(work, `${app}.js`)],
      absWorkingDir: work,
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      outfile: join(work, 'out.js'),
      logLevel: 'silent',
      // No tsconfig `paths`: a user's bundler never sees the monorepo's.
      tsconfigRaw: {},
      plugins: [
        ...(options.ownCodeOnly ? [withoutProtobuf] : []),
        ...(from === 'src' ? [sourcesPlugin] : []),
      ],
    })
    const code = result.outputFiles[0]?.contents
    const output = Object.values(result.metafile.outputs)[0]
    if (!code || !output) throw new Error('esbuild produced no bundle')
    const inputs = Object.entries(output.inputs)
      .map(([path, input]) => ({
        path: displayPath(join(work, path), work),
        bytes: input.bytesInOutput,
      }))
      .filter((input) => input.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes)
    return {
      minified: code.length,
      gzip: gzipSync(code, { level: 9 }).length,
      brotli: brotliCompressSync(code, {
        params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY },
      }).length,
      inputs,
      packages: byPackage(inputs),
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

function displayPath(absolute: string, work: string): string {
  const inWork = relative(work, absolute)
  if (!inWork.startsWith('..')) return inWork
  const modules = absolute.lastIndexOf('/node_modules/')
  return modules >= 0 ? absolute.slice(modules + 1) : relative(repoDir, absolute)
}

function packageOf(path: string): string {
  const modules = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
  if (modules?.[1]) return modules[1]
  const rony = /^packages\/([^/]+)\//.exec(path)
  if (rony?.[1]) return `@rony/${rony[1]}`
  return path.startsWith('gen/') ? 'generated greeter' : path
}

function byPackage(inputs: readonly BundleInput[]): BundleInput[] {
  const sums = new Map<string, number>()
  for (const input of inputs) {
    const name = packageOf(input.path)
    sums.set(name, (sums.get(name) ?? 0) + input.bytes)
  }
  return [...sums].map(([path, bytes]) => ({ path, bytes })).sort((a, b) => b.bytes - a.bytes)
}

// ---------------------------------------------------------------------------------------
// `src`: the published maps, read from each package.json, pointing at sources

/** The target of an `exports` or `imports` entry for a browser bundler: `browser`, then `import`, then `default`. */
function browserTarget(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry
  if (typeof entry !== 'object' || entry === null) return undefined
  const conditions = entry as Record<string, unknown>
  for (const condition of ['browser', 'import', 'default']) {
    const target = browserTarget(conditions[condition])
    if (target) return target
  }
  return undefined
}

interface Manifest {
  exports?: Record<string, unknown>
  imports?: Record<string, unknown>
}

const readManifest = (packageDir: string): Manifest =>
  JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as Manifest

/** `./dist/<name>.js` → the source tsup built it from: the one `src/**‍/<name>.ts`. */
function sourceOf(packageDir: string, target: string): string {
  const name = /^\.\/dist\/([\w-]+)\.js$/.exec(target)?.[1]
  if (!name) throw new Error(`${packageDir}: cannot map ${target} to a source`)
  const matches = (readdirSync(join(packageDir, 'src'), { recursive: true }) as string[]).filter(
    (file) => file === `${name}.ts` || file.endsWith(`/${name}.ts`),
  )
  if (matches.length !== 1 || !matches[0]) {
    throw new Error(`${packageDir}: ${target} has ${matches.length} candidate sources`)
  }
  return join(packageDir, 'src', matches[0])
}

/**
 * Leaves protobufjs, `long` and every generated module (the app's and @rony/envelope's) out
 * of the bundle: what remains is Rony's own code, the part a protobufjs-free runtime for
 * generated messages could not shrink.
 */
const withoutProtobuf: Plugin = {
  name: 'without-protobuf',
  setup(build) {
    build.onResolve({ filter: /^(?:protobufjs(?:\/.*)?|long)$|\/gen\/[\w-]+\.js$/ }, (args) => ({
      path: args.path,
      external: true,
    }))
  },
}

const sourcesPlugin: Plugin = {
  name: 'rony-sources',
  setup(build) {
    build.onResolve({ filter: /^@rony\/[\w-]+$/ }, (args) => {
      const packageDir = join(packagesDir, args.path.slice('@rony/'.length))
      const target = browserTarget(readManifest(packageDir).exports?.['.'])
      if (!target) throw new Error(`${args.path} exports no "."`)
      return { path: sourceOf(packageDir, target) }
    })
    build.onResolve({ filter: /^#/ }, (args) => {
      const packageDir = join(packagesDir, relative(packagesDir, args.importer).split('/')[0] ?? '')
      const target = browserTarget(readManifest(packageDir).imports?.[args.path])
      if (!target) throw new Error(`${args.importer}: no "imports" entry for ${args.path}`)
      return { path: sourceOf(packageDir, target) }
    })
  },
}
