import { constructorOf, decodeEnvelope, encodeEnvelope } from '@rony/envelope'
import { Echo } from '@rony/testing'
import type WebSocket from 'ws'
import { CLIENT_PAYLOAD, openClientSession } from '../client-phase.ts'
import {
  findRow,
  type GoalLine,
  goalLines,
  incompleteRoundsGoal,
  type LoadRow,
  type LoadSession,
  type LoadSuite,
  loadTable,
  measureShape,
  median,
  mib,
  openSocket,
  type PhaseLimits,
  pairedRatios,
  ratioText,
  rowMedian,
  runPhase,
  type ServerProcess,
  spawnServer,
} from '../load.ts'

/**
 * Rony over WebSocket against the floor: a bare `ws` echo server. Both servers run in their
 * own Node process; the load client (this process) is the same for both: a raw `ws`
 * client sending the same encoded Echo request envelope (64-byte payload), one frame per
 * request, replies matched in order. From the raw server the echo of those bytes is the
 * reply; from Rony it is the EchoReply envelope. So the only difference is the server.
 * Then the real `@rony/client` against the same Rony edge, to show the client's overhead.
 */

const C_Echo = constructorOf('Echo')
const C_EchoReply = constructorOf('EchoReply')
const request = encodeEnvelope({
  ctor: C_Echo,
  requestId: 0x1234_5678n,
  message: Echo.encode({ Payload: CLIENT_PAYLOAD }).finish(),
})

/** Replies are checked the same way for both servers: decode the envelope, compare ctor. */
const replyOf = (ctor: bigint) => (bytes: Uint8Array) => {
  try {
    return decodeEnvelope(bytes).ctor === ctor
  } catch {
    return false
  }
}

const SERIAL_WARMUP: PhaseLimits = { count: 2_000, maxMs: 5_000 }
const SERIAL: PhaseLimits = { count: 20_000, maxMs: 10_000 }
const SERIAL_BLOCKS = 40
const PIPELINED_WARMUP: PhaseLimits = { count: 200_000, maxMs: 1_000 }
const PIPELINED: PhaseLimits = { count: 100_000, maxMs: 10_000 }

const RAW = 'raw ws'
const RONY = 'rony edge'
const RONY_CLIENT = 'rony edge + @rony/client'
const RONY_TYPED = 'rony edge + @rony/client, typed service call'
/** Rounds per case; each round runs every subject of a shape back to back, in rotated order. */
const ROUNDS = 5

interface Shape {
  measure: string
  connections: number
  window: number
  warmup: PhaseLimits
  limits: PhaseLimits
  /** Blocks per round in which the subjects take turns (see `interleavedRound`). */
  blocks: number
  subjects: string[]
}

const SHAPES: Shape[] = [
  {
    measure: 'serial, 1 conn',
    connections: 1,
    window: 1,
    warmup: SERIAL_WARMUP,
    limits: SERIAL,
    blocks: SERIAL_BLOCKS,
    subjects: [RAW, RONY, RONY_CLIENT, RONY_TYPED],
  },
  {
    measure: 'pipelined, 1 conn × 64',
    connections: 1,
    window: 64,
    warmup: PIPELINED_WARMUP,
    limits: PIPELINED,
    blocks: 1,
    subjects: [RAW, RONY],
  },
  {
    measure: 'pipelined, 1 conn × 256',
    connections: 1,
    window: 256,
    warmup: PIPELINED_WARMUP,
    limits: PIPELINED,
    blocks: 1,
    subjects: [RAW, RONY, RONY_CLIENT, RONY_TYPED],
  },
  {
    measure: 'pipelined, 8 conns × 64',
    connections: 8,
    window: 64,
    warmup: PIPELINED_WARMUP,
    limits: PIPELINED,
    blocks: 1,
    subjects: [RAW, RONY],
  },
]

