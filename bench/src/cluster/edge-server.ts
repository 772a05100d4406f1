/**
 * One clustered edge in its own process, for the cluster suite: a ws gateway on 127.0.0.1
 * (port 0), gossip over UDP, Raft over TCP with a durable data directory (fsync on), a
 * tunnel over TCP, `bootstrapExpect` founders; the suite's service (`messages.ts`) and the
 * test services' local `Echo`:
 *
 *   node src/cluster/edge-server.ts <config JSON>
 *
 * Prints one line `{"port":N}` once started. Over IPC: `{ type: 'state', req }` answers its
 * Raft role, leader, term and commit index; `{ type: 'stats', req }` its CPU time so far.
 * Exits on SIGTERM and when the parent goes away (IPC disconnect), after `stop()` (so
 * `--cpu-prof` can write).
 */
import { createEdge, silentLogger } from '@rony/edge'
import { wsGateway } from '@rony/gateway-ws'
import { gossip } from '@rony/gossip'
import { raft } from '@rony/raft'
import { registerTestServices } from '@rony/testing'
import { tunnel } from '@rony/transport'
import { counterService } from './service.ts'

export interface EdgeServerConfig {
  id: string
  gossipPort: number
  raftPort: number
  tunnelPort: number
  seeds: string[]
  dataDir: string
  bootstrapExpect: number
}

const config = JSON.parse(process.argv[2] ?? '{}') as EdgeServerConfig
const host = '127.0.0.1'
const service = counterService()
const edge = createEdge({
  id: config.id,
  gateways: [wsGateway({ host, port: 0 })],
  logger: silentLogger,
  limits: { maxInFlight: 4096 },
  cluster: {
    replicaSet: 1,
    membership: gossip({ bind: `${host}:${config.gossipPort}`, seeds: config.seeds }),
    consensus: raft({ bind: `${host}:${config.raftPort}`, dataDir: config.dataDir }),
    tunnel: tunnel({ bind: `${host}:${config.tunnelPort}` }),
    bootstrapExpect: config.bootstrapExpect,
    state: service.state,
  },
})
service.register(edge)
registerTestServices(edge)

interface Request {
  type?: string
  req?: number
}

process.on('message', (message: Request) => {
  if (message?.type === 'state') {
    const consensus = edge.cluster?.consensus
    process.send?.({
      type: 'state',
      req: message.req,
      role: consensus?.role,
      leaderId: consensus?.leaderId,
      term: consensus?.term ?? 0,
      commitIndex: consensus?.commitIndex ?? 0,
      voters: consensus?.configuration().filter((s) => s.suffrage === 'voter').length ?? 0,
    })
  } else if (message?.type === 'stats') {
    const cpu = process.cpuUsage()
    process.send?.({ type: 'stats', req: message.req, cpuUs: cpu.user + cpu.system })
  }
})

let exiting = false
function exit(): void {
  if (exiting) return
  exiting = true
  setTimeout(() => process.exit(0), 3000).unref()
  void edge.stop().finally(() => process.exit(0))
}
process.once('SIGTERM', exit)
process.once('SIGINT', exit)
process.on('disconnect', exit)

await edge.start()
const address = edge.addresses()[0]
if (address === undefined) throw new Error('the edge reports no address')
process.stdout.write(`${JSON.stringify({ port: Number(new URL(address).port) })}\n`)
