import { EventEmitter } from 'node:events'
import type { rony } from '@rony/envelope'
import type { ComponentLogger, Logger, Membership, MembershipFactory } from '@rony/interface'
import { Directory } from './directory.js'
import { edgesAnswer, type ReplicaSetKey } from './edges.js'
import type { ClusterMember } from './member.js'

/**
 * The `cluster` option of `createEdge`: the replica set this edge serves and the components
 * that join it to the others. (Consensus, `consensus`, comes with the Raft wiring.)
 */
export interface ClusterInit {
  /** The replica set this edge serves: a non-negative safe integer. Required. */
  replicaSet: number
  /**
   * Cluster membership: a ready-made component whose local id is the edge's id, or a factory
   * the edge completes with its id and logger, such as `gossip({ bind, seeds })` of
   * `@rony/gossip`. A factory is called at each `start()`, so the edge can start again after
   * `stop()`; a ready-made component restarts only if it can.
   */
  membership: Membership | MembershipFactory
}

/** Events of `edge.cluster` (Node `EventEmitter`). Listeners must not throw. */
export interface EdgeClusterEvents {
  /**
   * An edge appeared or changed: its record, its state (`suspect`, `dead`, `left`, alive
   * again) or its incarnation. `previous` is `undefined` for an edge new to the view.
   */
  'cluster:member': [member: ClusterMember, previous: ClusterMember | undefined]
  /**
   * What a replica set believes about its leader changed: a new leader, none (an election),
   * or the same leader in a new term.
   */
  'cluster:leader': [replicaSet: number, leaderId: string | undefined, term: number]
}

/**
 * The cluster as this edge sees it (`edge.cluster`). The view is built while the edge runs
 * and kept as it was after `stop()`; empty before the first `start()`.
 */
export interface EdgeCluster extends EventEmitter<EdgeClusterEvents> {
  /** Every edge in the view, in any state (dead and left ones for a while), by replica set, then id. */
  members(): ClusterMember[]
  /** One edge by server id, in any state; `undefined` when unknown. */
  member(id: string): ClusterMember | undefined
  /** The edges of one replica set, in any state, its leader first, then by id. */
  replicaSet(replicaSet: number): ClusterMember[]
  /** The edge a replica set believes leads it; `undefined` during an election or for an unknown set. */
  leader(replicaSet: number): ClusterMember | undefined
}

/** What the edge tells its cluster part about itself. */
export interface ClusterHost {
  readonly id: string
  readonly logger: ComponentLogger
  /** The gateway addresses to publish (read once the gateways are started). */
  addresses(): string[]
}

/**
 * The edge's cluster part: per run, it starts the membership, builds the directory over it
 * and publishes this edge's record; on stop it leaves gracefully and stops the membership.
 */
export class EdgeClusterNode extends EventEmitter<EdgeClusterEvents> implements EdgeCluster {
  readonly ownReplicaSet: number
  private readonly source: Membership | MembershipFactory
  private readonly host: ClusterHost
  private readonly log: Logger
  private membership: Membership | undefined
  private directory: Directory | undefined

  constructor(init: ClusterInit, host: ClusterHost) {
    super()
    this.ownReplicaSet = init.replicaSet
    this.source = init.membership
    this.host = host
    this.log = host.logger.forComponent(`rony:edge:${host.id}:cluster`)
  }

  members(): ClusterMember[] {
    return this.directory?.members() ?? []
  }

  member(id: string): ClusterMember | undefined {
    return this.directory?.member(id)
  }

  replicaSet(replicaSet: number): ClusterMember[] {
    return this.directory?.replicaSet(replicaSet) ?? []
  }

  leader(replicaSet: number): ClusterMember | undefined {
    return this.directory?.leader(replicaSet)
  }

  /** The `Edges` answer to `GetNodes` (`replicaSets`) or `GetAllNodes` (`'all'`). */
  edges(replicaSets: readonly ReplicaSetKey[] | 'all'): rony.Edges {
    // Handlers run only while the edge runs, after start() built the directory.
    return edgesAnswer(this.directory as Directory, replicaSets)
  }

  /**
   * Joins the cluster: starts the membership, then the directory, and publishes this edge's
   * record (awaiting it, so a record that cannot be published fails the start). On failure
   * whatever started is stopped again and the error is thrown.
   */
  async start(): Promise<void> {
    const membership = this.build()
    const directory = new Directory({ membership, logger: this.log })
    directory.on('cluster:member', (member, previous) =>
      this.emit('cluster:member', member, previous),
    )
    directory.on('cluster:leader', (set, leaderId, term) =>
      this.emit('cluster:leader', set, leaderId, term),
    )
    let started = false
    try {
      await membership.start()
      started = true
      directory.start()
      this.membership = membership
      this.directory = directory
      directory.publish({
        replicaSet: this.ownReplicaSet,
        gateways: this.host.addresses(),
        role: 'follower',
        term: 0,
      })
      await directory.flush()
    } catch (error) {
      await directory.stop()
      this.membership = undefined
      if (started) await membership.stop()
      throw error
    }
    if (this.log.enabled)
      this.log('joined as %s in replica set %d', this.host.id, this.ownReplicaSet)
  }

  /**
   * Leaves the cluster: announces a graceful leave (others see `left`, not a failure), then
   * stops the directory and the membership. A failed leave is logged and the stop goes on.
   */
  async stop(): Promise<void> {
    const membership = this.membership
    if (!membership) return
    this.membership = undefined
    try {
      await membership.leave()
    } catch (error) {
      if (this.log.warn.enabled) this.log.warn('leaving the cluster failed: %O', error)
    }
    await this.directory?.stop()
    await membership.stop()
  }

  /** The membership of this run: the ready-made one, or a new one from the factory. */
  private build(): Membership {
    if (typeof this.source !== 'function') return this.source
    const membership = this.source({ id: this.host.id, logger: this.host.logger })
    checkLocalId(membership, this.host.id)
    return membership
  }
}

/**
 * Checks a ready-made membership (or what a factory built): its local member id must be
 * the edge's id, since other edges know this one by its member id.
 *
 * @throws `TypeError` naming both ids.
 */
export function checkLocalId(membership: Membership, edgeId: string): void {
  const localId = membership?.local?.id
  if (localId !== edgeId) {
    throw new TypeError(
      `createEdge: cluster.membership's local id '${String(localId)}' differs from the edge id '${edgeId}'; give the membership the edge's id (or pass a factory, such as gossip() without an id)`,
    )
  }
}
