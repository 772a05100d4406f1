/**
 * A worker process of @rony/gossip nodes for the gossip suite, driven over IPC:
 *
 *   node src/gossip/rony-node.ts
 *
 * `{ type: 'start', id, seeds, profile }` creates node `id` on 127.0.0.1 (UDP + TCP, an
 * ephemeral port) and starts it (its join through `seeds` runs in the background); it
 * answers `{ type: 'started', id, address }`. Every membership event of every node goes to
 * the parent as `{ type: 'event', node, member, state }`. `{ type: 'stats', req }` answers
 * the nodes' summed counters, `{ type: 'members', req }` each node's member list. The
 * process exits when the parent goes away (the IPC channel closes) or on SIGTERM.
 */
import { type GossipMembership, gossip } from '@rony/gossip'

type Request =
  | { type: 'start'; id: string; seeds: string[]; profile: 'lan' | 'local' }
  | { type: 'stats'; req: number }
  | { type: 'members'; req: number }

const nodes = new Map<string, GossipMembership>()
const send = (message: unknown): void => {
  if (process.connected) process.send?.(message)
}

async function start(id: string, seeds: string[], profile: 'lan' | 'local'): Promise<void> {
  const g = gossip({ id, bind: '127.0.0.1:0', seeds, profile })
  nodes.set(id, g)
  g.on('member:join', (m) => send({ type: 'event', node: id, member: m.id, state: 'alive' }))
  g.on('member:leave', (m, reason) =>
    send({
      type: 'event',
      node: id,
      member: m.id,
      state: reason === 'failed' ? 'failed' : 'left',
    }),
  )
  await g.start()
  send({ type: 'started', id, address: g.local.address })
}

process.on('message', (message: Request) => {
  switch (message.type) {
    case 'start':
      start(message.id, message.seeds, message.profile).catch((error: Error) =>
        send({ type: 'error', id: message.id, message: error.message }),
      )
      break
    case 'stats': {
      const sum = { bytesSent: 0, packetsSent: 0, probesFailed: 0 }
      for (const g of nodes.values()) {
        const s = g.stats()
        sum.bytesSent += s.bytesSent
        sum.packetsSent += s.packetsSent
        sum.probesFailed += s.probesFailed
      }
      send({ type: 'stats', req: message.req, ...sum })
      break
    }
    case 'members': {
      const members: Record<string, string[]> = {}
      for (const [id, g] of nodes)
        members[id] = g
          .members()
          .filter((m) => m.state === 'alive' || m.state === 'suspect')
          .map((m) => m.id)
      send({ type: 'members', req: message.req, members })
      break
    }
  }
})

let stopping = false
async function shutdown(): Promise<void> {
  if (stopping) return
  stopping = true
  const bound = setTimeout(() => process.exit(0), 3_000)
  await Promise.allSettled([...nodes.values()].map((g) => g.stop()))
  clearTimeout(bound)
  process.exit(0)
}
process.on('disconnect', () => void shutdown())
process.on('SIGTERM', () => void shutdown())
send({ type: 'ready' })
