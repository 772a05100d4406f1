import * as http from 'node:http'
import { constructorOf, decodeEnvelope, encodeEnvelope } from '@rony/envelope'
import { Echo } from '@rony/testing'
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
  type PhaseLimits,
  pairedRatios,
  ratioText,
  requestLoops,
  rowMedian,
  type ServerProcess,
  spawnServer,
} from '../load.ts'

/**
 * Unary RPC over HTTP/1.1 keep-alive: Rony's httpGateway (one binary Echo envelope POSTed,
 * the EchoReply envelope back) against a Fastify hello-world route and a bare node:http
 * server (GET, a small JSON body), each in its own Node process. The load client (this
 * process) is the same for all: node:http with a keep-alive Agent of N sockets and N
 * workers, each awaiting one response at a time.
 */

const SCRIPT = new URL('../servers/http-server.ts', import.meta.url).pathname
const C_Echo = constructorOf('Echo')
const C_EchoReply = constructorOf('EchoReply')
const payload = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)
const envelope = Buffer.from(
  encodeEnvelope({
    ctor: C_Echo,
    requestId: 0x1234n,
    message: Echo.encode({ Payload: payload }).finish(),
  }),
)

const RAW = 'raw node:http hello'
const RAW_ECHO = 'raw node:http POST echo'
const FASTIFY = 'fastify hello'
const RONY = 'rony httpGateway echo'
/** Fastify first: the baseline of the ratios. */
const SUBJECTS = [FASTIFY, RAW, RAW_ECHO, RONY]
/** What a subject's server answers: the constructor of its reply envelope, or none (GET). */
const REPLY_CTOR = new Map([
  [RAW_ECHO, C_Echo],
  [RONY, C_EchoReply],
])
const ROUNDS = 3

interface Shape {
  measure: string
  concurrency: number
  warmup: PhaseLimits
  limits: PhaseLimits
  /** Blocks per round in which the subjects take turns (see `interleavedRound`). */
  blocks: number
}

const SHAPES: Shape[] = [
  {
    measure: '1 concurrent',
    concurrency: 1,
    warmup: { count: 1_000, maxMs: 2_000 },
    limits: { count: 5_000, maxMs: 5_000 },
    blocks: 10,
  },
  {
    measure: '32 concurrent',
    concurrency: 32,
    warmup: { count: 5_000, maxMs: 2_000 },
    limits: { count: 30_000, maxMs: 8_000 },
    blocks: 6,
  },
  {
    measure: '128 concurrent',
    concurrency: 128,
    warmup: { count: 5_000, maxMs: 2_000 },
    limits: { count: 30_000, maxMs: 8_000 },
    blocks: 6,
  },
]

interface Target {
  port: number
  /** POST the Echo envelope and expect an envelope of this constructor back; else GET. */
  replyCtor: bigint | undefined
}

/** One request on `agent`; resolves with whether the answer is the expected one. Bounded by a socket timeout. */
function once(agent: http.Agent, target: Target): Promise<boolean> {
  const post = target.replyCtor !== undefined
  return new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port: target.port,
      path: '/',
      method: post ? 'POST' : 'GET',
      agent,
      headers: post
        ? { 'content-type': 'application/x-protobuf', 'content-length': envelope.length }
        : undefined,
    })
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')))
    req.on('error', () => resolve(false))
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', () => resolve(false))
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(false)
        if (!post) return resolve(true)
        try {
          resolve(decodeEnvelope(Buffer.concat(chunks)).ctor === target.replyCtor)
        } catch {
          resolve(false)
        }
      })
    })
    req.end(post ? envelope : undefined)
  })
}

/** `shape.concurrency` request loops on a keep-alive agent of as many sockets. */
async function openSession(
  server: ServerProcess,
  replyCtor: bigint | undefined,
  shape: Shape,
): Promise<LoadSession> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: shape.concurrency })
  const target = { port: server.port, replyCtor }
  return {
    server,
    phase: (limits) => requestLoops(shape.concurrency, limits, () => once(agent, target)),
    close: async () => agent.destroy(),
  }
}

async function run(): Promise<string> {
  const servers = new Map<string, ServerProcess>()
  try {
    const kinds = new Map([
      [FASTIFY, 'fastify'],
      [RAW, 'raw'],
      [RAW_ECHO, 'raw-echo'],
      [RONY, 'rony'],
    ])
    await Promise.all(
      [...kinds].map(async ([subject, kind]) =>
        servers.set(subject, await spawnServer(kind, { script: SCRIPT })),
      ),
    )
    const rows: LoadRow[] = []
    for (const shape of SHAPES) {
      rows.push(
        ...(await measureShape({
          ...shape,
          subjects: SUBJECTS,
          rounds: ROUNDS,
          open: (subject) =>
            openSession(servers.get(subject) as ServerProcess, REPLY_CTOR.get(subject), shape),
        })),
      )
      process.stderr.write(`  http: ${shape.measure} done\n`)
    }
    const goals: GoalLine[] = SHAPES.map((shape) => {
      const ratios = pairedRatios(
        findRow(rows, shape.measure, RONY),
        findRow(rows, shape.measure, FASTIFY),
        'msgPerSec',
      )
      return {
        text: `rony ${shape.measure} req/s ≥ 0.9× fastify hello world (median ${Math.round(rowMedian(findRow(rows, shape.measure, RONY), 'msgPerSec')).toLocaleString('en-US')} vs ${Math.round(rowMedian(findRow(rows, shape.measure, FASTIFY), 'msgPerSec')).toLocaleString('en-US')} req/s; paired ratio ${ratioText(ratios)})`,
        met: median(ratios) >= 0.9,
      }
    })
    goals.push(...incompleteRoundsGoal(rows))
    const lines = [
      `### ${httpSuite.name}`,
      '',
      httpSuite.description,
      '',
      ...loadTable(rows, FASTIFY),
      '',
      ...goalLines(goals),
    ]
    return `${lines.join('\n')}\n`
  } finally {
    await Promise.all([...servers.values()].map((server) => server.stop()))
  }
}

export const httpSuite: LoadSuite = {
  kind: 'load',
  name: 'http unary: rony httpGateway vs fastify hello world vs raw node:http',
  description:
    'HTTP/1.1 keep-alive on 127.0.0.1; each server a separate Node process; the load client (this process) is node:http with a keep-alive Agent of N sockets and N concurrent request loops (1, 32, 128). Rony: POST / of a binary Echo envelope (64-byte payload) through @rony/edge + httpGateway, answered with the EchoReply envelope. Fastify: a hello-world `GET /` route returning `{"hello":"world"}`; raw: the same from a bare node:http handler; raw POST echo: a bare node:http handler that reads the same POSTed envelope and writes it back (an RPC over POST with no framework and no decoding). Each shape: warm-up (1k–5k requests, ≤ 2 s), then 5k (1 concurrent, ≤ 5 s) or 30k requests (≤ 8 s); 3 rounds in rotated order, each in blocks (1 concurrent: 10 of 500 requests; 32 and 128: 6 of 5,000) in which the servers take turns; figures are medians of the rounds, ratios paired per round against fastify. The load client shares the machine, so absolute req/s are a floor for all of them alike.',
  run,
}
