import { type Client, createClient, type ServiceClient, serviceClient } from '@rony/client'
import type { NodeInfo, Supervisor } from '../cluster/supervisor.ts'
import { Cluster, Kv } from '../gen/playground.js'
import { ReplInputError } from './args.ts'

/** The typed services of one node, over one client connected to its ws gateway. */
export interface NodeClient {
  readonly node: NodeInfo
  readonly kv: ServiceClient<(typeof Kv)['methods']>
  readonly cluster: ServiceClient<(typeof Cluster)['methods']>
}

/** Process states in which a node answers requests (an isolated one still serves its clients). */
const SERVING = new Set(['running', 'isolated'])

/** Process states after which a node's client is dropped rather than left reconnecting. */
const GONE = new Set(['killed', 'stopped'])

/**
 * One client per node, made on first use. The client of a killed or stopped node is closed:
 * left reconnecting, it would back off to 10 s between attempts, and the first request after
 * a restart could wait that long; a new one connects at once. A node restarted on new ports
 * gets a new client too.
 */
export class NodeClients {
  private readonly clients = new Map<string, { url: string; client: Client; node: NodeClient }>()
  private readonly supervisor: Supervisor
  private readonly onNode = (node: NodeInfo): void => {
    if (GONE.has(node.process)) this.drop(node.id)
  }

  constructor(supervisor: Supervisor) {
    this.supervisor = supervisor
    supervisor.on('node', this.onNode)
  }

  /** The node named by `via`, or any running one. */
  pick(via: string | undefined): NodeClient {
    const nodes = this.supervisor.nodes()
    if (via === undefined) {
      const running = nodes.find((node) => node.process === 'running')
      if (!running) throw new ReplInputError('no node is running (restart one, or add one)')
      return this.clientOf(running)
    }
    return this.clientOf(this.node(via, nodes))
  }

  /** The node with this id, or a clear error listing the ones there are. */
  node(id: string, nodes = this.supervisor.nodes()): NodeInfo {
    const node = nodes.find((candidate) => candidate.id === id)
    if (!node) {
      const ids = nodes.map((candidate) => candidate.id).join(', ')
      throw new ReplInputError(`unknown node '${id}' (nodes: ${ids || 'none'})`)
    }
    return node
  }

  private clientOf(node: NodeInfo): NodeClient {
    if (!SERVING.has(node.process)) {
      throw new ReplInputError(`node ${node.id} is ${node.process}: it cannot answer`)
    }
    const known = this.clients.get(node.id)
    if (known?.url === node.ws) return { ...known.node, node }
    this.drop(node.id)
    const client = createClient(node.ws)
    const entry = {
      url: node.ws,
      client,
      node: { node, kv: serviceClient(Kv, client), cluster: serviceClient(Cluster, client) },
    }
    this.clients.set(node.id, entry)
    return entry.node
  }

  private drop(id: string): void {
    const known = this.clients.get(id)
    this.clients.delete(id)
    void known?.client.close()
  }

  async close(): Promise<void> {
    this.supervisor.off('node', this.onNode)
    const closing = [...this.clients.values()].map(({ client }) => client.close())
    this.clients.clear()
    await Promise.allSettled(closing)
  }
}
