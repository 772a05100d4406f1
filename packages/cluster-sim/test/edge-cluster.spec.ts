import { createEdge, type Edge, type MemoryGateway, memoryGateway, silentLogger } from '@rony/edge'
import { C_Edges, C_GetAllNodes, decodeEnvelope, encodeEnvelope, rony } from '@rony/envelope'
import { gossip } from '@rony/gossip'
import type { MemberState } from '@rony/interface'
import { type MemoryNetwork, seededRandom, type VirtualClock } from '@rony/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { addr, SIM_TIMEOUT_MS, simNetwork } from './network.js'

interface Node {
  id: string
  edge: Edge
  gateway: MemoryGateway
}

/**
 * Whole edges (memory gateways) on real gossip, given as a factory the edge completes with
 * its id, over the memory network with a virtual clock.
 */
class Sim {
  readonly clock: VirtualClock
  readonly net: MemoryNetwork
  readonly nodes = new Map<string, Node>()

  constructor(private readonly seed: number) {
    const { clock, net } = simNetwork(seed)
    this.clock = clock
    this.net = net
  }

  async spawn(id: string, replicaSet: number): Promise<Node> {
    const first = this.nodes.keys().next()
    const gateway = memoryGateway({ name: `gw-${id}` })
    const edge = createEdge({
      id,
      gateways: [gateway],
      logger: silentLogger,
      cluster: {
        replicaSet,
        membership: gossip({
          seeds: first.done ? [] : [addr(first.value)],
          transport: { packet: this.net.packet(addr(id)), stream: this.net.stream(addr(id)) },
          clock: this.clock,
          random: seededRandom(this.seed * 31 + this.nodes.size),
        }),
      },
    })
    await edge.start()
    const node = { id, edge, gateway }
    this.nodes.set(id, node)
    return node
  }

  run(ms: number): Promise<void> {
    return this.clock.advanceAsync(ms)
  }

  /** Stops an edge while the virtual clock runs: its leave needs gossip rounds to spread. */
  async stop(id: string): Promise<void> {
    const node = this.nodes.get(id)
    if (!node) return
    this.nodes.delete(id)
    let done = false
    const stopping = node.edge.stop().finally(() => {
      done = true
    })
    for (let i = 0; i < 120 && !done; i++) await this.run(1_000)
    await stopping
  }

  async close(): Promise<void> {
    for (const id of [...this.nodes.keys()]) await this.stop(id)
  }
}

/** The cluster as one edge sees it: `set/id state gateways`. */
const view = (node: Node) =>
  node.edge.cluster
    ?.members()
    .map((m) => `${m.replicaSet}/${m.id} ${m.state} ${m.gateways.join(',')}`)

const stateOf = (node: Node, id: string): MemberState | undefined =>
  node.edge.cluster?.member(id)?.state

async function getAllNodes(node: Node): Promise<string[]> {
  const client = node.gateway.connect()
  try {
    client.send(encodeEnvelope({ ctor: C_GetAllNodes, requestId: 7n }))
    const reply = decodeEnvelope(await client.next())
    expect([reply.requestId, reply.ctor]).toEqual([7n, C_Edges])
    return rony.Edges.decode(reply.message).Nodes.map(
      (n) => `${String(n.ReplicaSet)}/${n.ServerID} ${(n.HostPorts ?? []).join(',')}`,
    )
  } finally {
    client.close()
  }
}

async function fourEdges(seed: number): Promise<Sim> {
  const sim = new Sim(seed)
  await sim.spawn('e0', 1)
  await sim.spawn('e1', 1)
  await sim.spawn('e2', 1)
  await sim.spawn('e3', 2)
  await sim.run(10_000)
  return sim
}

describe('whole edges on gossip (memory network, virtual clock)', {
  timeout: SIM_TIMEOUT_MS,
}, () => {
  let sim: Sim
  afterEach(async () => {
    await sim.close()
  })

  it('converge: every edge sees the same members, and GetAllNodes lists every edge with its gateways', async () => {
    sim = await fourEdges(1)
    const expected = [
      '1/e0 alive memory://gw-e0',
      '1/e1 alive memory://gw-e1',
      '1/e2 alive memory://gw-e2',
      '2/e3 alive memory://gw-e3',
    ]
    for (const node of sim.nodes.values()) {
      expect(view(node), node.id).toEqual(expected)
      expect(await getAllNodes(node), node.id).toEqual(expected.map((e) => e.replace(' alive', '')))
      expect(node.edge.cluster?.replicaSet(1).map((m) => m.id)).toEqual(['e0', 'e1', 'e2'])
      expect(node.edge.cluster?.leader(1)).toBeUndefined() // no Raft yet: nobody leads
    }
  })

  it('a stopped edge leaves gracefully: left everywhere, and out of GetAllNodes', async () => {
    sim = await fourEdges(2)
    const seen: string[] = []
    sim.nodes.get('e0')?.edge.cluster?.on('cluster:member', (m) => seen.push(`${m.id} ${m.state}`))
    await sim.stop('e2')
    await sim.run(5_000)
    for (const node of sim.nodes.values()) {
      expect(stateOf(node, 'e2'), node.id).toBe('left')
      expect(await getAllNodes(node)).not.toContainEqual(expect.stringContaining('/e2 '))
    }
    expect(seen).toEqual(['e2 left'])
  })

  it('a killed edge (no leave) goes suspect, then dead, everywhere', async () => {
    sim = await fourEdges(3)
    const seen: string[] = []
    sim.nodes.get('e0')?.edge.cluster?.on('cluster:member', (m) => seen.push(`${m.id} ${m.state}`))
    sim.net.crash(addr('e1'))
    // Lifeguard (lan, 4 members): a probe, then at most 6 × 4 × 1 s of suspicion, a few
    // gossip rounds; and gossip keeps the dead member 30 s before it forgets it.
    await sim.run(30_000)
    for (const node of sim.nodes.values()) {
      if (node.id !== 'e1') expect(stateOf(node, 'e1'), node.id).toBe('dead')
    }
    // e0 may hear of the death before it suspects e1 itself.
    expect(seen.at(-1)).toBe('e1 dead')
    expect(seen.every((s) => s === 'e1 suspect' || s === 'e1 dead')).toBe(true)
    expect(await getAllNodes(sim.nodes.get('e3') as Node)).toEqual([
      '1/e0 memory://gw-e0',
      '1/e2 memory://gw-e2',
      '2/e3 memory://gw-e3',
    ])
    await sim.run(60_000) // past gossip's gossipToTheDeadTime: the dead edge is forgotten
    expect(
      sim.nodes
        .get('e3')
        ?.edge.cluster?.members()
        .map((m) => m.id),
    ).toEqual(['e0', 'e2', 'e3'])
  })

  it('an edge stopped and started again rejoins (the factory builds a new gossip)', async () => {
    sim = await fourEdges(4)
    const e3 = sim.nodes.get('e3') as Node
    await sim.stop('e3')
    await sim.run(5_000)
    expect(stateOf(sim.nodes.get('e0') as Node, 'e3')).toBe('left')
    sim.nodes.set('e3', e3)
    await e3.edge.start()
    await sim.run(10_000)
    for (const node of sim.nodes.values()) expect(stateOf(node, 'e3'), node.id).toBe('alive')
  })
})
