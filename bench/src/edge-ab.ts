/**
 * A/B of the edge's round trip in one sitting: a bare `ws` echo server, a baseline build of
 * the edge and this tree's edge, each its own process, driven by the raw ws client, the
 * serial phases interleaved block by block (as the ws suite does), so a change is compared
 * under the same drift of this shared machine. The baseline is a copy of the repo's built
 * packages taken before the change (their node_modules links are relative):
 *
 *   # at the root, packages built, before the change:
 *   mkdir /tmp/base && cp -a packages bench /tmp/base/ && ln -s "$PWD/node_modules" /tmp/base/
 *   # after it (build again), in bench/:
 *   RONY_BENCH_BASELINE=/tmp/base node src/edge-ab.ts [rounds=5] [window=1]
 *
 * Prints per round the p50 (serial) or msg/s (window > 1) and the servers' CPU per request,
 * then the ratios' median (min–max). Differences under ~1% are below what 6 rounds resolve.
 */
import { constructorOf, decodeEnvelope, encodeEnvelope } from '@rony/envelope'
import { Echo } from '@rony/testing'
import { CLIENT_PAYLOAD } from './client-phase.ts'
import {
  interleavedRound,
  type LoadSession,
  median,
  openSocket,
  roundOf,
  runPhase,
  type ServerProcess,
  spawnServer,
} from './load.ts'

const rounds = Number(process.argv[2] ?? 5)
const window = Number(process.argv[3] ?? 1)
const baseline = process.env.RONY_BENCH_BASELINE
if (!baseline) throw new Error('RONY_BENCH_BASELINE=<a copy of the repo, built> is required')
const serial = window === 1
const request = encodeEnvelope({
  ctor: constructorOf('Echo'),
  requestId: 0x1234_5678n,
  message: Echo.encode({ Payload: CLIENT_PAYLOAD }).finish(),
})
const C_Echo = constructorOf('Echo')
const C_EchoReply = constructorOf('EchoReply')
const NAMES = ['raw', 'base', 'new']

const servers: ServerProcess[] = []
try {
  servers.push(await spawnServer('raw'))
  servers.push(await spawnServer('rony', { script: `${baseline}/bench/src/servers/ws-server.ts` }))
  servers.push(await spawnServer('rony'))
  const figures: { value: number; cpu: number }[][] = [[], [], []]
  for (let round = 0; round < rounds; round++) {
    const sessions: LoadSession[] = []
    try {
      for (const [i, server] of servers.entries()) {
        const socket = await openSocket(server.url)
        const ctor = i === 0 ? C_Echo : C_EchoReply
        const isReply = (bytes: Uint8Array): boolean => decodeEnvelope(bytes).ctor === ctor
        sessions.push({
          server,
          phase: (limits) => runPhase([socket], request, window, limits, isReply),
          close: async () => socket.terminate(),
        })
      }
      const phases = await interleavedRound(
        sessions,
        serial ? { count: 2_000, maxMs: 5_000 } : { count: 200_000, maxMs: 1_000 },
        serial ? { count: 20_000, maxMs: 10_000 } : { count: 100_000, maxMs: 10_000 },
        serial ? 40 : 1,
        round,
      )
      for (const [i, phase] of phases.entries()) {
        const r = roundOf(phase)
        figures[i]?.push({ value: serial ? r.p50Us : r.msgPerSec, cpu: r.cpuUsPerMsg })
      }
    } finally {
      for (const session of sessions) await session.close()
    }
    const last = figures.map((f) => f[round] as { value: number; cpu: number })
    console.log(
      `round ${round + 1}: ${last.map((f, i) => `${NAMES[i]} ${f.value.toFixed(1)} (CPU ${f.cpu.toFixed(1)} µs)`).join(', ')}`,
    )
  }
  const ratios = (a: number, b: number): string => {
    const rs = (figures[a] ?? []).map((f, k) => f.value / (figures[b]?.[k]?.value ?? Number.NaN))
    return `${median(rs).toFixed(3)} (${Math.min(...rs).toFixed(3)}–${Math.max(...rs).toFixed(3)})`
  }
  const cpu = (i: number): string => median((figures[i] ?? []).map((f) => f.cpu)).toFixed(2)
  console.log(
    `${serial ? 'p50' : 'msg/s'}: base/raw ${ratios(1, 0)}, new/raw ${ratios(2, 0)}, new/base ${ratios(2, 1)}`,
  )
  console.log(`server CPU µs/request: raw ${cpu(0)}, base ${cpu(1)}, new ${cpu(2)}`)
} finally {
  await Promise.all(servers.map((server) => server.stop()))
}
