import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generate } from '../src/index.js'
import { GENERATE_TIMEOUT_MS } from './timeouts.js'

// Packages regenerate while other tasks may be reading their src/gen (tests run on sources),
// so rony gen never rewrites a file that is up to date and replaces a stale one in one step.

let dir: string
const out = () => join(dir, 'gen')

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rony-gen-write-'))
  await writeFile(
    join(dir, 'ping.proto'),
    'syntax = "proto3";\npackage t;\nmessage Ping { int32 N = 1; }\n',
  )
  await generate({ inputs: [join(dir, 'ping.proto')], out: out() })
}, GENERATE_TIMEOUT_MS)
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('rony gen: writing the output', () => {
  it(
    'leaves files that are up to date untouched',
    async () => {
      const before = await stat(join(out(), 'ping.js'))
      await generate({ inputs: [join(dir, 'ping.proto')], out: out() })
      const after = await stat(join(out(), 'ping.js'))
      expect({ ino: after.ino, mtime: after.mtimeMs }).toEqual({
        ino: before.ino,
        mtime: before.mtimeMs,
      })
    },
    GENERATE_TIMEOUT_MS,
  )

  it(
    'replaces a stale file by a new one (a rename), leaving no temporary file behind',
    async () => {
      const path = join(out(), 'ping.js')
      const fresh = await readFile(path, 'utf8')
      await writeFile(path, '// stale\n')
      const stale = await stat(path)
      await generate({ inputs: [join(dir, 'ping.proto')], out: out() })
      expect(await readFile(path, 'utf8')).toBe(fresh)
      expect((await stat(path)).ino).not.toBe(stale.ino)
      expect((await readdir(out())).sort()).toEqual(['ping.d.ts', 'ping.js'])
    },
    GENERATE_TIMEOUT_MS,
  )
})
