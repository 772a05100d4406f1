/**
 * A worker process of @rony/gossip nodes for the gossip suites, driven over IPC:
 *
 *   node src/gossip/rony-node.ts
 *
 * `{ type: 'start', id, seeds, profile, report }` creates node `id` on 127.0.0.1 (UDP + TCP,
 * an ephemeral port; retried on EADDRINUSE, since UDP takes the port TCP got and another
 * socket may hold it) and starts it (its join through `seeds` runs in the background); it
 * answers `{ type: 'started', id, address }`. With `report: 'events'` every membership event
 * of the node goes to the parent as `{ type: 'event', node, member, state }`; with
 * `report: 'counts'` (large N, where N² events would swamp IPC) the process counts for its
 * nodes and sends, at most every 50 ms, `{ type: 'counts', counts: [node, alive others,
 * at][], failures: [node, member, state, at][] }`, timed here when the events happen.
 * `{ type: 'stats', req }` answers the nodes' summed counters and the process's V8 heap in
 * use, `{ type: 'members', req }` each node's member list, `{ type: 'sizes', req }` its
 * length per node. The process exits when the parent goes away (the IPC channel closes) or
 * on SIGTERM.
 */
import { type GossipMembership, gossip } from '@rony/gossip'

type Report = 'events' | 'counts'
type Request =
  | { type: 'start'; id: string; seeds: string[]; profile: 'lan' | 'local'; report?: Report }
  | { type: 'stats'; req: number }
  | { type: 'members'; req: number }
  | { type: 'sizes'; req: number }

const isLive = (m: { state: string }): boolean => m.state === 'alive' || m.state === 'suspect'
const START_ATTEMPTS = 5
const FLUSH_MS = 50

const nodes = new Map<string, GossipMembership>()
const send = (message: unknown): void => {
  if (process.connected) process.send?.(message)
}

/** Counts mode: alive others per node, the nodes changed since the last flush, failures. */
const alive = new Map<string, number>()
const changed = new Map<string, number>()
let failures: [string, string, string, number][] = []
let scheduled = false

function flush(): void {
  scheduled = false
  const counts = [...changed].map(([node, at]) => [node, alive.get(node) ?? 0, at])
  send({ type: 'counts', counts, failures })
  changed.clear()
  failures = []
}

function counted(node: string, delta: number, failed?: [string, string]): void {
  const at = Date.now()
  alive.set(node, (alive.get(node) ?? 0) + delta)
  changed.set(node, at)
  if (failed) failures.push([node, failed[0], failed[1], at])
  if (scheduled) return
  scheduled = true
  setTimeout(flush, FLUSH_MS)
}

/** Whether `error` or one of its causes is an EADDRINUSE. */
function addressInUse(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' || e.message.includes('EADDRINUSE')) {
      return true
    }
  }
  return false
}

function listen(g: GossipMembership, id: string, report: Report): void {
  if (report === 'counts') {
    // member:join and member:leave alternate per member (join on a new or returning record).
    g.on('member:join', () => counted(id, 1))
    g.on('member:leave', (m, reason) => counted(id, -1, [m.id, reason]))
    return
  }
  g.on('member:join', (m) => send({ type: 'event', node: id, member: m.id, state: 'alive' }))
  g.on('member:leave', (m, reason) =>
    send({
      type: 'event',
      node: id,
      member: m.id,
      state: reason === 'failed' ? 'failed' : 'left',
    }),
  )
}

async function start(
  id: string,
  seeds: string[],
  profile: 'lan' | 'local',
  report: Report,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const g = gossip({ id, bind: '127.0.0.1:0', seeds, profile })
    listen(g, id, report)
    try {
      await g.start()
    } catch (error) {
      if (attempt < START_ATTEMPTS && addressInUse(error)) continue
      throw error
    }
    nodes.set(id, g)
    send({ type: 'started', id, address: g.local.address })
    return
  }
}

process.on('message', (message: Request) => {
  switch (message.type) {
    case 'start':
      start(message.id, message.seeds, message.profile, message.report ?? 'events').catch(
        (error: Error) => send({ type: 'error', id: message.id, message: error.message }),
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
      send({ type: 'stats', req: message.req, ...sum, heapUsed: process.memoryUsage().heapUsed })
      break
    }
    case 'members': {
      const members: Record<string, string[]> = {}
      for (const [id, g] of nodes)
        members[id] = g
          .members()
          .filter(isLive)
          .map((m) => m.id)
      send({ type: 'members', req: message.req, members })
      break
    }
    case 'sizes': {
      const sizes: Record<string, number> = {}
      for (const [id, g] of nodes) sizes[id] = g.members().filter(isLive).length
      send({ type: 'sizes', req: message.req, sizes })
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
