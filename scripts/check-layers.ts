// Checks the package layering of DESIGN §1: which workspace package may import which, no
// reaching into a sibling's files, subpath imports only of declared exports, and package.json
// dependencies that agree. `pnpm check:layers` (part of `pnpm check`); exits 1 on a violation,
// printing `file:line  [rule]  what and why`.
//
//   node scripts/check-layers.ts [--root <dir>]
//
// Imports are read with TypeScript's own pre-processor (comments and strings are skipped;
// `import type`, `export … from`, `import()` and `require()` all count), from every .ts/.js
// file under packages/*/ except node_modules and dist.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

/** One row of the layering table: what a package's sources may import at run time. */
export interface Layer {
  /** Workspace packages (directory names under packages/) its src/ may import. */
  readonly allowed: readonly string[]
  /** Why, as DESIGN says it: printed with every violation of the row. */
  readonly why: string
}

const GATEWAY: Layer = {
  allowed: ['envelope', 'interface'],
  why: 'gateways → envelope (framing), interface',
}

/**
 * The allowed edges, in one place. A package's src/ may import only the packages of its row,
 * and list only those in `dependencies` and `peerDependencies`; tests and other files may
 * import whatever the package declares, `devDependencies` included. A new package must be
 * placed here before it can pass.
 */
export const LAYERS: Readonly<Record<string, Layer>> = {
  interface: { allowed: [], why: 'interface is types only, at the bottom' },
  envelope: { allowed: ['interface'], why: 'envelope → interface' },
  transport: {
    allowed: ['interface'],
    why: 'transport (the UDP, TCP and memory networks beneath gossip and Raft) → interface',
  },
  gossip: {
    allowed: ['interface', 'transport'],
    why: 'gossip → interface only (never edge, never envelope); its networks come from transport',
  },
  raft: {
    allowed: ['interface', 'transport'],
    why: 'raft → interface only (never edge, never envelope); its networks come from transport',
  },
  edge: {
    allowed: ['envelope', 'interface'],
    why:
      'edge → envelope, interface; its cluster code speaks to the Membership and Consensus ' +
      'contracts, never to gossip or raft, and a single-node edge installs nothing new',
  },
  'gateway-ws': GATEWAY,
  'gateway-http': GATEWAY,
  'gateway-quic': GATEWAY,
  client: { allowed: ['envelope'], why: 'client → envelope' },
  codegen: {
    allowed: ['envelope'],
    why: 'codegen → envelope (constructor ids and the service descriptor types it emits)',
  },
  testing: {
    allowed: ['client', 'edge', 'envelope', 'interface'],
    why: 'testing holds the suites of the packages above it, as their devDependency',
  },
  'cluster-sim': {
    allowed: ['edge', 'envelope', 'gossip', 'interface', 'raft', 'testing', 'transport'],
    why:
      'cluster-sim is private whole-cluster tests (edge on real gossip and raft), on top of ' +
      'everything: the edge cannot take gossip or raft even as devDependencies (a package cycle)',
  },
}

/** Folders held to a narrower row than their package's: the narrow subpaths of @rony/testing. */
export const SCOPES: Readonly<Record<string, Layer>> = {
  'testing/src/startable': {
    allowed: ['interface'],
    why: '@rony/testing/startable depends on interface only',
  },
  'testing/src/transport': {
    allowed: ['interface'],
    why: '@rony/testing/transport depends on interface only',
  },
  'testing/src/storage': {
    allowed: ['interface'],
    why: '@rony/testing/storage depends on interface only',
  },
  'testing/src/linearizability': {
    allowed: [],
    why: '@rony/testing/linearizability depends on nothing',
  },
}

export type Rule =
  | 'direction' // src imports a package its row does not allow
  | 'sibling-files' // a file reaches into another package's files instead of its public entry
  | 'subpath' // @rony/x/sub where x exports no ./sub
  | 'undeclared' // imports a workspace package its package.json does not list
  | 'manifest' // package.json lists a runtime dependency its row does not allow
  | 'table' // a package the table does not know

