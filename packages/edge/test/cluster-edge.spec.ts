import { C_Edges, C_GetAllNodes, encodeEnvelope, rony } from '@rony/envelope'
import type { ComponentLogger, MembershipComponents } from '@rony/interface'
import { describe, expect, it } from 'vitest'
import { type ClusterInit, createEdge, memoryGateway, silentLogger } from '../src/index.js'
import { ScriptedMembership } from './cluster-membership.js'
import { deferred, EchoRequest, EchoResponse, Peer, request } from './helpers.js'

/** A scripted membership that writes what happens to it, and what the edge looked like then. */
class RecordingMembership extends ScriptedMembership {
  readonly events: string[] = []
  failStart: Error | undefined
  constructor(
    id: string,
    private readonly gatewayUp: () => boolean,
  ) {
    super(id)
  }
  override start(): void | Promise<void> {
    this.events.push(`start gateways=${this.gatewayUp()}`)
    if (this.failStart) throw this.failStart
  }
  override async leave(): Promise<void> {
    this.events.push(`leave gateways=${this.gatewayUp()}`)
  }
  override stop(): void {
    this.events.push(`stop gateways=${this.gatewayUp()}`)
  }
}

function clusterEdge(cluster: Partial<ClusterInit> & { membership?: ClusterInit['membership'] }) {
  const gateway = memoryGateway({ name: 'mem' })
  const membership = new RecordingMembership('n1', () => gateway.addresses().length > 0)
  const edge = createEdge({
    id: 'n1',
    gateways: [gateway],
    logger: silentLogger,
    cluster: { replicaSet: 3, membership, ...cluster },
  })
  return { edge, gateway, membership }
}

describe('createEdge cluster option', () => {
  it('leaves edge.cluster undefined on a single-node edge', () => {
    const edge = createEdge({ id: 'solo', gateways: [memoryGateway()] })
    expect(edge.cluster).toBeUndefined()
  })

  it.each([-1, 1.5, 2 ** 53, Number.NaN, '1' as unknown as number])(
    'rejects replicaSet %s: a non-negative safe integer',
    (replicaSet) => {
      expect(() => clusterEdge({ replicaSet })).toThrow(
        /cluster\.replicaSet must be a non-negative safe integer/,
      )
    },
  )

  it('accepts replica set 0 and the largest safe integer', () => {
    expect(clusterEdge({ replicaSet: 0 }).edge.cluster).toBeDefined()
    expect(clusterEdge({ replicaSet: Number.MAX_SAFE_INTEGER }).edge.cluster).toBeDefined()
  })

  it('rejects a membership that is neither a component nor a factory', () => {
    expect(() => clusterEdge({ membership: {} as never })).toThrow(
      /cluster\.membership must be a Membership component or a factory/,
    )
  })

  it('rejects a ready-made membership whose local id is not the edge id, naming both', () => {
    expect(() => clusterEdge({ membership: new ScriptedMembership('n2') })).toThrow(
      /local id 'n2' differs from the edge id 'n1'/,
    )
  })

  it('completes a factory with the edge id and logger at start, and checks what it built', async () => {
    const seen: MembershipComponents[] = []
    const logger: ComponentLogger = silentLogger
    const ok = createEdge({
      id: 'n1',
      gateways: [memoryGateway()],
      logger,
      cluster: {
        replicaSet: 1,
        membership: (components) => {
          seen.push(components)
          return new ScriptedMembership(components.id)
        },
      },
    })
    await ok.start()
    await ok.stop()
    await ok.start() // a factory builds a new membership per run
    await ok.stop()
    expect(seen.map((c) => [c.id, c.logger === logger])).toEqual([
      ['n1', true],
      ['n1', true],
    ])
    const gateway = memoryGateway()
    const wrong = createEdge({
      id: 'n1',
      gateways: [gateway],
      logger,
      cluster: { replicaSet: 1, membership: () => new ScriptedMembership('other') },
    })
    await expect(wrong.start()).rejects.toThrow(/local id 'other' differs from the edge id 'n1'/)
    expect(gateway.addresses()).toEqual([]) // the started gateway was stopped again
  })
})

