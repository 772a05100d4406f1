/**
 * One @rony/client per node the cluster reports, for "via node X" requests, latency probes
 * and failover. A node's client is made from the ws gateway in its NodeStatus and replaced
 * when that address changes (a restarted node may listen elsewhere).
 */
import { type Client, createClient, serviceClient } from '@rony/client'
import { Chat, Cluster, Control, demo, Kv } from '../gen/playground.js'
import type { NodeView } from './view.ts'

/** A short leash: a dead node should fail a request quickly, and a restarted one be seen soon. */
const CLIENT_OPTIONS = {
  timeout: 4_000,
  connectTimeout: 2_000,
  keepalive: 3_000,
  reconnect: { initialDelay: 200, maxDelay: 2_000 },
} as const

function bind(client: Client) {
  return {
    client,
    kv: serviceClient(Kv, client),
    chat: serviceClient(Chat, client),
    cluster: serviceClient(Cluster, client),
    control: serviceClient(Control, client),
  }
}

/** A client of one node with the playground's services bound to it. */
export type Link = ReturnType<typeof bind> & { readonly id: string; readonly url: string }

export function connect(id: string, url: string): Link {
  const client = createClient(url, CLIENT_OPTIONS)
  // The pushes the page listens for, so they arrive decoded.
  client.registry.register(demo.ClusterView)
  client.registry.register(demo.ClusterEvent)
  client.registry.register(demo.ChatMessage)
  return { id, url, ...bind(client) }
}

/** The ws gateway among a node's gateway addresses, if it has one. */
export function wsGateway(gateways: readonly string[]): string | undefined {
  return gateways.find((address) => address.startsWith('ws://') || address.startsWith('wss://'))
}

export class Links {
  private readonly byId = new Map<string, Link>()

  /** Makes or replaces the links of these nodes; a node no longer reported keeps its link. */
  sync(nodes: readonly NodeView[]): void {
    for (const node of nodes) {
      const url = wsGateway(node.gateways)
      if (url) this.ensure(node.id, url)
    }
  }

  /** The link to `id` at `url`, made if missing or if the node moved to `url`. */
  ensure(id: string, url: string): Link {
    const current = this.byId.get(id)
    if (current?.url === url) return current
    if (current) void current.client.close()
    const link = connect(id, url)
    this.byId.set(id, link)
    // Dial now, so probes and "via node" requests find the connection open; a node that is
    // down is dialed again on the next request (or by the ping loop).
    link.client.connect({ timeout: 2_000 }).catch(() => {})
    return link
  }

  /** Files `link` under `id` (a link made before its node's id was known), same client. */
  adopt(link: Link, id: string): Link {
    if (this.byId.get(link.id) === link) this.byId.delete(link.id)
    const current = this.byId.get(id)
    if (current && current.client !== link.client) void current.client.close()
    const adopted = { ...link, id }
    this.byId.set(id, adopted)
    return adopted
  }

  get(id: string): Link | undefined {
    return this.byId.get(id)
  }

  /** Whether `id`'s connection is up right now. */
  isOpen(id: string): boolean {
    return this.byId.get(id)?.client.state === 'open'
  }

  ids(): string[] {
    return [...this.byId.keys()].sort()
  }
}