/** `shape.connections` raw ws sockets to `server`, the same request on each. */
async function openSocketSession(
  server: ServerProcess,
  shape: Shape,
  replyCtor: bigint,
): Promise<LoadSession> {
  const sockets: WebSocket[] = []
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.terminate()
  }
  try {
    for (let i = 0; i < shape.connections; i++) sockets.push(await openSocket(server.url))
  } catch (error) {
    await close()
    throw error
  }
  const isReply = replyOf(replyCtor)
  return {
    server,
    phase: (limits) => runPhase(sockets, request, shape.window, limits, isReply),
    close,
  }
}

async function run(): Promise<string> {
  let raw: ServerProcess | undefined
  let rony: ServerProcess | undefined
  try {
    ;[raw, rony] = await Promise.all([spawnServer('raw'), spawnServer('rony')])
    // (Constants: the closures below see them narrowed.)
    const [rawServer, ronyServer] = [raw, rony]
    const idleRaw = (await raw.stats()).rss
    const idleRony = (await rony.stats()).rss
    const rows: LoadRow[] = []
    for (const shape of SHAPES) {
      rows.push(
        ...(await measureShape({
          ...shape,
          rounds: ROUNDS,
          open: (subject) =>
            subject === RAW
              ? openSocketSession(rawServer, shape, C_Echo)
              : subject === RONY
                ? openSocketSession(ronyServer, shape, C_EchoReply)
                : openClientSession(
                    ronyServer,
                    ronyServer.url,
                    shape.window,
                    subject === RONY_TYPED ? 'service' : 'request',
                  ),
        })),
      )
      process.stderr.write(`  ws: ${shape.measure} done\n`)
    }
    const finalRaw = (await raw.stats()).rss
    const finalRony = (await rony.stats()).rss
    const serial = SHAPES[0] as Shape
    const window256 = SHAPES[2] as Shape
    // The real client against the raw ws client, both on the same edge (paired per round).
    const clientSerial = pairedRatios(
      findRow(rows, serial.measure, RONY_CLIENT),
      findRow(rows, serial.measure, RONY),
      'p50Us',
    )
    const clientPipelined = pairedRatios(
      findRow(rows, window256.measure, RONY_CLIENT),
      findRow(rows, window256.measure, RONY),
      'msgPerSec',
    )
    // A typed service call against a plain request() of the same message (paired per round).
    const typedSerial = pairedRatios(
      findRow(rows, serial.measure, RONY_TYPED),
      findRow(rows, serial.measure, RONY_CLIENT),
      'p50Us',
    )
    const typedPipelined = pairedRatios(
      findRow(rows, window256.measure, RONY_TYPED),
      findRow(rows, window256.measure, RONY_CLIENT),
      'msgPerSec',
    )
    // What the call path costs the client process: the server's work is the same.
    const typedCpuSerial = pairedRatios(
      findRow(rows, serial.measure, RONY_TYPED),
      findRow(rows, serial.measure, RONY_CLIENT),
      'clientCpuUsPerMsg',
    )
    const typedCpuPipelined = pairedRatios(
      findRow(rows, window256.measure, RONY_TYPED),
      findRow(rows, window256.measure, RONY_CLIENT),
      'clientCpuUsPerMsg',
    )
    const lines = [
      `### ${wsSuite.name}`,
      '',
      wsSuite.description,
      '',
      ...loadTable(rows, RAW),
      '',
      `Server RSS: raw ws ${mib(idleRaw)} MiB idle → ${mib(finalRaw)} MiB after the run; rony edge ${mib(idleRony)} MiB idle → ${mib(finalRony)} MiB after the run.`,
      `@rony/client against the same edge, vs the raw ws client (paired per round): serial p50 ${ratioText(clientSerial)}; 1 conn × 256 msg/s ${ratioText(clientPipelined)}.`,
      `A typed service call (\`serviceClient(BenchEcho, client).echo\`) vs \`client.request\` of the same message (paired per round): serial p50 ${ratioText(typedSerial)}, client CPU per request ${ratioText(typedCpuSerial)}; 1 conn × 256 msg/s ${ratioText(typedPipelined)}, client CPU per request ${ratioText(typedCpuPipelined)}.`,
      '',
    ]
    const goals: GoalLine[] = []
    {
      const base = findRow(rows, serial.measure, RAW)
      const subject = findRow(rows, serial.measure, RONY)
      const ratios = pairedRatios(subject, base, 'p50Us')
      goals.push({
        text: `rony serial p50 ≤ 1.10× raw ws (median ${rowMedian(subject, 'p50Us').toFixed(1)} vs ${rowMedian(base, 'p50Us').toFixed(1)} µs; paired ratio ${ratioText(ratios)}, median ${median(ratios).toFixed(3)}×)`,
        met: median(ratios) <= 1.1,
      })
    }
    goals.push(
      {
        text: `@rony/client serial p50 ≤ 1.10× the raw ws client's against the same edge (paired ratio ${ratioText(clientSerial)}, median ${median(clientSerial).toFixed(3)}×)`,
        met: median(clientSerial) <= 1.1,
      },
      {
        text: `@rony/client 1 conn × 256 throughput ≥ 0.9× the raw ws client's against the same edge (paired ratio ${ratioText(clientPipelined)}, median ${median(clientPipelined).toFixed(3)}×)`,
        met: median(clientPipelined) >= 0.9,
      },
      {
        text: `a typed service call's serial p50 ≤ 1.02× a plain request()'s (paired ratio ${ratioText(typedSerial)}, median ${median(typedSerial).toFixed(3)}×)`,
        met: median(typedSerial) <= 1.02,
      },
      {
        text: `a typed service call's client CPU per request at 1 conn × 256 ≤ 1.02× a plain request()'s (paired ratio ${ratioText(typedCpuPipelined)}, median ${median(typedCpuPipelined).toFixed(3)}×; msg/s ${ratioText(typedPipelined)})`,
        met: median(typedCpuPipelined) <= 1.02,
      },
    )
    for (const shape of SHAPES.slice(1)) {
      const base = findRow(rows, shape.measure, RAW)
      const subject = findRow(rows, shape.measure, RONY)
      const ratios = pairedRatios(subject, base, 'msgPerSec')
      goals.push({
        text: `rony ${shape.measure} throughput ≥ 0.85× raw ws (median ${Math.round(rowMedian(subject, 'msgPerSec')).toLocaleString('en-US')} vs ${Math.round(rowMedian(base, 'msgPerSec')).toLocaleString('en-US')} msg/s; paired ratio ${ratioText(ratios)}, median ${median(ratios).toFixed(3)}×)`,
        met: median(ratios) >= 0.85,
      })
    }
    goals.push(...incompleteRoundsGoal(rows))
    lines.push(...goalLines(goals))
    return `${lines.join('\n')}\n`
  } finally {
    await Promise.all([raw?.stop(), rony?.stop()])
  }
}

