// Module resolution for README examples run in a child process (`node --import` this file):
// `@rony/<pkg>` and `@rony/<pkg>/<subpath>` resolve to the workspace's TypeScript sources, as
// the root vitest.config.ts does for tests, so an example runs what the tests test without a
// build. Node's own type stripping loads the sources; this only resolves.
//
// RONY_EXAMPLE_DIR is the directory the README's blocks are written to (a block imports
// another as './<name>.js'); RONY_EXAMPLE_BASE is where the rest of a block's imports resolve
// from (the README's directory, or its `base=`), as if the block were a file there.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { type ResolveFnOutput, type ResolveHookContext, registerHooks } from 'node:module'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const packagesDir = join(root, 'packages')
const exampleDir = process.env.RONY_EXAMPLE_DIR
const baseDir = process.env.RONY_EXAMPLE_BASE

type PackageJson = {
  exports?: Record<string, unknown>
  imports?: Record<string, unknown>
}

function readPackage(name: string): PackageJson | undefined {
  const file = join(packagesDir, name, 'package.json')
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as PackageJson) : undefined
}

/** The path a conditional export resolves to in Node (the `import` or `default` branch). */
function exportTarget(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry
  if (entry === null || typeof entry !== 'object') return undefined
  const conditions = entry as Record<string, unknown>
  return exportTarget(conditions.import ?? conditions.node ?? conditions.default)
}

function findFile(dir: string, name: string): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isFile() && entry.name === name) return path
    if (entry.isDirectory() && entry.name !== 'gen') {
      const found = findFile(path, name)
      if (found) return found
    }
  }
  return undefined
}

/** The source file a package's built `./dist/<name>.js` comes from. */
function sourceOf(pkg: string, target: string): string | undefined {
  const match = /^\.\/dist\/(.+)\.js$/.exec(target)
  if (!match) return undefined
  const src = join(packagesDir, pkg, 'src')
  const name = match[1] ?? ''
  for (const candidate of [join(src, `${name}.ts`), join(src, name, 'index.ts')]) {
    if (existsSync(candidate)) return candidate
  }
  return findFile(src, `${name.split('/').pop()}.ts`)
}

function workspaceSource(specifier: string, parentPath: string | undefined): string | undefined {
  const rony = /^@rony\/([^/]+)(\/.+)?$/.exec(specifier)
  if (rony) {
    const pkg = rony[1] ?? ''
    const target = exportTarget(readPackage(pkg)?.exports?.[`.${rony[2] ?? ''}`])
    return target === undefined ? undefined : sourceOf(pkg, target)
  }
  // A package-internal `#name` import, from a package's sources.
  if (specifier.startsWith('#') && parentPath?.startsWith(packagesDir + sep)) {
    const pkg = parentPath.slice(packagesDir.length + 1).split(sep)[0] ?? ''
    const target = exportTarget(readPackage(pkg)?.imports?.[specifier])
    return target === undefined ? undefined : sourceOf(pkg, target)
  }
  return undefined
}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile()

/** `./x.js` written for the emitted file: the `.ts` next to it when there is no `.js`. */
function tsForJs(url: URL): URL {
  const path = fileURLToPath(url)
  if (!path.endsWith('.js') || isFile(path)) return url
  const ts = `${path.slice(0, -3)}.ts`
  return isFile(ts) ? pathToFileURL(ts) : url
}

const isRelative = (specifier: string) => specifier.startsWith('./') || specifier.startsWith('../')

function resolve(
  specifier: string,
  context: ResolveHookContext,
  nextResolve: (specifier: string, context?: Partial<ResolveHookContext>) => ResolveFnOutput,
): ResolveFnOutput {
  const parent = context.parentURL?.startsWith('file:')
    ? fileURLToPath(context.parentURL)
    : undefined
  const source = workspaceSource(specifier, parent)
  if (source) return { url: pathToFileURL(source).href, shortCircuit: true }

  if (parent && exampleDir && baseDir && dirname(parent) === exampleDir) {
    // A block: its siblings first, then everything as if it sat in the base directory.
    if (isRelative(specifier)) {
      const sibling = tsForJs(new URL(specifier, pathToFileURL(parent)))
      if (isFile(fileURLToPath(sibling))) return { url: sibling.href, shortCircuit: true }
      const url = tsForJs(new URL(specifier, pathToFileURL(join(baseDir, 'example.ts'))))
      return nextResolve(url.href, context)
    }
    return nextResolve(specifier, {
      ...context,
      parentURL: pathToFileURL(join(baseDir, 'example.ts')).href,
    })
  }

  if (parent && isRelative(specifier) && !parent.includes(`${sep}node_modules${sep}`)) {
    return nextResolve(tsForJs(new URL(specifier, context.parentURL)).href, context)
  }
  return nextResolve(specifier, context)
}

registerHooks({ resolve })
