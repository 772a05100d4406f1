// Where the workspace's packages keep their sources: `@rony/<pkg>` and its subpath exports
// map to the TypeScript file each built `dist/` file comes from, for the README examples'
// runner (source-hooks.ts) and type check (typecheck.ts).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const packagesDir = join(root, 'packages')

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

/** The source file of `@rony/<pkg>[/<subpath>]`, or of a package-internal `#name` import. */
export function workspaceSource(
  specifier: string,
  parentPath: string | undefined,
): string | undefined {
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

export const isFile = (path: string) => existsSync(path) && statSync(path).isFile()

/** `./x.js` written for the emitted file: the `.ts` next to it when there is no `.js`. */
export function tsForJs(path: string): string {
  if (!path.endsWith('.js') || isFile(path)) return path
  const ts = `${path.slice(0, -3)}.ts`
  return isFile(ts) ? ts : path
}