describe('a clustered edge', () => {
  it('joins after its gateways start and leaves before they stop, publishing its record', async () => {
    const { edge, membership } = clusterEdge({})
    await edge.start()
    expect(membership.local.meta).toMatchObject({
      rony: '1',
      rs: '3',
      gw: 'memory://mem',
      role: 'follower',
      term: '0',
    })
    expect(edge.cluster?.member('n1')).toMatchObject({
      replicaSet: 3,
      gateways: ['memory://mem'],
      role: 'follower',
      term: 0,
      local: true,
    })
    await edge.stop()
    expect(membership.events).toEqual([
      'start gateways=true',
      'leave gateways=true',
      'stop gateways=true',
    ])
  })

  it('stop({ leave: false }) stops without leaving (a restart: others see it fail), and the next stop leaves again', async () => {
    const { edge, membership } = clusterEdge({})
    await edge.start()
    await edge.stop({ leave: false })
    expect(membership.events).toEqual(['start gateways=true', 'stop gateways=true'])
    await edge.start()
    await edge.stop()
    expect(membership.events.slice(2)).toEqual([
      'start gateways=true',
      'leave gateways=true',
      'stop gateways=true',
    ])
  })

  it('leaves while a handler is still running, and stops the gateways after it answers', async () => {
    const { edge, gateway, membership } = clusterEdge({})
    const gate = deferred()
    const running = deferred()
    edge.handle(EchoRequest, async (req) => {
      running.resolve()
      await gate.promise
      return EchoResponse.create({ text: req.text })
    })
    await edge.start()
    const peer = new Peer(gateway)
    peer.send(request(EchoRequest, { text: 'hi' }, 1n))
    await running.promise
    const stopping = edge.stop()
    await new Promise((resolve) => setImmediate(resolve))
    expect(membership.events).toEqual([
      'start gateways=true',
      'leave gateways=true',
      'stop gateways=true',
    ])
    expect(peer.inbox).toEqual([]) // the handler is still running
    expect(gateway.addresses()).toEqual(['memory://mem'])
    gate.resolve()
    expect((await peer.next()).requestId).toBe(1n)
    await stopping
    expect(gateway.addresses()).toEqual([])
  })

  it('stops its gateways again when the membership fails to start, and says why', async () => {
    const { edge, gateway, membership } = clusterEdge({})
    membership.failStart = new Error('bind failed')
    await expect(edge.start()).rejects.toThrow('bind failed')
    expect(gateway.addresses()).toEqual([])
    membership.failStart = undefined
    await edge.start() // a later start tries again
    expect(gateway.addresses()).toEqual(['memory://mem'])
    await edge.stop()
  })

  it('a stop during the join waits for it, then leaves and releases the gateways', async () => {
    const { edge, gateway, membership } = clusterEdge({})
    const joining = deferred()
    const called = deferred()
    membership.start = () => {
      membership.events.push('start')
      called.resolve()
      return joining.promise
    }
    const starting = edge.start()
    await called.promise
    const stopping = edge.stop()
    await new Promise((resolve) => setImmediate(resolve))
    expect(membership.events).toEqual(['start'])
    joining.resolve()
    await Promise.all([starting, stopping])
    expect(membership.events).toEqual(['start', 'leave gateways=true', 'stop gateways=true'])
    expect(gateway.addresses()).toEqual([])
  })

  it('fails the start when its record cannot be published, leaving nothing running', async () => {
    const { edge, gateway, membership } = clusterEdge({})
    membership.updateMeta = () => Promise.reject(new Error('meta refused'))
    await expect(edge.start()).rejects.toThrow('meta refused')
    expect(membership.events).toEqual(['start gateways=true', 'stop gateways=true'])
    expect(gateway.addresses()).toEqual([])
  })

  it('reports members and emits cluster:member events through edge.cluster', async () => {
    const { edge, membership } = clusterEdge({})
    const seen: string[] = []
    edge.cluster?.on('cluster:member', (m) => seen.push(`${m.id} ${m.state}`))
    await edge.start()
    membership.putEdge('n2', {
      replicaSet: 3,
      gateways: ['ws://n2:80/'],
      role: 'follower',
      term: 0,
    })
    expect(edge.cluster?.members().map((m) => m.id)).toEqual(['n1', 'n2'])
    expect(edge.cluster?.replicaSet(3).map((m) => m.id)).toEqual(['n1', 'n2'])
    expect(edge.cluster?.leader(3)).toBeUndefined()
    expect(seen).toEqual(['n1 alive', 'n2 alive'])
    await edge.stop()
  })

  it('answers GetNodes and GetAllNodes from the cluster view', async () => {
    const { edge, gateway, membership } = clusterEdge({})
    await edge.start()
    membership.putEdge('n2', {
      replicaSet: 3,
      gateways: ['ws://n2:80/'],
      role: 'follower',
      term: 0,
    })
    membership.putEdge('n3', {
      replicaSet: 4,
      gateways: ['ws://n3:80/'],
      role: 'follower',
      term: 0,
    })
    const peer = new Peer(gateway)
    peer.send(request(rony.GetNodes, { ReplicaSet: [] }, 1n))
    peer.send(encodeEnvelope({ ctor: C_GetAllNodes, requestId: 2n }))
    const answers: string[][] = []
    for (const requestId of [1n, 2n]) {
      const reply = await peer.next()
      expect([reply.requestId, reply.ctor]).toEqual([requestId, C_Edges])
      answers.push(
        rony.Edges.decode(reply.message).Nodes.map(
          (n) => `${String(n.ReplicaSet)}/${n.ServerID} ${(n.HostPorts ?? []).join(',')}`,
        ),
      )
    }
    expect(answers).toEqual([
      ['3/n1 memory://mem', '3/n2 ws://n2:80/'],
      ['3/n1 memory://mem', '3/n2 ws://n2:80/', '4/n3 ws://n3:80/'],
    ])
    await edge.stop()
  })
})