export interface Violation {
  /** Path relative to the root, with `/`. */
  readonly file: string
  /** 1-based; 0 for package.json-level findings without a line. */
  readonly line: number
  readonly rule: Rule
  /** The import specifier or dependency name at fault. */
  readonly subject: string
  readonly message: string
}

export interface CheckResult {
  readonly violations: readonly Violation[]
  readonly files: number
  readonly imports: number
}

interface Manifest {
  readonly name: string
  readonly dir: string
  readonly exports: ReadonlySet<string>
  /** dependencies and peerDependencies */
  readonly runtime: ReadonlySet<string>
  readonly dev: ReadonlySet<string>
  /** Line of each dependency name in package.json, for messages. */
  readonly lines: ReadonlyMap<string, number>
}

const SOURCE = /\.(?:[cm]?ts|tsx|[cm]?js)$/
const SKIP_DIRS = new Set(['node_modules', 'dist', '.turbo'])
const SCOPE = '@rony/'

function readManifest(root: string, dir: string): Manifest | undefined {
  const path = join(root, 'packages', dir, 'package.json')
  if (!existsSync(path)) return undefined
  const text = readFileSync(path, 'utf8')
  const pkg = JSON.parse(text) as Record<string, Record<string, string> | string | undefined>
  const keys = (field: string) => Object.keys((pkg[field] as Record<string, string>) ?? {})
  const lines = new Map<string, number>()
  text.split('\n').forEach((line, i) => {
    const name = /^\s*"(@rony\/[^"]+)"\s*:/.exec(line)?.[1]
    if (name !== undefined && !lines.has(name)) lines.set(name, i + 1)
  })
  const exportsField = pkg.exports
  return {
    name: String(pkg.name),
    dir,
    exports: new Set(
      typeof exportsField === 'object' ? Object.keys(exportsField) : ['.'], // a string: '.' only
    ),
    runtime: new Set([...keys('dependencies'), ...keys('peerDependencies')]),
    dev: new Set(keys('devDependencies')),
    lines,
  }
}

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  const entries = readdirSync(dir, { withFileTypes: true })
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...sourceFiles(join(dir, entry.name)))
    } else if (SOURCE.test(entry.name)) out.push(join(dir, entry.name))
  }
  return out
}

/** Every module specifier in `text`, with its 1-based line. */
export function importsOf(text: string): { specifier: string; line: number }[] {
  const { importedFiles } = ts.preProcessFile(text, true, true)
  return importedFiles.map((ref) => ({
    specifier: ref.fileName,
    line: text.slice(0, ref.pos).split('\n').length,
  }))
}

/** The row for a file: its folder's scope if any, else its package's. */
function layerOf(
  table: Readonly<Record<string, Layer>>,
  scopes: Readonly<Record<string, Layer>>,
  pathInPackages: string,
  pkg: string,
): Layer | undefined {
  for (const [dir, layer] of Object.entries(scopes)) {
    if (pathInPackages === dir || pathInPackages.startsWith(`${dir}/`)) return layer
  }
  return table[pkg]
}

const list = (names: readonly string[]) =>
  names.length === 0 ? 'no workspace package' : names.map((n) => `@rony/${n}`).join(', ')

/**
 * Checks the workspace at `root` against `table` and `scopes`.
 *
 * @param root - The repository root (holding packages/).
 */
