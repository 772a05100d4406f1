import { spawnServer, openSocket, runPhase } from '/work/main/bench/src/load.ts'
import { constructorOf, encodeEnvelope } from '@rony/envelope'
import { Echo } from '@rony/testing'
const request = encodeEnvelope({ ctor: constructorOf('Echo'), requestId: 1n, message: Echo.encode({ Payload: new Uint8Array(64) }).finish() })
const res: Record<string, number[]> = {}
for (let round = 0; round < 4; round++) {
  for (const kind of ['raw', 'rony'] as const) {
    const server = await spawnServer(kind)
    const s = await openSocket(server.url)
    await runPhase([s], request, 1, { count: 3000, maxMs: 10000 }, () => true)
    const r = await runPhase([s], request, 1, { count: 20000, maxMs: 20000 }, () => true)
    const l = Array.from(r.latenciesUs).sort((a, b) => a - b)
    ;(res[kind] ??= []).push(l[l.length >> 1]!)
    s.terminate(); await server.stop()
  }
}
const ratios = res.rony!.map((v, i) => v / res.raw![i]!)
console.log(process.env.NOCORK ? 'nocork' : 'cork', 'raw', res.raw!.map(v => v.toFixed(1)).join(' '), 'rony', res.rony!.map(v => v.toFixed(1)).join(' '), 'ratios', ratios.map(v => v.toFixed(3)).join(' '))
process.exit(0)
