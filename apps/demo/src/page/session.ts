/**
 * The page's connection to the cluster: it starts at the node that served the page, keeps
 * that node's `Cluster.Watch` and `Chat.Join` subscriptions, and when the node goes away
 * (killed, paused past the keepalive) moves them to another live node. Every push and
 * every view passes through here to the panels.
 */
import { createClient, serviceClient, type Update } from '@rony/client'
import { Cluster, demo } from '../gen/playground.js'
import { type Link, Links, wsGateway } from './links.ts'
import { toView, type View } from './view.ts'

export type SessionStatus = 'connecting' | 'connected' | 'failing over'

interface SessionEvents {
  view: (view: View) => void
  event: (event: demo.IClusterEvent) => void
  chat: (message: demo.IChatMessage) => void
  /** A (new) home node: the panels reload what pushes may have missed. */
  home: (link: Link) => void
  /** `detail`: the home node when connected, the lost one when failing over, else the host. */
  status: (status: SessionStatus, detail: string) => void
}

type Listeners = { [K in keyof SessionEvents]: SessionEvents[K][] }

/** How long to wait between rounds of failover attempts when no node answers. */
const RETRY_MS = 1_000

export class Session {
  readonly links = new Links()
  view: View | undefined
  home: Link | undefined
  private readonly listeners: Listeners = { view: [], event: [], chat: [], home: [], status: [] }
  private detach: (() => void) | undefined

  on<K extends keyof SessionEvents>(event: K, listener: SessionEvents[K]): void {
    this.listeners[event].push(listener)
  }

  private emit<K extends keyof SessionEvents>(
    event: K,
    ...args: Parameters<SessionEvents[K]>
  ): void {
    for (const listener of this.listeners[event]) {
      ;(listener as (...a: Parameters<SessionEvents[K]>) => void)(...args)
    }
  }

  /** Connects to the node that served the page, then keeps a home node for good. */
  async start(): Promise<void> {
    this.emit('status', 'connecting', location.host)
    const first = await findServingNode()
    const link = this.links.ensure(first.id, first.url)
    if (!(await this.attach(link))) await this.failover(link.id)
  }

  /** The leader's link, when the view names one. */
  leader(): Link | undefined {
    const id = this.view?.leader
    return id ? this.links.get(id) : undefined
  }

  private setView(message: demo.IClusterView): void {
    const view = toView(message)
    this.view = view
    this.links.sync(view.nodes)
    this.emit('view', view)
  }

  private dispatch(update: Update): void {
    if (update.type === demo.ClusterView) this.setView(update.message as demo.ClusterView)
    else if (update.type === demo.ClusterEvent)
      this.emit('event', update.message as demo.ClusterEvent)
    else if (update.type === demo.ChatMessage) this.emit('chat', update.message as demo.ChatMessage)
  }

  /** Subscribes to `link`'s pushes and makes it home; false if the node does not answer. */
  private async attach(link: Link): Promise<boolean> {
    const offUpdate = link.client.on('update', (update) => this.dispatch(update))
    try {
      await link.client.connect({ timeout: 2_000 })
      const view = await link.cluster.watch({ Watch: true }, { timeout: 3_000 })
      await link.chat.join({}, { timeout: 3_000 })
      // The node names itself in the view; the link may predate knowing it (fallback URL).
      const home = view.Node && view.Node !== link.id ? this.links.adopt(link, view.Node) : link
      const offClose = link.client.on('close', () => {
        if (this.home === home) void this.failover(home.id)
      })
      this.detach = () => {
        offUpdate()
        offClose()
      }
      this.home = home
      this.setView(view)
      this.emit('status', 'connected', home.id)
      this.emit('home', home)
      return true
    } catch {
      offUpdate()
      return false
    }
  }

  /** Moves home to another node: live ones first, the lost one last; retries until one answers. */
  private async failover(lost: string): Promise<void> {
    this.detach?.()
    this.detach = undefined
    this.home = undefined
    for (;;) {
      this.emit('status', 'failing over', lost)
      for (const id of this.candidates(lost)) {
        const link = this.links.get(id)
        if (link && (await this.attach(link))) return
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS))
    }
  }

  private candidates(lost: string): string[] {
    const nodes = this.view?.nodes ?? []
    const score = (id: string): number => {
      const node = nodes.find((n) => n.id === id)
      if (id === lost) return 3
      if (!node) return 2
      return node.process === 'running' && node.gossip === 'alive' ? 0 : 1
    }
    return this.links.ids().sort((a, b) => score(a) - score(b))
  }
}

/**
 * The ws gateway of the node that served this page: asked over HTTP from the page's own
 * origin (`Cluster.Watch` lists every node's gateways), else the page's host at `/ws`.
 */
async function findServingNode(): Promise<{ id: string; url: string }> {
  const origin = `${location.origin}/`
  const http = createClient(origin, { timeout: 3_000, reconnect: false })
  try {
    const view = toView(await serviceClient(Cluster, http).watch({ Watch: false }))
    const self =
      view.nodes.find((node) => node.gateways.includes(origin)) ??
      view.nodes.find((node) => node.id === view.node)
    const url = self && wsGateway(self.gateways)
    if (self && url) return { id: self.id, url }
  } catch {
    // No http gateway at the page's origin: try the ws convention below.
  } finally {
    void http.close()
  }
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  return { id: location.host, url: `${scheme}://${location.host}/ws` }
}