export const wsSuite: LoadSuite = {
  kind: 'load',
  name: 'ws echo: rony edge vs raw ws',
  description:
    'Echo over WebSocket on 127.0.0.1, 64-byte payload; each server is a separate Node process, the load client (raw `ws`, one frame per request, the same encoded Echo envelope for both) is this process. Serial: 20k requests after 2k warm-up, in 40 blocks of 500 in which the subjects take turns (this shared machine drifts in speed over seconds by more than the differences measured). Pipelined: N requests kept in flight per connection, 1 s warm-up, then 100k requests. Every phase capped at 10 s. Each case runs 5 rounds, the subjects of one shape back to back in rotated order (serial: block by block); msg/s and latencies are medians of the rounds, ratios the median (min–max) of the per-round ratios. Server CPU µs/msg: user + system CPU time of the server process over the measured phase (`process.cpuUsage()`), per request; client CPU µs/msg: the same of this process (the load client). The rony edge runs `registerTestServices` (its Echo handler answers synchronously). `@rony/client` rows: the real client (on `ws`) against the same edge, 1 or 256 concurrent `request()` loops; the typed rows call `serviceClient(BenchEcho, client).echo` instead (`client.call` under the method id, `src/echo-service.ts`), the same message, answered by the same handler code. Ratios against the raw ws server in the same shape.',
  run,
}
