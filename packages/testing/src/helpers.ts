import { type Client, type ClientInit, createClient } from '@rony/client'
import { createEdge, type Edge, type EdgeLimits } from '@rony/edge'
import type { Gateway } from '@rony/interface'
import { registerTestServices, type ServiceProbe } from './services.js'

export interface TestEdge {
  edge: Edge
  /** Observations of the test services. */
  probe: ServiceProbe
  /** The first address of the first gateway (e.g. `ws://127.0.0.1:41234/`). */
  address: string
  /** A client bound to `address`; closed by `stop()`. */
  client(init?: ClientInit): Client
  /** Closes every client made by `client()`, then stops the edge. */
  stop(): Promise<void>
}

/**
 * Starts an edge with the test services (`Echo`, `PushMany`, `Fail`) on the given
 * gateways, which should listen on port 0. Pass the gateway so this package stays free of
 * any one transport.
 *
 * @example
 * const t = await startTestEdge({ gateways: [wsGateway({ port: 0 })] })
 * const reply = await t.client().request(Echo.create({ Text: 'hi' }), EchoReply)
 * await t.stop()
 */
export async function startTestEdge(init: {
  gateways: Gateway[]
  id?: string
  limits?: Partial<EdgeLimits>
}): Promise<TestEdge> {
  const edge = createEdge({
    id: init.id ?? 'test-edge',
    gateways: init.gateways,
    ...(init.limits ? { limits: init.limits } : {}),
  })
  const probe = registerTestServices(edge)
  await edge.start()
  const address = edge.addresses()[0]
  if (!address) {
    await edge.stop()
    throw new Error('startTestEdge: the gateways list no address')
  }
  const clients: Client[] = []
  return {
    edge,
    probe,
    address,
    client(clientInit) {
      const client = createClient(address, clientInit)
      clients.push(client)
      return client
    },
    async stop() {
      await Promise.all(clients.map((client) => client.close()))
      await edge.stop({ timeout: 1_000 })
    },
  }
}
