// The layering check (scripts/check-layers.ts): on a small fixture workspace with one
// violation of each rule, and on this repository, which must follow DESIGN §1.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { checkLayers, formatViolation, importsOf } from '../check-layers.ts'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const script = fileURLToPath(new URL('../check-layers.ts', import.meta.url))
const temp = mkdtempSync(join(tmpdir(), 'rony-layers-'))
afterAll(() => rmSync(temp, { recursive: true, force: true }))

type Files = Record<string, string>

function pkg(
  name: string,
  deps: { dependencies?: string[]; devDependencies?: string[]; exports?: string[] } = {},
): string {
  const record = (names: string[] = []) =>
    Object.fromEntries(names.map((n) => [`@rony/${n}`, 'workspace:^']))
  const exports = Object.fromEntries(
    (deps.exports ?? ['.']).map((e) => [e, { import: `./dist/${e}.js` }]),
  )
  return JSON.stringify(
    {
      name: `@rony/${name}`,
      exports,
      dependencies: record(deps.dependencies),
      devDependencies: record(deps.devDependencies),
    },
    null,
    2,
  )
}

/** A workspace that follows every rule; each test adds or replaces files to break one. */
const CLEAN: Files = {
  'packages/interface/package.json': pkg('interface'),
  'packages/interface/src/index.ts': 'export type Id = string\n',
  'packages/transport/package.json': pkg('transport', {
    dependencies: ['interface'],
    devDependencies: ['testing'],
    exports: ['.', './sim'],
  }),
  'packages/transport/src/index.ts':
    "import type { Id } from '@rony/interface'\nexport type T = Id\n",
  'packages/transport/test/a.spec.ts': [
    "import { peer } from '@rony/transport/sim'",
    "import { suite } from '@rony/testing/transport'",
    "import { x } from '../src/index.js'",
    '',
  ].join('\n'),
  'packages/raft/package.json': pkg('raft', {
    dependencies: ['interface', 'transport'],
    devDependencies: ['testing'],
  }),
  'packages/raft/src/index.ts': [
    '/**',
    ' * @example',
    " * import { createEdge } from '@rony/edge' // in a comment: not an import",
    ' */',
    "import { tcp } from '@rony/transport'",
    'const s = "import \'@rony/edge\'" // in a string: not an import',
    '',
  ].join('\n'),
  'packages/edge/package.json': pkg('edge', { dependencies: ['envelope', 'interface'] }),
  'packages/edge/src/cluster/directory.ts': "import type { Membership } from '@rony/interface'\n",
  'packages/envelope/package.json': pkg('envelope', { dependencies: ['interface'] }),
  'packages/testing/package.json': pkg('testing', {
    dependencies: ['edge', 'interface'],
    exports: ['.', './transport', './linearizability'],
  }),
  'packages/testing/src/index.ts': "import { createEdge } from '@rony/edge'\n",
  'packages/testing/src/transport/index.ts': "import type { Id } from '@rony/interface'\n",
  'packages/testing/src/linearizability/index.ts': 'export const check = () => true\n',
}

