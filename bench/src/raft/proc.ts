/**
 * Child processes of the Raft suite: Node processes driven over IPC (Rony servers, the etcd
 * load client, the echo peer, and `keeper.ts`, which runs each etcd member). Every child is
 * tracked until it exits and stopped by PID when the suite ends or fails (SIGTERM, then
 * SIGKILL), killed when this process exits, and exits by itself when the IPC channel closes,
 * so nothing outlives the benchmark even if this process is killed.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'

const live = new Set<ChildProcess>()

/** Process groups a child started (a keeper's `timeout` + etcd), killed with it. */
const groups = new Map<ChildProcess, number>()

function killHard(child: ChildProcess): void {
  const group = groups.get(child)
  if (group !== undefined) {
    try {
      process.kill(-group, 'SIGKILL')
    } catch {}
  }
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}

process.once('exit', () => {
  for (const child of live) killHard(child)
})

/**
 * While the suite runs, Ctrl-C and SIGTERM kill every child, run `cleanup` (synchronous)
 * and exit. Returns the function that removes the handlers again.
 */
export function guardSignals(cleanup: () => void): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    for (const child of live) killHard(child)
    try {
      cleanup()
    } catch {}
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

function exitedPromise(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  const exited = exitedPromise(child)
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      killHard(child)
      resolve()
    }, graceMs)
  })
  await Promise.race([exited, late])
  clearTimeout(timer)
  await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))])
}

function track(child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => {
    live.delete(child)
    groups.delete(child)
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A free TCP port on 127.0.0.1 (servers must know each other's address up front). */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** A Node child driven over IPC with `{ type, req }` requests and `{ type, req }` replies. */
export interface NodeChild {
  readonly name: string
  readonly pid: number
  /** The JSON line the child printed once ready. */
  readonly hello: Record<string, unknown>
  request<T>(message: { type: string } & Record<string, unknown>, timeoutMs: number): Promise<T>
  stop(graceMs?: number): Promise<void>
  readonly exited: Promise<void>
  /** The last lines of its stderr, when captured (`captureStderr`). */
  tail(): string
  /** It has not exited. */
  alive(): boolean
}

let reqSeq = 0

/**
 * Starts `node <script> ...args` and waits (≤ `readyMs`) for its first stdout line, a JSON
 * object. With RONY_BENCH_SERVER_PROF=<dir> in the environment and `profile`, the child runs
 * with --cpu-prof and writes its profile into <dir> when it stops.
 */
export async function spawnNode(
  name: string,
  script: string,
  args: string[],
  options: { readyMs?: number; profile?: boolean; captureStderr?: boolean } = {},
): Promise<NodeChild> {
  const execArgv: string[] = []
  const profDir = process.env.RONY_BENCH_SERVER_PROF
  if (profDir && options.profile) {
    execArgv.push(
      '--cpu-prof',
      `--cpu-prof-dir=${profDir}`,
      `--cpu-prof-name=raft-${name}-${Date.now()}.cpuprofile`,
    )
  }
  const child = spawn(process.execPath, [...execArgv, script, ...args], {
    stdio: ['ignore', 'pipe', options.captureStderr ? 'pipe' : 'inherit', 'ipc'],
  })
  track(child)
  const lines: string[] = []
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue
      lines.push(line)
      if (lines.length > 20) lines.shift()
    }
  })
  const exited = exitedPromise(child)
  const readyMs = options.readyMs ?? 15_000
  let hello: Record<string, unknown>
  try {
    hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let buffered = ''
      const timer = setTimeout(
        () => reject(new Error(`${name}: not ready within ${readyMs} ms`)),
        readyMs,
      )
      child.stdout?.setEncoding('utf8')
      const onData = (chunk: string): void => {
        buffered += chunk
        const newline = buffered.indexOf('\n')
        if (newline < 0) return
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        child.stdout?.resume()
        try {
          resolve(JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>)
        } catch (error) {
          reject(error)
        }
      }
      child.stdout?.on('data', onData)
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`${name} exited before it was ready (${code ?? signal})`))
      })
      child.once('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
    })
  } catch (error) {
    await stopChild(child, 1000)
    throw error
  }
  // A child that leads a process group of its own names it in its first line.
  if (typeof hello.pgid === 'number' && hello.pgid > 0) groups.set(child, hello.pgid)

  const request = <T>(
    message: { type: string } & Record<string, unknown>,
    timeoutMs: number,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const req = ++reqSeq
      const cleanup = (): void => {
        clearTimeout(timer)
        child.off('message', onMessage)
        child.off('exit', onExit)
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`${name}: no answer to ${message.type} within ${timeoutMs} ms`))
      }, timeoutMs)
      const onMessage = (reply: { type?: string; req?: number; message?: string }): void => {
        if (reply?.req !== req) return
        cleanup()
        if (reply.type === 'error') reject(new Error(`${name}: ${reply.message}`))
        else resolve(reply as T)
      }
      const onExit = (code: number | null, signal: string | null): void => {
        cleanup()
        reject(new Error(`${name} exited (${code ?? signal}) during ${message.type}`))
      }
      child.on('message', onMessage)
      child.once('exit', onExit)
      child.send({ ...message, req })
    })

  return {
    name,
    pid: child.pid ?? -1,
    hello,
    request,
    stop: (graceMs = 5000) => stopChild(child, graceMs),
    exited,
    tail: () => lines.join('\n'),
    alive: () => child.exitCode === null && child.signalCode === null,
  }
}
