/**
 * Ports another process takes from the supervisor: between its pick of a free port and the
 * node's bind (at start, or before a restart on the same ports). The test plays that other
 * process: it holds the port the supervisor picked, or the one a stopped node had.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Client, createClient, serviceClient } from '@rony/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  freePort,
  PortTakenError,
  type Supervisor,
  startSupervisor,
} from '../src/cluster/supervisor.ts'
import { Cluster, type demo, Kv } from '../src/gen/playground.js'
import { driveRepl } from './repl-driver.ts'
import { viewUntil as pollView } from './views.ts'

const CALL = { timeout: 8_000 }
const HOST = '127.0.0.1'

const held: Server[] = []
const clients: Client[] = []
let dataDir: string

/** Listens on `port` (TCP, HOST) until the end of the file, as another process would. */
async function hold(port: number): Promise<void> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      // Another process (a parallel test file) got there first: taken all the same.
      error.code === 'EADDRINUSE' ? resolve() : reject(error),
    )
    server.listen(port, HOST, () => {
      held.push(server)
      resolve()
    })
  })
}

const portOf = (url: string): number => Number(new URL(url).port)

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'rony-ports-'))
})

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()))
  await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))))
  rmSync(dataDir, { recursive: true, force: true })
})

describe('free ports (basePort 0) taken by another process', { timeout: 90_000 }, () => {
  let supervisor: Supervisor
  let stolen: number
  const events: string[] = []
  /** Ends a REPL a failed test left running. */
  const stopRepl = new AbortController()

  beforeAll(async () => {
    let first = true
    // n1's page port is the first TCP port picked: taken right after the pick.
    const pickPort = async (host: string, udp: boolean): Promise<number> => {
      const port = await freePort(host, udp)
      if (udp || !first) return port
      first = false
      stolen = port
      await hold(port)
      return port
    }
    supervisor = await startSupervisor(
      { basePort: 0, dataDir: join(dataDir, 'free') },
      { pickPort },
    )
    supervisor.on('event', (kind, node) => events.push(`${kind} ${node}`))
  }, 60_000)

  afterAll(async () => {
    stopRepl.abort()
    await supervisor?.close()
  }, 20_000)

  it('at start: the node starts again on fresh ports, and the cluster comes up', async () => {
    await supervisor.ready({ timeout: 30_000 })
    const n1 = supervisor.nodes()[0]!
    expect(n1.process).toBe('running')
    expect(portOf(n1.http)).not.toBe(stolen)
    expect(supervisor.url).toBe(n1.http)
    const page = await fetch(supervisor.url)
    expect(page.status).toBe(200)
  })

  it('at restart: the node comes back on fresh ports; the others and clients learn them', async () => {
    const view = await viewUntil(supervisor, 'n1', (v) => v.Leader !== '', 10_000)
    const id = ['n2', 'n3'].find((node) => node !== view.Leader)!
    const before = supervisor.nodes().find((node) => node.id === id)!
    // A REPL that has talked to the node at its old address.
    const repl = await driveRepl(supervisor, stopRepl.signal)
    expect(await repl.send(`echo hi via ${id}`)).toMatch(new RegExp(`^"hi" from ${id}`))
    await supervisor.stop(id)
    await hold(portOf(before.http))

    const after = await supervisor.restart(id)
    expect(after.process).toBe('running')
    expect(after.ws).not.toBe(before.ws)
    expect(events).toContain(`moved ${id}`)
    // Another node's view lists its new gateway, and it is back in the Raft group.
    const observer = id === 'n2' ? 'n3' : 'n2'
    await viewUntil(
      supervisor,
      observer,
      (v) => {
        const row = v.Nodes.find((node) => node.ID === id)
        return row?.Role === 'follower' && (row.Gateways ?? []).includes(after.ws)
      },
      20_000,
    )
    // Through its new address: a write (forwarded to the leader) and a read.
    const moved = createClient(after.ws)
    clients.push(moved)
    await serviceClient(Kv, moved).put({ Key: 'moved', Value: id }, CALL)
    const got = await serviceClient(Kv, connect(supervisor, 'n1')).get({ Key: 'moved' }, CALL)
    expect(got.Value).toBe(id)
    // The REPL reaches it at its new address.
    expect(await repl.send(`get moved via ${id}`)).toContain(`moved = "${id}"`)
    await repl.close()
  })
})

describe('a free port taken by another cluster', { timeout: 90_000 }, () => {
  const supervisors: Supervisor[] = []

  afterAll(async () => {
    await Promise.all(supervisors.map((supervisor) => supervisor.close()))
  }, 20_000)

  it('a stale seed at a node of the other cluster: the clusters stay apart', async () => {
    // Another playground (another test file's) with its gossip port known.
    let otherGossip = 0
    const other = await startSupervisor(
      { nodes: 1, basePort: 0, dataDir: join(dataDir, 'other') },
      {
        pickPort: async (host, udp) => {
          const port = await freePort(host, udp)
          if (udp) otherGossip = port
          return port
        },
      },
    )
    supervisors.push(other)
    // This one picks that port for n1's gossip: n1 moves, but n2 starts with it as a seed.
    let first = true
    const pickPort = async (host: string, udp: boolean): Promise<number> => {
      if (!udp || !first) return freePort(host, udp)
      first = false
      return otherGossip
    }
    const apart = await startSupervisor(
      { nodes: 2, basePort: 0, dataDir: join(dataDir, 'apart') },
      { pickPort },
    )
    supervisors.push(apart)
    await apart.ready({ timeout: 30_000 })

    // The other cluster's node never saw a member of this one.
    const events = await serviceClient(Cluster, connect(other, 'n1')).events({}, CALL)
    expect(events.Events.filter((event) => event.Kind === 'joined')).toEqual([])
    const view = await serviceClient(Cluster, connect(apart, 'n2')).watch({ Watch: false }, CALL)
    expect(view.Nodes.find((node) => node.ID === 'n1')?.Gossip).toBe('alive')
  })
})

describe('ports the user chose (basePort) taken by another process', { timeout: 60_000 }, () => {
  it('fails with a PortTakenError that names the port and --port', async () => {
    const port = await freePort(HOST, false)
    await hold(port)
    const start = startSupervisor({ nodes: 1, basePort: port, dataDir: join(dataDir, 'fixed') })
    const error = await start.then(
      () => undefined,
      (failure: unknown) => failure,
    )
    expect(error).toBeInstanceOf(PortTakenError)
    expect(error).toMatchObject({ code: 'RONY_ERR_PORT_TAKEN', node: 'n1' })
    expect((error as Error).message).toMatch(/n1 cannot bind 127\.0\.0\.1:\d+: .*--port/)
  })
})

function connect(supervisor: Supervisor, id: string): Client {
  const client = createClient(supervisor.nodes().find((node) => node.id === id)!.ws)
  clients.push(client)
  return client
}

/** Polls `id`'s Cluster.Watch view until `done` holds, or fails after `timeout` ms. */
function viewUntil(
  supervisor: Supervisor,
  id: string,
  done: (view: demo.ClusterView) => boolean,
  timeout: number,
): Promise<demo.ClusterView> {
  return pollView(serviceClient(Cluster, connect(supervisor, id)), id, done, timeout, CALL)
}
