// The README-examples runner itself: what passes, what fails, and that every failure mode is
// caught (an exit code, a hang, a server that never comes up).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { extractBlocks } from '../readme-examples/markdown.ts'
import { type Outcome, runUnit, writeBlocks } from '../readme-examples/run.ts'
import { typecheck } from '../readme-examples/typecheck.ts'

const fence = '```'
const tempRoot = mkdtempSync(join(tmpdir(), 'rony-readme-run-'))
afterAll(() => rmSync(tempRoot, { recursive: true, force: true }))

let runs = 0
/** Writes the blocks of `markdown` as if from packages/edge/README.md and runs the first. */
async function run(markdown: string, timeoutMs = 20_000) {
  const dir = join(tempRoot, String(runs++))
  const blocks = extractBlocks('packages/edge/README.md', markdown)
  writeBlocks(dir, blocks)
  const [head, ...rest] = blocks
  const outcomes = await runUnit(head!, rest, dir, timeoutMs)
  return { dir, outcomes: blocks.map((b) => outcomes.get(b)) }
}

const block = (info: string, ...lines: string[]) =>
  `${fence}ts ${info}\n${lines.join('\n')}\n${fence}\n`
const reasonOf = (outcome: Outcome | undefined) => (outcome?.ok === false ? outcome.reason : '')

describe('README example runner', { timeout: 60_000 }, () => {
  test('processes=3 starts three processes with argv[2] = 1, 2, 3, on the workspace sources', async () => {
    const { dir, outcomes } = await run(
      block(
        'processes=3',
        "import { writeFileSync } from 'node:fs'",
        "import { createEdge } from '@rony/edge'",
        "writeFileSync('argv-' + process.argv[2], import.meta.resolve('@rony/edge'))",
        'if (typeof createEdge !== "function") process.exit(3)',
      ),
    )
    expect(outcomes).toEqual([{ ok: true }])
    for (const i of [1, 2, 3]) {
      expect(readFileSync(join(dir, `argv-${i}`), 'utf8')).toMatch(
        /\/packages\/edge\/src\/index\.ts$/,
      )
    }
  })

  test('processes=N: members that keep serving are stopped once every top level finished', async () => {
    const { outcomes } = await run(
      block(
        'processes=3',
        "import { createServer } from 'node:net'",
        "const server = createServer().listen(0, '127.0.0.1') // keeps the process alive",
        "await new Promise((resolve) => server.once('listening', resolve))",
      ),
    )
    expect(outcomes).toEqual([{ ok: true }])
  })

  test('processes=N: one member failing fails the block without waiting for the others', async () => {
    const { outcomes } = await run(
      block(
        'processes=3',
        "if (process.argv[2] === '2') throw new Error('member 2 failed')",
        'await new Promise(() => setInterval(() => {}, 1_000)) // never finishes',
      ),
      60_000,
    )
    expect(reasonOf(outcomes[0])).toMatch(/process 2 exited with code 1[\s\S]*member 2 failed/)
    expect(reasonOf(outcomes[0])).not.toMatch(/did not finish/)
  })

  test('a block that throws fails with its output', async () => {
    const { outcomes } = await run(block('', "throw new Error('boom from the block')"))
    expect(reasonOf(outcomes[0])).toMatch(/exited with code 1[\s\S]*boom from the block/)
  })

  test('a block that does not exit by itself is killed and fails', async () => {
    const { outcomes } = await run(block('', 'setInterval(() => {}, 1_000)'), 2_000)
    expect(reasonOf(outcomes[0])).toMatch(/did not finish within 2000 ms/)
  })

  test('a server stays up while the blocks that need it run, then stops on SIGTERM', async () => {
    const { dir, outcomes } = await run(
      block(
        'server',
        '// server.ts',
        "import { writeFileSync } from 'node:fs'",
        "import { createServer, type AddressInfo } from 'node:net'",
        "const server = createServer((socket) => socket.end('hello')).listen(0, '127.0.0.1')",
        "await new Promise((resolve) => server.once('listening', resolve))",
        "writeFileSync('port', String((server.address() as AddressInfo).port))",
        "process.once('SIGTERM', () => { writeFileSync('stopped', ''); server.close() })",
      ) +
        block(
          'needs=server.ts',
          "import { readFileSync } from 'node:fs'",
          "import { connect } from 'node:net'",
          "const socket = connect(Number(readFileSync('port', 'utf8')), '127.0.0.1')",
          'let text = ""',
          'for await (const chunk of socket) text += chunk',
          "if (text !== 'hello') throw new Error(text)",
        ) +
        block('needs=server.ts', 'process.exit(4)'),
    )
    expect(outcomes[0]).toEqual({ ok: true })
    expect(outcomes[1]).toEqual({ ok: true })
    expect(reasonOf(outcomes[2])).toMatch(/exited with code 4/)
    expect(existsSync(join(dir, 'stopped'))).toBe(true)
  })

  test('a server that fails before it is up fails, and so do the blocks that need it', async () => {
    const { outcomes } = await run(
      block('server', '// server.ts', "throw new Error('no port')") +
        block('needs=server.ts', 'console.log("never runs")'),
    )
    expect(reasonOf(outcomes[0])).toMatch(/no port/)
    expect(reasonOf(outcomes[1])).toMatch(/its server server.ts did not start/)
  })

  test('the type check reports a block that does not compile, resolving its siblings', async () => {
    const { dir } = await run(
      block('', '// lib.ts', 'export const n: number = 1') +
        block('', "import { n } from './lib.js'", 'const s: string = n'),
    )
    const base = join(dir, '..')
    const diagnostics = typecheck([
      { path: join(dir, 'lib.ts'), base },
      { path: join(dir, 'line-5.ts'), base },
    ])
    expect(diagnostics).toEqual([
      expect.stringMatching(/line-5\.ts:2:7: Type 'number' is not assignable to type 'string'/),
    ])
  })
})
