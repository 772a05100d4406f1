// Runs every TypeScript example of every README in the repository (root, packages/*, apps/*,
// bench), so the docs cannot rot: each ```ts block runs as an ES module in a child process on
// the workspace's sources and must exit 0 by itself within a bound, and all of them
// typecheck. Blocks marked `no-run` or `check-only` are listed as skipped. The markers are described in
// scripts/readme-examples/markdown.ts.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, test } from 'vitest'
import { type ExampleBlock, extractBlocks, extractFileCopies } from '../readme-examples/markdown.ts'
import { BLOCK_TIMEOUT_MS, type Outcome, runUnit, writeBlocks } from '../readme-examples/run.ts'
import { typecheck } from '../readme-examples/typecheck.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))

function readmes(): string[] {
  const found = ['README.md', 'bench/README.md']
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group)).sort())
      found.push(`${group}/${name}/README.md`)
  }
  return found.filter((path) => existsSync(join(root, path)))
}

const blocksByReadme = new Map(
  readmes().map((readme) => [
    readme,
    extractBlocks(readme, readFileSync(join(root, readme), 'utf8')),
  ]),
)
const tempRoot = mkdtempSync(join(tmpdir(), 'rony-readme-'))
const dirOf = (readme: string) => join(tempRoot, readme.replaceAll('/', '__'))
for (const [readme, blocks] of blocksByReadme) writeBlocks(dirOf(readme), blocks)
afterAll(() => rmSync(tempRoot, { recursive: true, force: true }))

/** At most this many blocks run at once (a multi-process block counts once). */
const limit = semaphore(Math.min(2, availableParallelism()))
/** Server blocks listen on the fixed ports readers expect (8080, …): one at a time. */
const serverLane = semaphore(1)
const units = new Map<ExampleBlock, Promise<Map<ExampleBlock, Outcome>>>()

function outcomeOf(block: ExampleBlock, blocks: readonly ExampleBlock[]): Promise<Outcome> {
  const head = block.needs ? blocks.find((b) => b.server && b.file === block.needs) : block
  if (!head) {
    return Promise.resolve({
      ok: false,
      reason: `needs=${block.needs}: no server block of that name`,
    })
  }
  let unit = units.get(head)
  if (!unit) {
    const dependents = blocks.filter((b) => b.run && b.needs === head.file)
    const run = () => limit(() => runUnit(head, dependents, dirOf(head.readme)))
    unit = head.server ? serverLane(run) : run()
    units.set(head, unit)
  }
  return unit.then((outcomes) => outcomes.get(block) ?? { ok: false, reason: 'never ran' })
}

const label = (block: ExampleBlock) =>
  `${block.readme}:${block.line}${block.file.startsWith('line-') ? '' : ` (${block.file})`}`

describe.concurrent('README examples', () => {
  for (const [, blocks] of blocksByReadme) {
    for (const block of blocks) {
      if (!block.run) {
        test.skip(`${label(block)} [${block.typecheck ? 'check-only' : 'no-run'}]`, () => {})
        continue
      }
      // Waiting for a slot counts against the timeout too: allow a few blocks' worth.
      test(label(block), { timeout: 4 * BLOCK_TIMEOUT_MS }, async () => {
        const outcome = await outcomeOf(block, blocks)
        if (!outcome.ok) expect.fail(outcome.reason)
      })
    }
  }
})

// Cheap next to running them (one program, ~5 s of CPU): the examples compile under the
// repository's strict options, so a reader's editor shows no errors either.
test('README examples typecheck', { timeout: 120_000 }, () => {
  const files = [...blocksByReadme].flatMap(([readme, blocks]) =>
    blocks
      .filter((block) => block.typecheck)
      .map((block) => ({
        path: join(dirOf(readme), block.file),
        base: join(root, dirname(readme), block.base ?? '.'),
      })),
  )
  expect(typecheck(files).map((line) => line.replace(`${tempRoot}/`, ''))).toEqual([])
})

// A relative link to a file that does not exist is a doc that lies too.
describe('README links', () => {
  const LINK = /\]\(([^)\s]+)\)/g
  for (const readme of blocksByReadme.keys()) {
    test(readme, () => {
      const markdown = readFileSync(join(root, readme), 'utf8')
      const broken = [...markdown.matchAll(LINK)]
        .map((match) => match[1] ?? '')
        .filter((target) => !/^([a-z]+:|#)/i.test(target))
        .filter((target) => !existsSync(join(root, dirname(readme), target.split('#')[0] ?? '')))
      expect(broken).toEqual([])
    })
  }
})

// A block that says it shows a file (`file=<path>`) shows it as it is now.
describe('README copies of repository files', () => {
  for (const readme of blocksByReadme.keys()) {
    const markdown = readFileSync(join(root, readme), 'utf8')
    for (const copy of extractFileCopies(readme, markdown)) {
      test(`${readme}:${copy.line} (${copy.path})`, () => {
        const file = join(root, dirname(readme), copy.path)
        expect(existsSync(file), `${copy.path} does not exist`).toBe(true)
        expect(`${copy.code}\n`).toBe(readFileSync(file, 'utf8'))
      })
    }
  }
})

function semaphore(slots: number) {
  let free = slots
  const waiting: (() => void)[] = []
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (free > 0) free--
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await task()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else free++
    }
  }
}
