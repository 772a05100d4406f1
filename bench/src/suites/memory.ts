import { execFileSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { constructorOf, decodeEnvelope, encodeEnvelope } from '@rony/envelope'
import { Echo } from '@rony/testing'
import type WebSocket from 'ws'
import {
  type GoalLine,
  goalLines,
  type LoadSuite,
  mib,
  openSocket,
  runPhase,
  type ServerProcess,
  type ServerStats,
  spawnServer,
} from '../load.ts'

/**
 * Server memory per idle WebSocket connection: a Rony edge (wsGateway) and a bare `ws`
 * server, each in its own Node process started with --expose-gc. The server's RSS is read
 * (after a full GC) once the code paths are warm and no client is connected, then again with
 * N connections open, each having done one Echo round trip and now idle.
 *
 * The GC before each reading is V8's memory-reducing one (what its memory reducer runs on an
 * idle process, and what it runs under memory pressure): it also gives back the young
 * generation and heap pages that the connection storm grew. A plain full GC keeps them, and
 * that charged 5–7 KiB of allocation-burst slack to each connection, for both servers alike
 * (10.5–13 KiB/conn instead of 5.5–6), varying from run to run.
 */

const TARGET = 5_000
const OPEN_CONCURRENCY = 64
const OPEN_MAX_MS = 60_000
const C_Echo = constructorOf('Echo')
const request = encodeEnvelope({
  ctor: C_Echo,
  requestId: 1n,
  message: Echo.encode({ Payload: new Uint8Array(64) }).finish(),
})
const anyEnvelope = (bytes: Uint8Array): boolean => {
  try {
    decodeEnvelope(bytes)
    return true
  } catch {
    return false
  }
}

/** The soft fd limit this process (and so its children) run with, if the shell tells. */
function fdLimit(): number | undefined {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()
    return out === 'unlimited' ? Number.POSITIVE_INFINITY : Number(out) || undefined
  } catch {
    return undefined
  }
}

interface Opened {
  sockets: WebSocket[]
  error?: string | undefined
}

/** Opens up to `count` sockets, `OPEN_CONCURRENCY` handshakes at a time; stops at the first failure or after `OPEN_MAX_MS`. */
async function openMany(url: string, count: number): Promise<Opened> {
  const sockets: WebSocket[] = []
  let error: string | undefined
  let next = 0
  const deadline = Date.now() + OPEN_MAX_MS
  const opener = async (): Promise<void> => {
    while (next < count && error === undefined) {
      if (Date.now() > deadline) {
        error ??= `stopped after ${OPEN_MAX_MS} ms`
        return
      }
      next++
      try {
        sockets.push(await openSocket(url, 10_000))
      } catch (e) {
        error ??= (e as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: OPEN_CONCURRENCY }, opener))
  return { sockets, error }
}

interface Measured {
  server: string
  target: number
  opened: number
  error?: string | undefined
  before: ServerStats
  after: ServerStats
}

async function measure(kind: 'rony' | 'raw', target: number): Promise<Measured> {
  let server: ServerProcess | undefined
  let sockets: WebSocket[] = []
  try {
    server = await spawnServer(kind, { exposeGc: true })
    // Warm the connection and request paths first, so lazily loaded code and JIT output
    // are in the baseline, not in the per-connection figure.
    const warm = await openMany(server.url, 16)
    await runPhase(
      warm.sockets,
      request,
      1,
      { count: warm.sockets.length, maxMs: 10_000 },
      anyEnvelope,
    )
    for (const socket of warm.sockets) socket.close()
    await sleep(500)
    await server.stats(true)
    const before = await server.stats(true)

    const opened = await openMany(server.url, target)
    sockets = opened.sockets
    // One round trip on every connection: the server has seen each of them, and whatever
    // it allocates on a first message is counted; then they sit idle.
    await runPhase(sockets, request, 1, { count: sockets.length, maxMs: 30_000 }, anyEnvelope)
    await sleep(1000)
    await server.stats(true)
    const after = await server.stats(true)
    return { server: kind, target, opened: sockets.length, error: opened.error, before, after }
  } finally {
    for (const socket of sockets) socket.terminate()
    await server?.stop()
  }
}

const kib = (bytes: number): string => (bytes / 1024).toFixed(2)

async function run(): Promise<string> {
  const limit = fdLimit()
  // Client and server each need one fd per connection plus their own handful.
  const target = limit === undefined ? TARGET : Math.max(0, Math.min(TARGET, limit - 256))
  const raw = await measure('raw', target)
  process.stderr.write(`  memory: raw ws, ${raw.opened} connections done\n`)
  const rony = await measure('rony', target)
  process.stderr.write(`  memory: rony, ${rony.opened} connections done\n`)

  const perConn = (m: Measured, field: keyof Omit<ServerStats, 'gc'>): number =>
    m.opened > 0 ? (m.after[field] - m.before[field]) / m.opened : Number.NaN
  const lines = [
    `### ${memorySuite.name}`,
    '',
    memorySuite.description,
    '',
    `fd limit (ulimit -n): ${limit ?? 'unknown'}; connections asked for: ${target}${target < TARGET ? ` (fewer than ${TARGET}: the fd limit)` : ''}.`,
    '',
    '| server | connections | RSS before (MiB) | RSS after (MiB) | RSS KiB / conn | heap KiB / conn | external KiB / conn | young gen before → after (MiB) | RSS / conn vs raw ws |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  const rawRss = perConn(raw, 'rss')
  for (const m of [raw, rony]) {
    const rss = perConn(m, 'rss')
    lines.push(
      `| ${m.server === 'raw' ? 'raw ws' : 'rony edge (wsGateway)'} | ${m.opened.toLocaleString('en-US')}${m.error ? ` (stopped: ${m.error})` : ''} | ${mib(m.before.rss)} | ${mib(m.after.rss)} | ${kib(rss)} | ${kib(perConn(m, 'heapUsed'))} | ${kib(perConn(m, 'external'))} | ${mib(m.before.newSpace)} → ${mib(m.after.newSpace)} | ${(rss / rawRss).toFixed(2)}× |`,
    )
  }
  const ronyKiB = perConn(rony, 'rss') / 1024
  const goals: GoalLine[] = [
    {
      text: `rony edge ≤ 10 KiB RSS per idle connection over its baseline (measured ${ronyKiB.toFixed(2)} KiB; raw ws ${(rawRss / 1024).toFixed(2)} KiB, so rony adds ${(ronyKiB - rawRss / 1024).toFixed(2)} KiB over raw ws)`,
      met: ronyKiB <= 10,
    },
  ]
  if (rony.opened < TARGET || raw.opened < TARGET) {
    goals.push({
      text: `all ${TARGET} connections opened (raw ws ${raw.opened}, rony ${rony.opened})`,
      met: false,
    })
  }
  lines.push('', ...goalLines(goals))
  return `${lines.join('\n')}\n`
}

export const memorySuite: LoadSuite = {
  kind: 'load',
  name: 'memory per idle connection: rony edge vs bare WebSocketServer',
  description: `Server RSS with ${TARGET.toLocaleString('en-US')} WebSocket connections open on 127.0.0.1 (each did one 64-byte Echo round trip, then idles), minus the RSS with none (after warm-up), both read right after a memory-reducing full GC in the server process (\`--expose-gc\`, \`gc({ flavor: 'last-resort' })\`: it also returns the young generation and heap pages the connection storm grew, as V8's memory reducer does on an idle server). One fresh server process per row; the clients are raw \`ws\` sockets in the bench process. Heap and external (Buffers) deltas per connection are from the server's \`process.memoryUsage()\`.`,
  run,
}