export function checkLayers(
  root: string,
  table: Readonly<Record<string, Layer>> = LAYERS,
  scopes: Readonly<Record<string, Layer>> = SCOPES,
): CheckResult {
  const packagesDir = join(root, 'packages')
  const manifests = new Map<string, Manifest>() // by package name
  for (const dir of readdirSync(packagesDir).sort()) {
    const manifest = readManifest(root, dir)
    if (manifest !== undefined) manifests.set(manifest.name, manifest)
  }
  const byDir = new Map([...manifests.values()].map((m) => [m.dir, m]))
  const violations: Violation[] = []
  const rel = (path: string) => relative(root, path).split(sep).join('/')
  let files = 0
  let imports = 0

  for (const manifest of manifests.values()) {
    const pkgJson = `packages/${manifest.dir}/package.json`
    const row = table[manifest.dir]
    if (row === undefined) {
      violations.push({
        file: pkgJson,
        line: 0,
        rule: 'table',
        subject: manifest.name,
        message: `${manifest.name} is not in the layering table: add its row to LAYERS in scripts/check-layers.ts`,
      })
      continue
    }
    for (const dep of manifest.runtime) {
      const target = manifests.get(dep)
      if (target === undefined || target === manifest || row.allowed.includes(target.dir)) continue
      const hint =
        dep === '@rony/testing'
          ? ': @rony/testing is a devDependency of the packages whose suites it holds'
          : ''
      violations.push({
        file: pkgJson,
        line: manifest.lines.get(dep) ?? 0,
        rule: 'manifest',
        subject: dep,
        message: `${manifest.name} may depend at run time on ${list(row.allowed)} (${row.why})${hint}`,
      })
    }

    const pkgDir = join(packagesDir, manifest.dir)
    for (const file of sourceFiles(pkgDir)) {
      files++
      const inPackages = rel(file).slice('packages/'.length)
      const isSrc = inPackages.startsWith(`${manifest.dir}/src/`)
      const layer = layerOf(table, scopes, inPackages, manifest.dir)
      for (const { specifier, line } of importsOf(readFileSync(file, 'utf8'))) {
        imports++
        const at = { file: rel(file), line, subject: specifier }
        if (specifier.startsWith('.')) {
          const target = rel(resolve(dirname(file), specifier))
          const other = /^packages\/([^/]+)\//.exec(target)?.[1]
          if (other !== undefined && other !== manifest.dir && byDir.has(other)) {
            violations.push({
              ...at,
              rule: 'sibling-files',
              message: `reaches into @rony/${other}'s files: import its public entry (or a declared subpath export)`,
            })
          }
          continue
        }
        if (!specifier.startsWith(SCOPE)) continue
        const [scope, name, ...rest] = specifier.split('/')
        const targetName = `${scope}/${name}`
        const target = manifests.get(targetName)
        if (target === undefined) continue // not a workspace package
        const sub = rest.join('/')
        if (rest[0] === 'src' || rest[0] === 'dist') {
          violations.push({
            ...at,
            rule: 'sibling-files',
            message: `reaches into ${targetName}'s files: import its public entry (or a declared subpath export)`,
          })
          continue
        }
        if (sub !== '' && !target.exports.has(`./${sub}`)) {
          violations.push({
            ...at,
            rule: 'subpath',
            message: `${targetName} exports no "./${sub}" (exports: ${[...target.exports].join(', ')})`,
          })
        }
        if (target === manifest) continue
        if (isSrc && layer !== undefined && !layer.allowed.includes(target.dir)) {
          violations.push({
            ...at,
            rule: 'direction',
            message: `${manifest.dir}/src may import ${list(layer.allowed)} (${layer.why})`,
          })
        } else if (!manifest.runtime.has(targetName) && (isSrc || !manifest.dev.has(targetName))) {
          violations.push({
            ...at,
            rule: 'undeclared',
            message: `${manifest.name}'s package.json does not list ${targetName} in ${isSrc ? 'dependencies' : 'dependencies or devDependencies'}`,
          })
        }
      }
    }
  }
  return { violations, files, imports }
}

export function formatViolation(v: Violation): string {
  const where = v.line > 0 ? `${v.file}:${v.line}` : v.file
  return `${where}  [${v.rule}]  '${v.subject}': ${v.message}`
}

function main(argv: readonly string[]): number {
  const at = argv.indexOf('--root')
  const root = resolve(
    at >= 0 ? (argv[at + 1] ?? '.') : fileURLToPath(new URL('..', import.meta.url)),
  )
  const { violations, files, imports } = checkLayers(root)
  for (const v of violations) console.error(formatViolation(v))
  if (violations.length > 0) {
    console.error(
      `layers: ${violations.length} violation(s) of DESIGN §1's dependency direction (the table is LAYERS in scripts/check-layers.ts)`,
    )
    return 1
  }
  console.log(`layers: ${imports} imports in ${files} files follow DESIGN §1`)
  return 0
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2))
}
