import { measureClient } from '../client-phase.ts'
import {
  findRow,
  type GoalLine,
  goalLines,
  incompleteRoundsGoal,
  type LoadRow,
  type LoadSuite,
  loadTable,
  median,
  mib,
  type PhaseLimits,
  pairedRatios,
  ratioText,
  roundOf,
  rowMedian,
  type ServerProcess,
  spawnServer,
} from '../load.ts'

/**
 * Rony over QUIC against Rony over WebSocket: the same edge and Echo handler behind
 * `quicGateway` and `wsGateway`, each server in its own Node process, driven by the same
 * `@rony/client` in this process (one libp2p stream vs one WebSocket). Serial RTT and
 * pipelined throughput, side by side in rotated order, ratios against ws per round.
 */

const QUIC_SERVER = new URL('../servers/quic-server.ts', import.meta.url).pathname

const WS = 'rony ws + @rony/client'
const QUIC = 'rony quic + @rony/client'
const ROUNDS = 3

interface Shape {
  measure: string
  /** Concurrent `request()` loops on one connection. */
  window: number
  warmup: PhaseLimits
  limits: PhaseLimits
}

const SHAPES: Shape[] = [
  {
    measure: 'serial, 1 conn',
    window: 1,
    warmup: { count: 1_000, maxMs: 5_000 },
    limits: { count: 10_000, maxMs: 10_000 },
  },
  {
    measure: 'pipelined, 1 conn × 64',
    window: 64,
    warmup: { count: 20_000, maxMs: 1_000 },
    limits: { count: 50_000, maxMs: 10_000 },
  },
  {
    measure: 'pipelined, 1 conn × 256',
    window: 256,
    warmup: { count: 20_000, maxMs: 1_000 },
    limits: { count: 50_000, maxMs: 10_000 },
  },
]

async function run(): Promise<string> {
  let ws: ServerProcess | undefined
  let quic: ServerProcess | undefined
  try {
    ;[ws, quic] = await Promise.all([
      spawnServer('rony'),
      spawnServer('rony', { script: QUIC_SERVER }),
    ])
    const urls = new Map([
      [WS, ws.url],
      [QUIC, `/ip4/127.0.0.1/udp/${quic.port}/quic-v1`],
    ])
    const servers = new Map([
      [WS, ws],
      [QUIC, quic],
    ])
    const rows: LoadRow[] = []
    for (const shape of SHAPES) {
      const byShape = new Map<string, LoadRow>()
      for (const subject of [WS, QUIC]) {
        const row: LoadRow = { measure: shape.measure, subject, rounds: [] }
        if (subject !== WS) row.compareTo = WS
        byShape.set(subject, row)
        rows.push(row)
      }
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? [WS, QUIC] : [QUIC, WS]
        for (const subject of order) {
          const server = servers.get(subject) as ServerProcess
          const phase = await measureClient(
            server,
            urls.get(subject) as string,
            shape.window,
            shape.warmup,
            shape.limits,
          )
          const row = byShape.get(subject) as LoadRow
          row.rounds.push(roundOf(phase))
          row.rss = (await server.stats()).rss
        }
      }
      process.stderr.write(`  quic: ${shape.measure} done\n`)
    }
    const serial = SHAPES[0] as Shape
    const lines = [
      `### ${quicSuite.name}`,
      '',
      quicSuite.description,
      '',
      ...loadTable(rows, 'ws'),
      '',
      `Server RSS after the run: ws ${mib((await ws.stats()).rss)} MiB, quic ${mib((await quic.stats()).rss)} MiB.`,
      '',
    ]
    const goals: GoalLine[] = []
    {
      const base = findRow(rows, serial.measure, WS)
      const subject = findRow(rows, serial.measure, QUIC)
      const ratios = pairedRatios(subject, base, 'p50Us')
      goals.push({
        text: `quic serial p50 ≤ 1.5× ws (median ${rowMedian(subject, 'p50Us').toFixed(1)} vs ${rowMedian(base, 'p50Us').toFixed(1)} µs; paired ratio ${ratioText(ratios)}, median ${median(ratios).toFixed(3)}×)`,
        met: median(ratios) <= 1.5,
      })
    }
    goals.push(...incompleteRoundsGoal(rows))
    lines.push(...goalLines(goals))
    return `${lines.join('\n')}\n`
  } finally {
    await Promise.all([ws?.stop(), quic?.stop()])
  }
}

export const quicSuite: LoadSuite = {
  kind: 'load',
  name: 'quic echo: rony quic vs rony ws',
  description:
    'Echo on 127.0.0.1, 64-byte payload, through the real `@rony/client`: QUIC (`quicGateway`, one libp2p stream, varint-framed envelopes) vs WebSocket (`wsGateway`). Each server is a separate Node process running the same edge and `registerTestServices`; the client is this process. Serial: 10k requests after 1k warm-up. Pipelined: N concurrent `request()` loops on one connection, 1 s warm-up, then 50k requests. Every phase capped at 10 s; 3 rounds in alternating order; medians of rounds, ratios the median (min–max) of per-round ratios against ws.',
  run,
}
