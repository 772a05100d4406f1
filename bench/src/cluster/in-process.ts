/**
 * The Go seed's shape, in this process: a single-voter replicated edge behind the memory
 * gateway (no socket), Raft with a durable data directory (fsync on), gossip on 127.0.0.1.
 * Requests are replicated echoes, serial and 64 in flight.
 */
import { createEdge, type Edge, type MemoryClient, memoryGateway, silentLogger } from '@rony/edge'
import { gossip } from '@rony/gossip'
import { raft } from '@rony/raft'
import type { PhaseLimits, PhaseResult } from '../load.ts'
import { sleep } from '../raft/proc.ts'
import { distinctFreePorts } from './edges.ts'
import { C_ReplicatedEcho, PAYLOAD, ReplicatedEcho, requestBytes } from './messages.ts'
import { counterService } from './service.ts'
import { type Channel, windowPhase } from './window-phase.ts'

export interface SingleVoterEdge {
  phase(window: number, limits: PhaseLimits): Promise<PhaseResult>
  close(): Promise<void>
}

const payload = ReplicatedEcho.encode({ Payload: PAYLOAD }).finish()

export async function startSingleVoterEdge(dataDir: string): Promise<SingleVoterEdge> {
  const [gossipPort, raftPort] = await distinctFreePorts(2)
  const gateway = memoryGateway()
  const service = counterService()
  const edge: Edge = createEdge({
    id: 'solo',
    gateways: [gateway],
    logger: silentLogger,
    limits: { maxInFlight: 4096 },
    cluster: {
      replicaSet: 1,
      membership: gossip({ bind: `127.0.0.1:${gossipPort}` }),
      consensus: raft({ bind: `127.0.0.1:${raftPort}`, dataDir }),
      bootstrapExpect: 1,
      state: service.state,
    },
  })
  service.register(edge)
  await edge.start()
  try {
    const deadline = Date.now() + 10_000
    while (edge.cluster?.consensus?.role !== 'leader') {
      if (Date.now() > deadline) throw new Error('single voter: not leader within 10 s')
      await sleep(20)
    }
  } catch (error) {
    await edge.stop()
    throw error
  }
  let deliver: (bytes: Uint8Array) => void = () => {}
  const conn: MemoryClient = gateway.connect({ onMessage: (bytes) => deliver(bytes) })
  const channel: Channel = {
    send: (bytes) => conn.send(bytes),
    listen(onMessage) {
      deliver = onMessage
      return () => {
        deliver = () => {}
      }
    },
  }
  return {
    phase: (window, limits) =>
      windowPhase(
        channel,
        (id) => requestBytes(C_ReplicatedEcho, payload, id),
        window,
        C_ReplicatedEcho,
        limits,
      ),
    async close() {
      conn.close()
      await edge.stop()
    },
  }
}
