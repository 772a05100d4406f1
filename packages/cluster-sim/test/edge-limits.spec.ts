/**
 * What a clustered edge refuses: a tunnel too small to forward every request it accepts,
 * and a client session header that would bloat the replicated session table.
 */
import { createEdge, memoryGateway, silentLogger } from '@rony/edge'
import { RonyError } from '@rony/envelope'
import { gossip } from '@rony/gossip'
import { memoryStorage, raft, raftStreamTransport } from '@rony/raft'
import { tunnel } from '@rony/transport'
import { afterEach, describe, expect, it } from 'vitest'
import { addr, SIM_TIMEOUT_MS, simNetwork } from './network.js'
import { Incr, numberOf, ReplicaSetSim, SimClient } from './replica-set.js'

describe('clustered edge limits', { timeout: SIM_TIMEOUT_MS }, () => {
  let rs: ReplicaSetSim | undefined
  afterEach(async () => {
    await rs?.close()
    rs = undefined
  })

  it('refuses to start with a tunnel that cannot carry its largest request, naming both limits', async () => {
    const { clock, net } = simNetwork(1)
    const edge = createEdge({
      id: 'n1',
      gateways: [memoryGateway()],
      logger: silentLogger,
      limits: { maxEnvelopeBytes: 64 * 1024 },
      cluster: {
        replicaSet: 1,
        membership: gossip({
          transport: { packet: net.packet(addr('n1')), stream: net.stream(addr('n1')) },
          clock,
        }),
        consensus: raft({
          storage: memoryStorage(),
          transport: raftStreamTransport({
            id: 'n1',
            streams: net.stream('memory:raft-n1'),
            clock,
          }),
          clock,
        }),
        tunnel: (c) =>
          tunnel({
            ...c,
            transport: net.stream('memory:tun-n1'),
            clock,
            maxMessageSize: 64 * 1024,
          }),
        bootstrapExpect: 1,
        clock,
      },
    })
    const error = await edge.start().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RangeError)
    expect(String(error)).toMatch(
      /maxMessageSize \(65536 bytes\) must be at least the edge's limits.maxEnvelopeBytes \(65536\) plus 1024/,
    )
    expect(edge.addresses()).toEqual([]) // nothing left listening
  })

  it('answers E01/SESSION for a session header it would not keep, and applies nothing', async () => {
    rs = new ReplicaSetSim({ seed: 3 })
    await Promise.all(['n1', 'n2', 'n3'].map((id) => rs?.spawn(id)))
    const leader = await rs.waitForLeader()
    for (const session of ['x'.repeat(129), 'tab\there', 'é']) {
      const client = new SimClient(leader.gateway, session)
      const error = await rs.whileRunning(client.call(Incr, { key: 'c' })).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(RonyError)
      expect((error as RonyError).toWire()).toMatchObject({ Code: 'E01', Items: 'SESSION' })
      client.close()
    }
    const valid = new SimClient(leader.gateway, 'x'.repeat(128))
    expect(numberOf(await rs.whileRunning(valid.call(Incr, { key: 'c' })))).toBe(1)
    valid.close()
  })
})
