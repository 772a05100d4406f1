/**
 * The process side of every bench server (`ws-server.ts`, `http-server.ts`,
 * `quic-server.ts`): picks the server kind from argv, starts it, prints one line
 * `{"port":N}` on stdout once ready, answers `{ type: 'stats', gc }` over the IPC channel
 * with memory and CPU figures, and exits on SIGTERM/SIGINT and on its own when the parent
 * goes away (IPC disconnect), so it never outlives the benchmark. A normal exit also lets
 * `--cpu-prof` write its profile.
 */
import v8 from 'node:v8'

/** A started server. */
export interface Running {
  port: number
  stop(): Promise<void>
}

let running: Running | undefined
let exiting = false

async function exit(code: number): Promise<void> {
  if (exiting) return
  exiting = true
  // Bounded: a stop that hangs must not keep the process alive.
  const hardStop = setTimeout(() => process.exit(code), 3000)
  hardStop.unref()
  try {
    await running?.stop()
  } catch {
    // exiting anyway
  }
  process.exit(code)
}

const gc = (globalThis as { gc?: (options?: object) => void }).gc

function answerStats(message: { type?: string; gc?: boolean }): void {
  if (message?.type !== 'stats') return
  const collected = Boolean(message.gc && gc)
  if (collected) {
    // 'last-resort' is V8's memory-reducing GC: a plain one keeps the young generation and
    // heap pages an allocation burst grew, which is slack, not memory anything holds.
    gc!({ type: 'major', execution: 'sync', flavor: 'last-resort' })
  }
  const usage = process.memoryUsage()
  const cpu = process.cpuUsage()
  process.send?.({
    type: 'stats',
    cpuUs: cpu.user + cpu.system,
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    newSpace:
      v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ??
      0,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    gc: collected,
  })
}

/**
 * Runs the server `process.argv[2]` names, one of `kinds` (each loads only its own
 * modules, so a baseline server's RSS carries no Rony code).
 */
export async function serve(
  script: string,
  kinds: Record<string, () => Promise<Running>>,
): Promise<void> {
  process.once('SIGTERM', () => void exit(0))
  process.once('SIGINT', () => void exit(0))
  process.on('disconnect', () => void exit(0))
  process.on('message', answerStats)
  const kind = process.argv[2] ?? ''
  try {
    const start = kinds[kind]
    if (start === undefined) {
      throw new Error(`usage: ${script} ${Object.keys(kinds).join('|')} (got ${kind})`)
    }
    running = await start()
    process.stdout.write(`${JSON.stringify({ port: running.port })}\n`)
  } catch (error) {
    console.error(error)
    await exit(1)
  }
}
