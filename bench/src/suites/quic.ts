import { openClientSession } from '../client-phase.ts'
import {
  findRow,
  type GoalLine,
  goalLines,
  incompleteRoundsGoal,
  type LoadRow,
  type LoadSuite,
  loadTable,
  measureShape,
  median,
  mib,
  type PhaseLimits,
  pairedRatios,
  ratioText,
  rowMedian,
  type ServerProcess,
  spawnServer,
} from '../load.ts'
import { openBareQuicSession } from '../quic-bare-client.ts'

/**
 * Rony over QUIC against Rony over WebSocket: the same edge and Echo handler behind
 * `quicGateway` and `wsGateway`, each server in its own Node process, driven by the same
 * `@rony/client` in this process (one libp2p stream vs one WebSocket). Serial RTT and
 * pipelined throughput, side by side in rotated order, ratios against ws per round.
 */

const QUIC_SERVER = new URL('../servers/quic-server.ts', import.meta.url).pathname

const WS = 'rony ws + @rony/client'
const QUIC = 'rony quic + @rony/client'
const BARE = 'bare libp2p-quic echo, libp2p client (no Rony)'
const SUBJECTS = [WS, QUIC, BARE]
const ROUNDS = 3

interface Shape {
  measure: string
  /** Concurrent `request()` loops on one connection. */
  window: number
  warmup: PhaseLimits
  limits: PhaseLimits
  /** Blocks per round in which the subjects take turns (see `interleavedRound`). */
  blocks: number
}

const SHAPES: Shape[] = [
  {
    measure: 'serial, 1 conn',
    window: 1,
    warmup: { count: 1_000, maxMs: 5_000 },
    limits: { count: 10_000, maxMs: 10_000 },
    blocks: 20,
  },
  {
    measure: 'pipelined, 1 conn × 64',
    window: 64,
    warmup: { count: 20_000, maxMs: 1_000 },
    limits: { count: 50_000, maxMs: 10_000 },
    blocks: 1,
  },
  {
    measure: 'pipelined, 1 conn × 256',
    window: 256,
    warmup: { count: 20_000, maxMs: 1_000 },
    limits: { count: 50_000, maxMs: 10_000 },
    blocks: 1,
  },
]

/** Rony's serial QUIC round trip against libp2p-quic's own, and that floor against ws. */
function floorLine(rows: LoadRow[], serial: Shape): string {
  const ws = findRow(rows, serial.measure, WS)
  const quic = findRow(rows, serial.measure, QUIC)
  const bare = findRow(rows, serial.measure, BARE)
  const overFloor = pairedRatios(quic, bare, 'p50Us')
  const floorOverWs = pairedRatios(bare, ws, 'p50Us')
  return `Serial p50, paired per round: rony quic + @rony/client vs the bare libp2p-quic echo ${ratioText(overFloor)}; the bare libp2p-quic echo vs rony ws + @rony/client ${ratioText(floorOverWs)}.`
}

async function run(): Promise<string> {
  let ws: ServerProcess | undefined
  let quic: ServerProcess | undefined
  let bare: ServerProcess | undefined
  try {
    ;[ws, quic, bare] = await Promise.all([
      spawnServer('rony'),
      spawnServer('rony', { script: QUIC_SERVER }),
      spawnServer('bare', { script: QUIC_SERVER }),
    ])
    const quicAddress = (server: ServerProcess): string =>
      `/ip4/127.0.0.1/udp/${server.port}/quic-v1`
    const urls = new Map([
      [WS, ws.url],
      [QUIC, quicAddress(quic)],
      [BARE, quicAddress(bare)],
    ])
    const servers = new Map([
      [WS, ws],
      [QUIC, quic],
      [BARE, bare],
    ])
    const rows: LoadRow[] = []
    for (const shape of SHAPES) {
      rows.push(
        ...(await measureShape({
          ...shape,
          subjects: SUBJECTS,
          rounds: ROUNDS,
          open: (subject) => {
            const open = subject === BARE ? openBareQuicSession : openClientSession
            return open(
              servers.get(subject) as ServerProcess,
              urls.get(subject) as string,
              shape.window,
            )
          },
        })),
      )
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
      floorLine(rows, serial),
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
    await Promise.all([ws?.stop(), quic?.stop(), bare?.stop()])
  }
}

export const quicSuite: LoadSuite = {
  kind: 'load',
  name: 'quic echo: rony quic vs rony ws',
  description:
    'Echo on 127.0.0.1, 64-byte payload, through the real `@rony/client`: QUIC (`quicGateway`, one libp2p stream, varint-framed envelopes) vs WebSocket (`wsGateway`). Each server is a separate Node process running the same edge and `registerTestServices`; the client is this process. The floor: a bare libp2p node with the same QUIC transport echoing each chunk of its stream, driven by a plain libp2p client sending the same framed envelope (`src/quic-bare-client.ts`), no Rony on either side. Serial: 10k requests after 1k warm-up, in 20 blocks of 500 in which the subjects take turns. Pipelined: N concurrent `request()` loops on one connection, 1 s warm-up, then 50k requests. Every phase capped at 10 s; 3 rounds in rotated order (serial: block by block); medians of rounds, ratios the median (min–max) of per-round ratios against ws.',
  run,
}
