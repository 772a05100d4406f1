// Runs README blocks (see markdown.ts) in child processes on the workspace's sources, each
// bounded in time; a block passes when its processes exit 0 by themselves.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ExampleBlock } from './markdown.ts'

export type Outcome = { ok: true } | { ok: false; reason: string }

/** How long one block (a server block: with everything that needs it) may take. */
export const BLOCK_TIMEOUT_MS = 30_000
/** How much of a failed block's output its failure shows, from the end. */
const OUTPUT_TAIL_CHARS = 4_000

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '../..')
const NODE_FLAGS = [
  // The workspace's sources use parameter properties, which type stripping alone refuses.
  '--experimental-transform-types',
  '--disable-warning=ExperimentalWarning',
  '--import',
  join(here, 'source-hooks.ts'),
  join(here, 'run-block.ts'),
]

/** Writes a README's blocks to `dir` (one directory per README), each as its `file`. */
export function writeBlocks(dir: string, blocks: readonly ExampleBlock[]): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
  const seen = new Set<string>()
  for (const block of blocks) {
    if (seen.has(block.file)) throw new Error(`${block.readme}: two blocks named ${block.file}`)
    seen.add(block.file)
    writeFileSync(join(dir, block.file), `${block.code}\n`)
  }
}

type Exit = { code: number | null; signal: NodeJS.Signals | null; output: string }

class BlockProcess {
  readonly exited: Promise<Exit>
  /** With `reportsReady`: true once the block's top level finished, false if it exited first. */
  readonly ready: Promise<boolean>
  readonly #child: ChildProcess
  #output = ''

  constructor(block: ExampleBlock, dir: string, args: string[], reportsReady: boolean) {
    const readmeDir = dirname(join(root, block.readme))
    this.#child = spawn(process.execPath, [...NODE_FLAGS, join(dir, block.file), ...args], {
      cwd: dir,
      env: {
        ...process.env,
        RONY_EXAMPLE_DIR: dir,
        RONY_EXAMPLE_BASE: resolve(readmeDir, block.base ?? '.'),
        ...(reportsReady ? { RONY_EXAMPLE_READY_FD: '3' } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe', reportsReady ? 'pipe' : 'ignore'],
    })
    const append = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS)
    }
    this.#child.stdout?.on('data', append)
    this.#child.stderr?.on('data', append)
    this.exited = new Promise((resolveExit) => {
      this.#child.once('close', (code, signal) =>
        resolveExit({ code, signal, output: this.#output }),
      )
    })
    const readyPipe = this.#child.stdio[3]
    this.ready = new Promise((resolveReady) => {
      readyPipe?.on('data', () => resolveReady(true))
      readyPipe?.on('error', () => {})
      void this.exited.then(() => resolveReady(false))
    })
  }

  kill(signal: NodeJS.Signals): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal)
  }
}

const describeExit = (exit: Exit, what: string) =>
  `${what} exited with ${exit.signal ?? `code ${exit.code}`}\n--- output (tail) ---\n${exit.output}`

/** Kills `processes` with SIGKILL once `deadline` passes; returns a canceller. */
function killAt(deadline: number, processes: readonly BlockProcess[], timedOut: () => void) {
  const timer = setTimeout(
    () => {
      timedOut()
      for (const p of processes) p.kill('SIGKILL')
    },
    Math.max(0, deadline - Date.now()),
  )
  return () => clearTimeout(timer)
}

/**
 * Runs a block to completion: it must exit 0 by itself. A block in several processes is a
 * cluster whose members keep serving each other: once every process has finished its top
 * level (or exited 0), those still running get SIGTERM, and may die of it.
 */
async function runBlock(
  block: ExampleBlock,
  dir: string,
  deadline: number,
  timeoutMs: number,
): Promise<Outcome> {
  const cluster = block.processes > 1
  const processes = Array.from(
    { length: block.processes },
    (_, i) => new BlockProcess(block, dir, cluster ? [String(i + 1)] : [], cluster),
  )
  let timedOut = false
  const cancel = killAt(deadline, processes, () => {
    timedOut = true
  })
  if (cluster) {
    const oneFailed = new Promise<void>((resolveFailed) => {
      for (const p of processes) void p.exited.then((exit) => exit.code !== 0 && resolveFailed())
    })
    await Promise.race([Promise.all(processes.map((p) => p.ready)), oneFailed])
    for (const p of processes) p.kill('SIGTERM')
  }
  const exits = await Promise.all(processes.map((p) => p.exited))
  const ready = await Promise.all(processes.map((p) => p.ready))
  cancel()
  const failures = exits.flatMap((exit, i) =>
    exit.code === 0 || (cluster && ready[i] && exit.signal === 'SIGTERM')
      ? []
      : [describeExit(exit, cluster ? `process ${i + 1}` : 'the block')],
  )
  if (failures.length === 0) return { ok: true }
  const prefix = timedOut ? `did not finish within ${timeoutMs} ms (killed)\n` : ''
  return { ok: false, reason: prefix + failures.join('\n\n') }
}

/**
 * Runs a server block, then (once its top level finished) the blocks that need it, one after
 * another; then stops the server with SIGTERM. The server passes if it exits 0 or dies of
 * that SIGTERM.
 */
async function runServer(
  server: ExampleBlock,
  dependents: readonly ExampleBlock[],
  dir: string,
  timeoutMs: number,
): Promise<Map<ExampleBlock, Outcome>> {
  const deadline = Date.now() + timeoutMs
  const outcomes = new Map<ExampleBlock, Outcome>()
  const serverProcess = new BlockProcess(server, dir, [], true)
  let timedOut = false
  const cancel = killAt(deadline, [serverProcess], () => {
    timedOut = true
  })
  if (await serverProcess.ready) {
    for (const block of dependents)
      outcomes.set(block, await runBlock(block, dir, deadline, timeoutMs))
    serverProcess.kill('SIGTERM')
  } else {
    for (const block of dependents) {
      outcomes.set(block, { ok: false, reason: `its server ${server.file} did not start` })
    }
  }
  const exit = await serverProcess.exited
  cancel()
  const stopped = outcomes.size === dependents.length && !timedOut
  if (stopped && (exit.code === 0 || exit.signal === 'SIGTERM')) outcomes.set(server, { ok: true })
  else {
    const why = timedOut
      ? `did not stop within ${timeoutMs} ms (killed)`
      : describeExit(exit, 'the server')
    outcomes.set(server, { ok: false, reason: why })
  }
  return outcomes
}

/**
 * Runs one unit of work, a plain block or a server block with its dependents (written to
 * `dir` by writeBlocks), within `timeoutMs`.
 */
export async function runUnit(
  head: ExampleBlock,
  dependents: readonly ExampleBlock[],
  dir: string,
  timeoutMs = BLOCK_TIMEOUT_MS,
): Promise<Map<ExampleBlock, Outcome>> {
  if (head.server) return runServer(head, dependents, dir, timeoutMs)
  return new Map([[head, await runBlock(head, dir, Date.now() + timeoutMs, timeoutMs)]])
}
