import { type ClusterMember, Directory, type EdgeMeta, edgesAnswer } from '@rony/edge'
import { type GossipInit, type GossipMembership, gossip } from '@rony/gossip'
import type { MemberState } from '@rony/interface'
import { type MemoryNetwork, seededRandom, type VirtualClock } from '@rony/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { addr, SIM_TIMEOUT_MS, simNetwork } from './network.js'

interface Node {
  id: string
  gossip: GossipMembership
  directory: Directory
  /** What this node's directory reported, in order. */
  seen: string[]
}

/** A simulated cluster of edges: one gossip node and one directory each. */
class Sim {
  readonly clock: VirtualClock
  readonly net: MemoryNetwork
  readonly nodes = new Map<string, Node>()
  private first: string | undefined

  constructor(private readonly seed: number) {
    const { clock, net } = simNetwork(seed)
    this.clock = clock
    this.net = net
  }

  /** Starts an edge that publishes `meta`, or a plain gossip node with `plain` metadata. */
  async spawn(
    id: string,
    meta: EdgeMeta | { plain: Record<string, string> },
    init: Partial<GossipInit> = {},
  ): Promise<Node> {
    this.first ??= id
    const g = gossip({
      id,
      seeds: id === this.first ? [] : [addr(this.first)],
      transport: { packet: this.net.packet(addr(id)), stream: this.net.stream(addr(id)) },
      clock: this.clock,
      random: seededRandom(this.seed * 31 + this.nodes.size),
      ...('plain' in meta ? { meta: meta.plain } : {}),
      ...init,
    })
    await g.start()
    const directory = new Directory({ membership: g })
    const node: Node = { id, gossip: g, directory, seen: [] }
    directory.on('cluster:member', (m) => node.seen.push(`${m.id} ${m.state}`))
    directory.on('cluster:leader', (set, leaderId, term) =>
      node.seen.push(`leader ${set} ${leaderId ?? '-'} ${term}`),
    )
    directory.on('cluster:ignored', (memberId, reason) =>
      node.seen.push(`ignored ${memberId} ${reason}`),
    )
    directory.start()
    if (!('plain' in meta)) directory.publish(meta)
    this.nodes.set(id, node)
    return node
  }

  /** Kills an edge's process: its endpoints vanish and its gossip stops without leaving. */
  async crash(id: string): Promise<void> {
    const node = this.nodes.get(id)!
    this.net.crash(addr(id))
    await node.directory.stop()
    await node.gossip.stop()
    this.nodes.delete(id)
  }

  run(ms: number): Promise<void> {
    return this.clock.advanceAsync(ms)
  }

  edges(): Node[] {
    return [...this.nodes.values()].filter((n) => n.directory.self !== undefined)
  }

  async close(): Promise<void> {
    for (const node of this.nodes.values()) {
      await node.directory.stop()
      await node.gossip.stop()
    }
  }
}

const follower = (replicaSet: number, id: string, term: number, leader: string): EdgeMeta => ({
  replicaSet,
  gateways: [`ws://${id}.example:8080/`],
  raft: `memory:raft-${id}`,
  tunnel: `memory:tunnel-${id}`,
  role: 'follower',
  leader,
  term,
})
const leading = (replicaSet: number, id: string, term: number): EdgeMeta => ({
  ...follower(replicaSet, id, term, id),
  role: 'leader',
})

/** A view without the per-node bits (`local`, incarnations differ by when one looks). */
const view = (directory: Directory) =>
  directory.members().map(({ local: _local, incarnation: _incarnation, ...rest }) => rest)

const states = (node: Node, id: string): MemberState[] =>
  node.seen.filter((s) => s.startsWith(`${id} `)).map((s) => s.split(' ')[1] as MemberState)

/** Five edges: n0 leads n1, n2 in replica set 1; n3 leads n4 in replica set 2. */
async function fiveEdges(seed: number): Promise<Sim> {
  const sim = new Sim(seed)
  await sim.spawn('n0', leading(1, 'n0', 1))
  await sim.spawn('n1', follower(1, 'n1', 1, 'n0'))
  await sim.spawn('n2', follower(1, 'n2', 1, 'n0'))
  await sim.spawn('n3', leading(2, 'n3', 1))
  await sim.spawn('n4', follower(2, 'n4', 1, 'n3'))
  await sim.run(10_000)
  return sim
}

