/**
 * The README's example, as written, in three processes started together over real TCP: the
 * text of n1 is run as is, and as n2 and n3 by swapping ids and addresses (each address on a
 * free port). Each process must print the value it wrote and read back. It runs the
 * package's build (`dist/`), as users do.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, it } from 'vitest'

const PACKAGE = fileURLToPath(new URL('..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'rony-raft-readme-'))
const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

/** The bodies of the README's ```ts blocks. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!)
}

/** The example as server `n<k>`: ids 1 and k swapped, addresses on `ports`. */
function asServer(example: string, k: number, ports: readonly number[]): string {
  const swap = (i: number): number => (i === 1 ? k : i === k ? 1 : i)
  return example.replace(/\bn([123])\b|127\.0\.0\.1:900([123])/g, (_, id, address) =>
    id !== undefined ? `n${swap(Number(id))}` : `127.0.0.1:${ports[swap(Number(address)) - 1]}`,
  )
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })

/** Runs one script; resolves with its output once it printed `line`, rejects if it exits first. */
function runUntil(file: string, line: string): Promise<string> {
  const child = fork(file, [], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  children.push(child)
  let out = ''
  let err = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${file}: no "${line}" in 20 s:\n${out}${err}`)),
      20_000,
    )
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk
      if (out.split('\n').includes(line)) {
        clearTimeout(timer)
        resolve(out)
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${file} exited (${code}) before printing "${line}":\n${out}${err}`))
    })
  })
}

it('the README example runs unchanged in three processes started together', async () => {
  const blocks = tsBlocks(readFileSync(join(PACKAGE, 'README.md'), 'utf8'))
  const example = blocks.find((b) => b.includes("from '@rony/raft'") && b.includes('bootstrap'))
  expect(example, 'the README has a TypeScript example that bootstraps a cluster').toBeDefined()
  for (const token of ["id: 'n1'", '127.0.0.1:9001', '127.0.0.1:9002', '127.0.0.1:9003']) {
    expect(example).toContain(token)
  }
  // Resolve '@rony/raft' from the scripts' directory to this package, as an install would.
  mkdirSync(join(dir, 'node_modules', '@rony'), { recursive: true })
  symlinkSync(PACKAGE, join(dir, 'node_modules', '@rony', 'raft'), 'dir')
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')

  const ports = [await freePort(), await freePort(), await freePort()]
  const files = [1, 2, 3].map((k) => {
    const file = join(dir, `n${k}.ts`)
    writeFileSync(file, asServer(example!, k, ports))
    return file
  })
  const outputs = await Promise.all(files.map((file) => runUntil(file, 'hello')))
  for (const out of outputs) expect(out).toMatch(/^leader n[123] term \d+$/m)
}, 30_000)