let fixtures = 0
function workspace(changes: Files = {}): string {
  const root = join(temp, `w${++fixtures}`)
  for (const [path, text] of Object.entries({ ...CLEAN, ...changes })) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

const found = (changes: Files) =>
  checkLayers(workspace(changes)).violations.map(
    (v) => `${v.file}:${v.line} ${v.rule} ${v.subject}`,
  )

describe('check-layers', () => {
  it('reads every kind of import, and no comment or string', () => {
    const text = [
      "import a from '@rony/a'",
      "import type { B } from '@rony/b'",
      "export * from '@rony/c'",
      "export { d } from '@rony/d'",
      "import '@rony/e'",
      "const f = await import('@rony/f')",
      "// import g from '@rony/g'",
      "/* import h from '@rony/h' */",
      'const i = \'import i from "@rony/i"\'',
      '',
    ].join('\n')
    expect(importsOf(text)).toEqual(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((n, i) => ({ specifier: `@rony/${n}`, line: i + 1 })),
    )
  })

  it('passes a workspace that follows the table', () => {
    const result = checkLayers(workspace())
    expect(result.violations.map(formatViolation)).toEqual([])
    expect(result.imports).toBe(8)
  })

  it('flags a src import against the direction, type-only and dynamic ones too', () => {
    expect(
      found({
        'packages/raft/src/bad.ts': [
          "import type { Edge } from '@rony/edge'",
          "export { Envelope } from '@rony/envelope'",
          'export const load = () => import("@rony/edge")',
          '',
        ].join('\n'),
        'packages/edge/src/cluster/bad.ts': "import { raft } from '@rony/raft'\n",
      }),
    ).toEqual([
      'packages/edge/src/cluster/bad.ts:1 direction @rony/raft',
      'packages/raft/src/bad.ts:1 direction @rony/edge',
      'packages/raft/src/bad.ts:2 direction @rony/envelope',
      'packages/raft/src/bad.ts:3 direction @rony/edge',
    ])
  })

  it('holds the narrow subpaths of @rony/testing to their own rows', () => {
    expect(
      found({
        'packages/testing/src/transport/bad.ts': "import { createEdge } from '@rony/edge'\n",
        'packages/testing/src/linearizability/bad.ts':
          "import type { Id } from '@rony/interface'\n",
      }),
    ).toEqual([
      'packages/testing/src/linearizability/bad.ts:1 direction @rony/interface',
      'packages/testing/src/transport/bad.ts:1 direction @rony/edge',
    ])
  })

  it("flags a reach into a sibling's files from src and tests, and an undeclared subpath", () => {
    expect(
      found({
        'packages/raft/test/bad.spec.ts': [
          "import { clock } from '../../transport/src/clock.js'",
          "import { other } from '@rony/transport/src/clock.js'",
          "import { sim } from '@rony/transport/simulation'",
          "import { own } from '../src/index.js'",
          '',
        ].join('\n'),
      }),
    ).toEqual([
      'packages/raft/test/bad.spec.ts:1 sibling-files ../../transport/src/clock.js',
      'packages/raft/test/bad.spec.ts:2 sibling-files @rony/transport/src/clock.js',
      'packages/raft/test/bad.spec.ts:3 subpath @rony/transport/simulation',
    ])
  })

  it('flags imports of packages the package.json does not list', () => {
    expect(
      found({
        'packages/raft/package.json': pkg('raft', { dependencies: ['interface'] }),
      }),
    ).toEqual(['packages/raft/src/index.ts:5 undeclared @rony/transport'])
    expect(
      found({
        'packages/transport/package.json': pkg('transport', {
          dependencies: ['interface'],
          exports: ['.', './sim'],
        }),
      }),
    ).toEqual(['packages/transport/test/a.spec.ts:2 undeclared @rony/testing/transport'])
  })

  it('flags runtime dependencies against the table, @rony/testing included', () => {
    const violations = checkLayers(
      workspace({
        'packages/raft/package.json': pkg('raft', {
          dependencies: ['interface', 'transport', 'testing', 'edge'],
        }),
      }),
    ).violations
    expect(violations.map((v) => `${v.file}:${v.line} ${v.rule} ${v.subject}`)).toEqual([
      'packages/raft/package.json:11 manifest @rony/testing',
      'packages/raft/package.json:12 manifest @rony/edge',
    ])
    expect(violations[0]?.message).toContain('devDependency of the packages whose suites it holds')
  })

  it('refuses a package the table does not know', () => {
    expect(found({ 'packages/extra/package.json': pkg('extra') })).toEqual([
      'packages/extra/package.json:0 table @rony/extra',
    ])
  })

  it('exits 1 with file:line, the import and the rule, and 0 on this repository', () => {
    const bad = workspace({ 'packages/raft/src/bad.ts': "\nimport { x } from '@rony/edge'\n" })
    const failed = spawnSync(process.execPath, [script, '--root', bad], { encoding: 'utf8' })
    expect(failed.status).toBe(1)
    expect(failed.stderr).toContain(
      "packages/raft/src/bad.ts:2  [direction]  '@rony/edge': raft/src may import @rony/interface, @rony/transport",
    )
    const passed = spawnSync(process.execPath, [script], { encoding: 'utf8', cwd: repo })
    expect(passed.stderr).toBe('')
    expect(passed.status).toBe(0)
    expect(passed.stdout).toMatch(/^layers: \d+ imports in \d+ files follow DESIGN §1/)
  })

  it('finds no violation in this repository', () => {
    expect(checkLayers(repo).violations.map(formatViolation)).toEqual([])
  })
})
