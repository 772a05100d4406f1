/**
 * A node's side of `Cluster.Watch`: the view of every node (this node's gossip view, each
 * node's Raft state as it reported it, the supervisor's process states), the recent events,
 * and the connections that watch them. Views are pushed at most every `VIEW_PUSH_MS`; an
 * event is pushed as it happens.
 */
import { encodeEnvelope } from '@rony/envelope'
import type { GatewayConn } from '@rony/interface'
import { C_ClusterEvent, C_ClusterView, demo } from '../gen/playground.js'
import type { ClusterEventInfo, NodeRow, RaftReport } from './ipc.ts'

/** Coalescing of view pushes: at most one per this many ms (≤ 10 pushes/s). */
export const VIEW_PUSH_MS = 100
/** Events kept for `Cluster.Events` and new watchers. */
export const EVENTS_KEPT = 200

export interface WatchSources {
  readonly id: string
  /** This node's own Raft state, now. */
  raft(): RaftReport
  /** How this node's gossip sees `id`: alive, suspect, dead, left, unknown. */
  gossip(id: string): string
  /** The leader this node knows ("" when none). */
  leader(): string
}

export class ClusterWatch {
  private table: readonly NodeRow[] = []
  private readonly events: ClusterEventInfo[] = []
  private readonly watchers = new Set<GatewayConn>()
  private timer: NodeJS.Timeout | undefined
  private lastPush = 0

  private readonly sources: WatchSources

  constructor(sources: WatchSources) {
    this.sources = sources
  }

  /** The supervisor's latest table of nodes (process states, Raft reports, gateways). */
  setTable(nodes: readonly NodeRow[]): void {
    this.table = nodes
    this.changed()
  }

  view(): demo.ClusterView {
    const self = this.sources.id
    const rows = this.table.some((row) => row.id === self)
      ? this.table
      : [...this.table, { id: self, process: 'running', gateways: [], raft: undefined }]
    const nodes = rows.map((row) => {
      const raft = row.id === self ? this.sources.raft() : row.raft
      return demo.NodeStatus.create({
        ID: row.id,
        Process: row.process,
        Gossip: row.id === self ? 'alive' : this.sources.gossip(row.id),
        Role: raft?.role ?? 'none',
        Term: raft?.term ?? 0,
        Commit: raft?.commit ?? 0,
        Applied: raft?.applied ?? 0,
        Gateways: [...row.gateways],
        ReportedAt: raft?.at ?? 0,
      })
    })
    return demo.ClusterView.create({
      Nodes: nodes,
      Leader: this.sources.leader(),
      Node: self,
      At: Date.now(),
    })
  }

  recent(limit: number): demo.ClusterEvent[] {
    const kept = limit > 0 ? this.events.slice(-limit) : this.events
    return kept.map(toMessage)
  }

  watch(conn: GatewayConn): void {
    if (conn.persistent && !conn.closed) this.watchers.add(conn)
  }

  forget(conn: GatewayConn): void {
    this.watchers.delete(conn)
  }

  /** Records an event and pushes it to every watcher (the view follows, coalesced). */
  event(event: ClusterEventInfo): void {
    this.events.push(event)
    if (this.events.length > EVENTS_KEPT) this.events.splice(0, this.events.length - EVENTS_KEPT)
    const bytes = encodeEnvelope({
      ctor: C_ClusterEvent,
      requestId: 0n,
      message: demo.ClusterEvent.encode(toMessage(event)).finish(),
    })
    for (const conn of this.watchers) this.send(conn, bytes)
    this.changed()
  }

  /** Something in the view changed: push it, at most every VIEW_PUSH_MS. */
  changed(): void {
    if (this.timer !== undefined || this.watchers.size === 0) return
    const wait = Math.max(0, this.lastPush + VIEW_PUSH_MS - Date.now())
    this.timer = setTimeout(() => this.flush(), wait)
  }

  close(): void {
    clearTimeout(this.timer)
    this.watchers.clear()
  }

  private flush(): void {
    this.timer = undefined
    this.lastPush = Date.now()
    const bytes = encodeEnvelope({
      ctor: C_ClusterView,
      requestId: 0n,
      message: demo.ClusterView.encode(this.view()).finish(),
    })
    for (const conn of this.watchers) this.send(conn, bytes)
  }

  private send(conn: GatewayConn, bytes: Uint8Array): void {
    // The gateway takes ownership of what it sends: each watcher gets its own copy.
    if (conn.closed) this.watchers.delete(conn)
    else conn.send(bytes.slice())
  }
}

function toMessage(event: ClusterEventInfo): demo.ClusterEvent {
  return demo.ClusterEvent.create({
    At: event.at,
    Kind: event.kind,
    Node: event.node,
    Text: event.text,
  })
}
