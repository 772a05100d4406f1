/**
 * The consensus half of `createEdge({ cluster })` and the handler modes: what is refused at
 * construction and at `handle()`, with messages that say what to do. (Replicated runs are
 * covered end to end in packages/cluster-sim, on real gossip, Raft and tunnels.)
 */
import { C_Error, decodeEnvelope, RonyError } from '@rony/envelope'
import type { ConsensusFactory } from '@rony/interface'
import { describe, expect, it } from 'vitest'
import { type ClusterInit, createEdge, memoryGateway, silentLogger } from '../src/index.js'
import { ScriptedMembership } from './cluster-membership.js'
import { EchoRequest, EchoResponse, request } from './helpers.js'

// Never called: construction and handle() only validate; nothing here starts.
const consensus: ConsensusFactory = () => {
  throw new Error('not started in these tests')
}

function edgeWith(cluster: Partial<ClusterInit>) {
  return createEdge({
    id: 'n1',
    gateways: [memoryGateway()],
    logger: silentLogger,
    cluster: { replicaSet: 1, membership: new ScriptedMembership('n1'), ...cluster },
  })
}

describe('cluster consensus options', () => {
  it('takes a consensus factory with bootstrapExpect and the rest of its options', () => {
    const edge = edgeWith({
      consensus,
      bootstrapExpect: 3,
      maxVoters: 5,
      state: { snapshot: () => new Uint8Array(0), restore: () => {} },
      sessions: { maxSessions: 10, window: 4 },
      onFollower: 'redirect',
      leaderWait: 500,
    })
    expect(edge.cluster).toBeDefined()
  })

  it.each([
    [{ consensus }, /bootstrapExpect must be an integer in \[1, maxVoters = 5\]/],
    [{ consensus, bootstrapExpect: 0 }, /bootstrapExpect/],
    [{ consensus, bootstrapExpect: 6 }, /bootstrapExpect .*maxVoters = 5/],
    [{ consensus, bootstrapExpect: 3, maxVoters: 2 }, /maxVoters = 2/],
    [{ consensus, bootstrapExpect: 1, maxVoters: 0 }, /maxVoters must be a positive integer/],
    [
      { consensus, bootstrapExpect: 1, leaderWait: 0 },
      /leaderWait must be an integer number of ms/,
    ],
    [{ consensus, bootstrapExpect: 1, sessions: { window: 0 } }, /cluster.sessions: .*window/],
  ] as [Partial<ClusterInit>, RegExp][])('refuses %o with a RangeError', (cluster, message) => {
    expect(() => edgeWith(cluster)).toThrow(RangeError)
    expect(() => edgeWith(cluster)).toThrow(message)
  })

  it.each([
    [
      { consensus: {} as ConsensusFactory, bootstrapExpect: 1 },
      /consensus must be a consensus factory/,
    ],
    [{ bootstrapExpect: 3 }, /bootstrapExpect needs cluster.consensus/],
    [
      { state: { snapshot: () => new Uint8Array(0), restore: () => {} } },
      /state needs cluster.consensus/,
    ],
    [
      { consensus, bootstrapExpect: 1, onFollower: 'drop' as 'forward' },
      /onFollower must be 'forward' or 'redirect'/,
    ],
    [
      { consensus, bootstrapExpect: 1, state: { snapshot: () => new Uint8Array(0) } as never },
      /snapshot\(\) and restore/,
    ],
    [
      { consensus, bootstrapExpect: 1, sessions: { extra: 1 } as never },
      /cluster.sessions: .*unknown limit extra/,
    ],
  ] as [Partial<ClusterInit>, RegExp][])('refuses %o with a TypeError', (cluster, message) => {
    expect(() => edgeWith(cluster)).toThrow(TypeError)
    expect(() => edgeWith(cluster)).toThrow(message)
  })
})

describe('handler modes', () => {
  const echo = (req: { text: string }) => EchoResponse.create({ text: req.text })

  it('needs consensus for replicated and read handlers, naming the fix', () => {
    const single = createEdge({ id: 'n1', gateways: [memoryGateway()], logger: silentLogger })
    expect(() => single.handle(EchoRequest, echo, { mode: 'replicated' })).toThrow(
      /mode 'replicated' needs a replica set: give createEdge a cluster with consensus/,
    )
    const gossipOnly = edgeWith({})
    expect(() => gossipOnly.handle(EchoRequest, echo, { mode: 'read' })).toThrow(TypeError)
    expect(() => single.handle(EchoRequest, echo, { mode: 'local' })).not.toThrow()
  })

  it('accepts the modes and consistencies on a replica set, and refuses unknown ones', () => {
    const edge = edgeWith({ consensus, bootstrapExpect: 1 })
    edge.handle(EchoRequest, echo, { mode: 'read', consistency: 'local' })
    expect(() => edge.handle(EchoResponse, echo, { mode: 'eventual' as 'read' })).toThrow(
      /mode must be one of local, replicated, read, got eventual/,
    )
    expect(() =>
      edge.handle(EchoResponse, echo, { mode: 'read', consistency: 'eventual' as 'local' }),
    ).toThrow(/consistency must be one of linearizable, local/)
    expect(() =>
      edge.handle(EchoResponse, echo, { mode: 'replicated', consistency: 'local' }),
    ).toThrow(/consistency applies to mode 'read' only/)
  })
})

describe('ctx.now, ctx.random and ctx.execute of a request run once, here', () => {
  it('now() is the wall clock, random() is in [0, 1), execute() needs a tunnel', async () => {
    const gateway = memoryGateway()
    const edge = createEdge({ id: 'n1', gateways: [gateway], logger: silentLogger })
    let seen: { now: number; random: number; error: unknown } | undefined
    edge.handle(EchoRequest, async (req, ctx) => {
      const error = await ctx.execute(2, EchoRequest.create({ text: 'x' })).catch((e) => e)
      seen = { now: ctx.now(), random: ctx.random(), error }
      return EchoResponse.create({ text: req.text })
    })
    await edge.start()
    try {
      const before = Date.now()
      const client = gateway.connect()
      client.send(request(EchoRequest, { text: 'hi' }, 1n))
      const reply = decodeEnvelope(await client.next())
      expect(reply.ctor).not.toBe(C_Error)
      const { now, random, error } = seen as NonNullable<typeof seen>
      expect(now).toBeGreaterThanOrEqual(before)
      expect(now).toBeLessThanOrEqual(Date.now())
      expect(random).toBeGreaterThanOrEqual(0)
      expect(random).toBeLessThan(1)
      expect(error).toBeInstanceOf(RonyError)
      expect((error as RonyError).toWire()).toEqual({
        Code: 'E02',
        Items: 'TUNNEL',
        Description: 'ctx.execute needs cluster.tunnel',
      })
      expect((error as RonyError).code).toBe('RONY_ERR_NO_TUNNEL')
      client.close()
    } finally {
      await edge.stop()
    }
  })
})
