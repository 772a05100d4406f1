/**
 * One node of the playground: an edge process the supervisor starts (`node node.ts
 * '<NodeConfig JSON>'`, with an IPC channel). It serves the page, the HTTP gateway (`POST /`)
 * and the WebSocket gateway (`/ws`) on one port, joins gossip (UDP + TCP), Raft (TCP, its
 * data directory) and the tunnel (TCP), all three through an isolation switch the
 * supervisor flips, and runs the four services of proto/demo/playground.proto.
 *
 * It reports its Raft state to the supervisor on every change and every REPORT_MS, and
 * receives the table of all nodes back. It exits when the supervisor goes away (the IPC
 * channel closes), so no node outlives it.
 */
import { createServer } from 'node:http'
import type { ClusterMember } from '@rony/edge'
import { createEdge } from '@rony/edge'
import { RonyError } from '@rony/envelope'
import { httpGateway } from '@rony/gateway-http'
import { wsGateway } from '@rony/gateway-ws'
import { gossip, Keyring } from '@rony/gossip'
import { type RaftNode, raft, raftStreamTransport } from '@rony/raft'
import { isolation, tcpTransport, tunnel, udpTransport } from '@rony/transport'
import Fastify from 'fastify'
import {
  type ClusterEventInfo,
  type ControlAction,
  type NodeConfig,
  type NodeMessage,
  PORT_TAKEN_EXIT,
  type RaftReport,
  type SupervisorMessage,
} from './ipc.ts'
import { pageHandler } from './page.ts'
import { registerServices } from './services.ts'
import { PlaygroundState } from './state.ts'
import { ClusterWatch } from './watch.ts'

/** How often a node reports its Raft state even when nothing changed, in ms. */
export const REPORT_MS = 500
/** Applied entries between two Raft snapshots: low, so the playground shows them. */
export const SNAPSHOT_EVERY = 200
/**
 * Raft's minimum election timeout and heartbeat period, in ms (etcd's defaults; raft's own
 * are 150 and 50). A leader's heartbeats wait for its Ready in progress (its WAL fsync, the
 * apply), and a follower answers only after its own: on a loaded machine (the playground
 * runs every node and the supervisor on the same few cores) those stall for 200–500 ms, and
 * a 150 ms timeout then deposes a healthy leader, typically while a restarted node loads.
 */
const ELECTION_TIMEOUT_MS = 1000
const HEARTBEAT_MS = 100
/** How long a control request waits for the supervisor, in ms. */
const CONTROL_TIMEOUT_MS = 20_000

const config = JSON.parse(process.argv[2] ?? '') as NodeConfig
const { id, host } = config
const send = (message: NodeMessage): void => {
  if (process.connected) process.send?.(message)
}
// No supervisor, no node: nothing may outlive the process that owns it.
process.on('disconnect', () => process.exit(0))
if (!process.connected) process.exit(1)

const cut = isolation()
const at = (port: number): string => `${host}:${port}`
const state = new PlaygroundState()
const startedAt = Date.now()

const page = pageHandler(config.publicDir, config.pageScript)
const app = Fastify({
  serverFactory: (handler) =>
    createServer((req, res) => {
      if (!page(req, res)) handler(req, res)
    }),
})
const edge = createEdge({
  id,
  gateways: [
    httpGateway({ fastify: app, prefix: '/' }),
    wsGateway({ server: app.server, path: '/ws' }),
  ],
  cluster: {
    replicaSet: 1,
    membership: gossip({
      profile: 'local',
      seeds: config.seeds,
      keyring: new Keyring([Buffer.from(config.gossipKey, 'base64')]),
      transport: {
        packet: cut.packet(udpTransport({ bind: at(config.gossipPort), maxPacketSize: 60_000 })),
        stream: cut.stream(tcpTransport({ bind: at(config.gossipPort) })),
      },
    }),
    consensus: raft({
      dataDir: config.dataDir,
      snapshotThreshold: SNAPSHOT_EVERY,
      electionTimeout: ELECTION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_MS,
      transport: raftStreamTransport({
        id,
        streams: cut.stream(tcpTransport({ bind: at(config.raftPort) })),
      }),
    }),
    tunnel: tunnel({ transport: cut.stream(tcpTransport({ bind: at(config.tunnelPort) })) }),
    bootstrapExpect: config.bootstrapExpect,
    state,
  },
})

/** The Raft node the edge runs (raft() builds a RaftNode); undefined while stopped. */
const consensus = (): RaftNode | undefined => edge.cluster?.consensus as RaftNode | undefined
const applied = (): number => consensus()?.appliedIndex ?? 0
const leader = (): string => consensus()?.leaderId ?? ''
const raftReport = (): RaftReport => {
  const raftNode = consensus()
  return {
    role: raftNode?.role ?? 'none',
    term: raftNode?.term ?? 0,
    commit: raftNode?.commitIndex ?? 0,
    applied: applied(),
    leader: leader(),
    at: Date.now(),
  }
}