describe('cluster directory on gossip (memory network, virtual clock)', {
  timeout: SIM_TIMEOUT_MS,
}, () => {
  let sim: Sim
  afterEach(async () => {
    await sim.close()
  })

  it('five edges in two replica sets converge to one view and the same leaders', async () => {
    sim = await fiveEdges(1)
    const expected = view(sim.nodes.get('n0')!.directory)
    expect(expected.map((m) => `${m.replicaSet}/${m.id} ${m.state} ${m.role}@${m.term}`)).toEqual([
      '1/n0 alive leader@1',
      '1/n1 alive follower@1',
      '1/n2 alive follower@1',
      '2/n3 alive leader@1',
      '2/n4 alive follower@1',
    ])
    expect(expected[1]).toEqual({
      id: 'n1',
      address: 'memory:n1',
      state: 'alive',
      replicaSet: 1,
      gateways: ['ws://n1.example:8080/'],
      raft: 'memory:raft-n1',
      tunnel: 'memory:tunnel-n1',
      role: 'follower',
      leader: 'n0',
      term: 1,
    })
    for (const node of sim.nodes.values()) {
      expect(view(node.directory)).toEqual(expected)
      expect(node.directory.leader(1)?.id).toBe('n0')
      expect(node.directory.leader(2)?.id).toBe('n3')
      expect(node.directory.self).toMatchObject({ id: node.id, local: true })
      const all = edgesAnswer(node.directory, 'all').Nodes.map((e) => e.ServerID)
      expect(all).toEqual(['n0', 'n1', 'n2', 'n3', 'n4'])
    }
  })

  it('spreads a new leader to every edge, and a stale claim from the old term loses', async () => {
    sim = await fiveEdges(2)
    // n1 wins term 2 while n0, partitioned from its set, still advertises leadership of term 1.
    sim.nodes.get('n1')!.directory.publish(leading(1, 'n1', 2))
    await sim.run(5_000)
    for (const node of sim.nodes.values()) {
      expect(node.directory.leader(1)?.id).toBe('n1')
      expect(node.directory.member('n0')).toMatchObject({ role: 'leader', term: 1 })
      expect(node.seen).toContain('leader 1 n1 2')
      expect(edgesAnswer(node.directory, [1]).Nodes.map((e) => e.ServerID)).toEqual([
        'n1',
        'n0',
        'n2',
      ])
    }
  })

  it('follows an election burst to the last record published', async () => {
    sim = await fiveEdges(3)
    const n2 = sim.nodes.get('n2')!
    const incarnation = n2.gossip.local.incarnation
    for (let term = 2; term <= 6; term++) {
      n2.directory.publish({ ...follower(1, 'n2', term, 'n0'), role: 'candidate' })
    }
    n2.directory.publish(leading(1, 'n2', 6))
    await sim.run(5_000)
    for (const node of sim.nodes.values()) {
      expect(node.directory.member('n2')).toMatchObject({ role: 'leader', term: 6 })
      expect(node.directory.leader(1)?.id).toBe('n2')
    }
    // Six records asked for in one burst: one metadata update, one new incarnation.
    expect(n2.gossip.local.incarnation).toBe(incarnation + 1)
  })

  it('marks a crashed leader suspect, then dead, everywhere; its set has no leader until it re-elects', async () => {
    sim = await fiveEdges(4)
    await sim.crash('n3')
    // Lifeguard (lan, 5 members): a probe, then at most 6 × 4 × 1 s of suspicion, a few
    // gossip rounds; and gossip keeps the dead member 30 s before it forgets it.
    await sim.run(30_000)
    for (const node of sim.nodes.values()) {
      expect(node.directory.member('n3')?.state).toBe('dead')
      expect(states(node, 'n3')).toContain('dead')
      expect(node.directory.leader(2)).toBeUndefined()
      expect(node.seen).toContain('leader 2 - 1')
      expect(edgesAnswer(node.directory, [2]).Nodes.map((e) => e.ServerID)).toEqual(['n4'])
    }
    const sawSuspect = [...sim.nodes.values()].filter((n) => states(n, 'n3').includes('suspect'))
    expect(sawSuspect.length).toBeGreaterThan(0)
    sim.nodes.get('n4')!.directory.publish(leading(2, 'n4', 2))
    await sim.run(60_000) // past gossip's gossipToTheDeadTime: the dead edge is forgotten
    for (const node of sim.nodes.values()) {
      expect(node.directory.leader(2)?.id).toBe('n4')
      expect(node.directory.members().map((m) => m.id)).toEqual(['n0', 'n1', 'n2', 'n4'])
    }
  })

  it('leaves out a gossip member that is not an edge', async () => {
    sim = await fiveEdges(5)
    const plain = await sim.spawn('g0', { plain: { role: 'raft', addr: '10.0.0.9:9001' } })
    const mislabelled = await sim.spawn('g1', {
      plain: { rony: '99', rs: '1', role: 'leader', term: '99' },
    })
    await sim.run(10_000)
    expect(plain.gossip.members()).toHaveLength(7)
    expect(mislabelled.directory.members().map((m: ClusterMember) => m.id)).toEqual([
      'n0',
      'n1',
      'n2',
      'n3',
      'n4',
    ])
    for (const node of sim.edges()) {
      expect(node.directory.members().map((m) => m.id)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4'])
      expect(node.directory.leader(1)?.id).toBe('n0')
      expect(node.seen).toContain('ignored g0 not-an-edge')
      expect(node.seen).toContain('ignored g1 version')
    }
  })

  it('publishes a large record (IPv6, three gateways) within gossip’s default limit, and reports a smaller limit', async () => {
    sim = await fiveEdges(6)
    const ipv6 = '[2001:db8:1234:5678:9abc:def0:1234:5678]'
    const large: EdgeMeta = {
      replicaSet: 1,
      gateways: [
        `wss://${ipv6}:8443/`,
        `https://${ipv6}:8444/rony`,
        '/ip4/203.0.113.200/udp/4433/quic-v1/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK',
      ],
      raft: `${ipv6}:9001`,
      tunnel: `${ipv6}:9101`,
      role: 'follower',
      leader: 'n0',
      term: 1,
    }
    const n1 = sim.nodes.get('n1')!.directory
    n1.publish(large)
    await n1.flush()
    await sim.run(5_000)
    for (const node of sim.nodes.values()) {
      expect(node.directory.member('n1')?.gateways).toHaveLength(3)
    }
    // An edge whose gossip allows less metadata than its record needs: the update fails.
    const small = await sim.spawn('n5', follower(2, 'n5', 1, 'n3'), { maxMetaBytes: 96 })
    await expect(small.directory.flush()).rejects.toMatchObject({
      code: 'RONY_ERR_MESSAGE_TOO_LARGE',
    })
    const errors: unknown[] = []
    small.directory.on('cluster:error', (error) => errors.push(error))
    small.directory.publish(large)
    await expect(small.directory.flush()).rejects.toMatchObject({
      code: 'RONY_ERR_MESSAGE_TOO_LARGE',
    })
    expect(errors).toHaveLength(1)
    expect(small.directory.self).toBeUndefined()
  })
})
