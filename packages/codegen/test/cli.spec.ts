import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GENERATE_TIMEOUT_MS } from './timeouts.js'

const pkg = fileURLToPath(new URL('../', import.meta.url))
const sourceHooks = fileURLToPath(
  new URL('../../../scripts/readme-examples/source-hooks.ts', import.meta.url),
)
const fixtures = join(pkg, 'test/fixtures/greeter')
let work: string

/** Runs the real bin/rony.js in a child process, on the sources (see dist-hooks.ts). */
function rony(...args: string[]) {
  const result = spawnSync(
    process.execPath,
    [
      '--experimental-transform-types',
      '--disable-warning=ExperimentalWarning',
      '--import',
      sourceHooks,
      '--import',
      join(pkg, 'test/dist-hooks.ts'),
      join(pkg, 'bin/rony.js'),
      ...args,
    ],
    { encoding: 'utf8', timeout: GENERATE_TIMEOUT_MS },
  )
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

beforeAll(async () => {
  work = await mkdtemp(join(pkg, 'test/.out-'))
}, GENERATE_TIMEOUT_MS)
afterAll(() => rm(work, { recursive: true, force: true }))

describe('the rony bin', { timeout: GENERATE_TIMEOUT_MS }, () => {
  it('generates a module and declarations per .proto', async () => {
    const out = join(work, 'gen')
    const run = rony('gen', fixtures, '--out', out)
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('2 .proto')
    expect((await readdir(out)).sort()).toEqual([
      'greeter.d.ts',
      'greeter.js',
      'room.d.ts',
      'room.js',
    ])
  })

  it('names a missing input', () => {
    const run = rony('gen', join(work, 'nope.proto'), '--out', join(work, 'x'))
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('no such file or directory')
    expect(run.stderr).toContain('nope.proto')
  })

  it('names the file and line of a parse error', async () => {
    const broken = join(work, 'broken.proto')
    await writeFile(broken, 'syntax = "proto3";\n\nmessage A {\n  string a = ;\n}\n')
    const run = rony('gen', broken, '--out', join(work, 'x'))
    expect(run.status).toBe(1)
    expect(run.stderr).toMatch(/broken\.proto:4: /)
  })

  it('names a missing import', async () => {
    const importer = join(work, 'importer.proto')
    await writeFile(importer, 'syntax = "proto3";\nimport "missing/thing.proto";\n')
    const run = rony('gen', importer, '--out', join(work, 'x'))
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('missing/thing.proto')
  })

  it('asks for --out and prints the usage', () => {
    const run = rony('gen', fixtures)
    expect(run.status).toBe(2)
    expect(run.stderr).toContain('--out <dir> is required')
    expect(run.stderr).toContain('usage: rony gen')
  })

  it('rejects an unknown command or flag', () => {
    expect(rony('build').stderr).toContain('unknown command "build"')
    expect(rony('gen', fixtures, '--out', work, '--frobnicate').status).toBe(2)
  })
})
