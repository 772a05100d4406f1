/**
 * `@rony/client` on its own, for profiling: one Rony edge (its own process), then rounds of
 * the raw ws client, of the real client's `request()` and of its typed service calls
 * (`serviceClient(BenchEcho, client).echo`) against it (`window` in flight, `count`
 * requests each), with this process's CPU per request: the client's cost beyond the wire.
 *
 *   node --cpu-prof --cpu-prof-dir=profiles src/client-profile.ts [window=256] [count=100000]
 *
 * `RONY_BENCH_ONLY=raw|client|service` runs one of them, so a profile shows it alone.
 */
import { constructorOf, decodeEnvelope, encodeEnvelope } from '@rony/envelope'
import { Echo } from '@rony/testing'
import { CLIENT_PAYLOAD, openClientSession } from './client-phase.ts'
import {
  type LoadSession,
  openSocket,
  type PhaseResult,
  percentile,
  runPhase,
  spawnServer,
} from './load.ts'

const ROUNDS = 3
const window = Number(process.argv[2] ?? 256)
const limits = { count: Number(process.argv[3] ?? 100_000), maxMs: 10_000 }
const only = process.env.RONY_BENCH_ONLY
const C_EchoReply = constructorOf('EchoReply')
const request = encodeEnvelope({
  ctor: constructorOf('Echo'),
  requestId: 1n,
  message: Echo.encode({ Payload: CLIENT_PAYLOAD }).finish(),
})
const isReply = (bytes: Uint8Array): boolean => decodeEnvelope(bytes).ctor === C_EchoReply

/** One phase, with this process's user + system CPU per completed request. */
async function measured(name: string, phase: () => Promise<PhaseResult>): Promise<string> {
  const before = process.cpuUsage()
  const result = await phase()
  const cpu = process.cpuUsage(before)
  const n = Math.max(1, result.completed)
  const p50 = percentile(result.latenciesUs.slice().sort(), 50)
  const rate = Math.round((result.completed / result.elapsedMs) * 1000)
  return `${name} ${rate} msg/s, p50 ${p50.toFixed(1)} µs, CPU ${((cpu.user + cpu.system) / n).toFixed(2)} µs/msg`
}

const server = await spawnServer('rony')
const clients: LoadSession[] = []
try {
  const socket = await openSocket(server.url)
  const plain = await openClientSession(server, server.url, window, 'request')
  clients.push(plain)
  const typed = await openClientSession(server, server.url, window, 'service')
  clients.push(typed)
  for (let round = 0; round < ROUNDS; round++) {
    const lines = [`round ${round + 1}, ${window} in flight:`]
    if (!only || only === 'raw')
      lines.push(
        await measured('raw ws', () => runPhase([socket], request, window, limits, isReply)),
      )
    if (!only || only === 'client')
      lines.push(await measured('@rony/client request()', () => plain.phase(limits)))
    if (!only || only === 'service')
      lines.push(await measured('@rony/client typed call', () => typed.phase(limits)))
    console.log(lines.join('\n  '))
  }
  socket.terminate()
} finally {
  await Promise.all(clients.map((client) => client.close()))
  await server.stop()
}
