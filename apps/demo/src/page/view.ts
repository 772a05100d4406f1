/**
 * The cluster as the page shows it: a ClusterView with every field present (protobufjs
 * types nested messages with optional fields) and 64-bit numbers as numbers.
 */
import type { demo } from '../gen/playground.js'
import { toNumber } from './format.ts'

export interface NodeView {
  readonly id: string
  /** running, paused, killed, stopped, starting, isolated ('unknown' when not reported) */
  readonly process: string
  /** alive, suspect, dead, left, unknown */
  readonly gossip: string
  /** leader, follower, candidate, learner, none */
  readonly role: string
  readonly term: number
  readonly commit: number
  readonly applied: number
  /** ms since the epoch; 0 when never reported */
  readonly reportedAt: number
  readonly gateways: readonly string[]
}

export interface View {
  readonly nodes: readonly NodeView[]
  /**
   * The leader: the running node that reports itself leader in the highest term, else the
   * one the answering node knows ('' when neither names one). The answering node may be
   * cut off (isolated) while the others elected a leader it cannot see.
   */
  readonly leader: string
  /** The node that answered. */
  readonly node: string
  readonly at: number
}

/** Node ids in natural order: n2 before n10. */
export const byNodeId = (a: string, b: string): number =>
  a.localeCompare(b, 'en', { numeric: true })

export function toView(view: demo.IClusterView): View {
  const nodes = (view.Nodes ?? []).map(
    (node): NodeView => ({
      id: node.ID ?? '',
      process: node.Process || 'unknown',
      gossip: node.Gossip || 'unknown',
      role: node.Role || 'none',
      term: toNumber(node.Term),
      commit: toNumber(node.Commit),
      applied: toNumber(node.Applied),
      reportedAt: toNumber(node.ReportedAt),
      gateways: node.Gateways ?? [],
    }),
  )
  const reported = nodes
    .filter((node) => node.role === 'leader' && node.process === 'running')
    .sort((a, b) => b.term - a.term)[0]
  return {
    nodes: nodes.filter((node) => node.id !== '').sort((a, b) => byNodeId(a.id, b.id)),
    leader: reported?.id ?? view.Leader ?? '',
    node: view.Node ?? '',
    at: toNumber(view.At),
  }
}