const watch = new ClusterWatch({
  id,
  raft: raftReport,
  gossip: (other) => edge.cluster?.member(other)?.state ?? 'unknown',
  leader,
})
/** An event every node shows: through the supervisor, which fans it out (and back here). */
const announce = (kind: string, text: string): void =>
  send({ type: 'event', event: { at: Date.now(), kind, node: id, text } })
state.onSnapshot = (bytes) =>
  announce('snapshot', `${id} took a snapshot (${bytes} bytes of state)`)

let nextRef = 1
const pending = new Map<number, { resolve(process: string): void; reject(error: Error): void }>()
const control = (action: ControlAction): Promise<string> =>
  new Promise((resolve, reject) => {
    const ref = nextRef++
    const timer = setTimeout(() => {
      pending.delete(ref)
      reject(
        new RonyError('E06', 'SUPERVISOR', `no answer to ${action.action} ${action.node} in time`),
      )
    }, CONTROL_TIMEOUT_MS)
    pending.set(ref, {
      resolve: (process) => {
        clearTimeout(timer)
        resolve(process)
      },
      reject: (error) => {
        clearTimeout(timer)
        reject(error)
      },
    })
    send({ type: 'control', ref, control: action })
  })

registerServices({ edge, state, watch, applied, leader, control, startedAt })

process.on('message', (message: SupervisorMessage) => {
  switch (message.type) {
    case 'table':
      watch.setTable(message.nodes)
      break
    case 'event':
      watch.event(message.event)
      break
    case 'isolate':
      cut.set(message.on)
      report()
      break
    case 'control:done': {
      const waiting = pending.get(message.ref)
      pending.delete(message.ref)
      if (message.error === undefined) waiting?.resolve(message.process)
      else waiting?.reject(new RonyError('E01', 'NODE', message.error))
      break
    }
  }
})

let lastReport = ''
function report(): void {
  const current = raftReport()
  const key = `${current.role}/${current.term}/${current.commit}/${current.applied}/${current.leader}`
  if (key !== lastReport) watch.changed()
  lastReport = key
  send({ type: 'raft', report: current })
}

const gossipEvent = (member: ClusterMember, previous: ClusterMember | undefined): void => {
  if (member.local || member.state === previous?.state) return
  const kinds: Record<string, [string, string]> = {
    alive: previous === undefined ? ['joined', 'joined'] : ['alive', 'is alive again'],
    suspect: ['suspect', 'is suspected'],
    dead: ['failed', 'failed'],
    left: ['left', 'left'],
  }
  const [kind, text] = kinds[member.state] ?? [member.state, member.state]
  const event: ClusterEventInfo = {
    at: Date.now(),
    kind,
    node: member.id,
    text: `${member.id} ${text} (as ${id} sees it)`,
  }
  watch.event(event)
}

try {
  await edge.start()
  await app.listen({ host, port: config.httpPort })
} catch (error) {
  const port = takenPort(error)
  if (port === undefined) throw error
  // Another process took a port between the supervisor's pick and this bind: say which,
  // so that the supervisor can pick others (or name it, for ports the user chose).
  console.error(`${id}: ${at(port)} is taken:`, error)
  await new Promise<void>((resolve) => {
    if (process.connected) process.send?.({ type: 'port-taken', port }, () => resolve())
    else resolve()
  })
  process.exit(PORT_TAKEN_EXIT)
}
edge.cluster?.on('cluster:member', gossipEvent)
const raftNode = consensus()
raftNode?.on('raft:role', (role) => {
  if (role === 'leader') announce('leader', `${id} was elected leader (term ${raftNode.term})`)
  report()
})
raftNode?.on('raft:leader', () => report())
setInterval(report, REPORT_MS).unref()
report()
send({ type: 'ready' })

// Ctrl-C in a terminal signals the whole process group: the supervisor decides (it stops
// the nodes itself), and if it dies instead, the IPC channel closes and so do the nodes.
process.on('SIGINT', () => {})
process.once('SIGTERM', () => {
  // A graceful stop that keeps the node's vote: it is coming back (Restart) with its data.
  void edge
    .stop({ leave: false, timeout: 2_000 })
    .then(() => app.close())
    .finally(() => process.exit(0))
})

/** The port of an EADDRINUSE somewhere in `error`'s causes, if that is what it is. */
function takenPort(error: unknown): number | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; depth++) {
    const { code, port } = cause as NodeJS.ErrnoException & { port?: unknown }
    if (code === 'EADDRINUSE' && typeof port === 'number') return port
    cause = cause.cause
  }
  return undefined
}
