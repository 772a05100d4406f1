import { EventEmitter } from 'node:events'
import {
  CodedError,
  disabledLogger,
  type Logger,
  type Member,
  type Membership,
} from '@rony/interface'
import { type ClusterMember, isLive, type LeaderView, leaderOf, toClusterMember } from './member.js'
import {
  DEFAULT_EDGE_META_BYTES,
  decodeEdgeMeta,
  type EdgeMeta,
  encodeEdgeMeta,
  type IgnoreReason,
} from './meta.js'
import { MetaPublisher } from './publisher.js'

/** Options of a {@link Directory}. */
export interface DirectoryInit {
  /** The cluster membership (gossip); started before the directory. */
  readonly membership: Membership
  /** Scoped logger (for example `rony:edge:n1:cluster`). Default: silent. */
  readonly logger?: Logger | undefined
  /**
   * Bound on this edge's encoded metadata, in bytes; keep it below the membership's own
   * limit (gossip's `maxMetaBytes`, 512 by default). Default 448.
   */
  readonly maxMetaBytes?: number | undefined
}

/** Events of a {@link Directory} (Node `EventEmitter`). Listeners must not throw. */
export interface DirectoryEvents {
  /**
   * An edge appeared or changed: its metadata, its state (`suspect`, `dead`, `left`, alive
   * again) or its incarnation. `previous` is `undefined` for an edge new to the view.
   */
  'cluster:member': [member: ClusterMember, previous: ClusterMember | undefined]
  /**
   * What a replica set believes about its leader changed: a new leader, none (an election),
   * or the same leader in a new term.
   */
  'cluster:leader': [replicaSet: number, leaderId: string | undefined, term: number]
  /**
   * A member's metadata is not an edge record this code reads, so the view leaves it out
   * (and drops it if it was in). `reason` says why; `detail` is for humans.
   */
  'cluster:ignored': [memberId: string, reason: IgnoreReason, detail: string]
  /** Publishing this edge's record failed (`membership.updateMeta` rejected). */
  'cluster:error': [error: unknown]
}

/**
 * Every edge of the cluster as gossip reports it: server id, replica set, addresses and
 * Raft role, leader and term, indexed by id and by replica set, with each set's leader.
 * Talks only to the `Membership` contract.
 *
 * @example
 * ```ts
 * const directory = new Directory({ membership })
 * await membership.start()
 * directory.start()
 * directory.publish({ replicaSet: 1, gateways: edge.addresses(), role: 'follower', term: 0 })
 * directory.on('cluster:leader', (set, leaderId, term) => console.log(set, leaderId, term))
 * directory.leader(1)?.gateways
 * ```
 */
export class Directory extends EventEmitter<DirectoryEvents> {
  private readonly membership: Membership
  private readonly log: Logger
  private readonly maxMetaBytes: number
  private readonly byId = new Map<string, ClusterMember>()
  private readonly bySet = new Map<number, Set<string>>()
  /** What each set was last reported to believe (`cluster:leader`). */
  private readonly leaders = new Map<number, LeaderView>()
  /** Members kept as dead or left, to forget once the membership forgets them. */
  private readonly departed = new Set<string>()
  private publisher: MetaPublisher | undefined
  /** One listener for every membership change: the snapshot says it all. */
  private readonly onMember = (m: Member): void => this.observe(m)

  constructor(init: DirectoryInit) {
    super()
    this.membership = init.membership
    this.log = init.logger ?? disabledLogger
    this.maxMetaBytes = init.maxMetaBytes ?? DEFAULT_EDGE_META_BYTES
    if (!Number.isSafeInteger(this.maxMetaBytes) || this.maxMetaBytes <= 0) {
      throw new RangeError(`maxMetaBytes must be a positive integer, got ${this.maxMetaBytes}`)
    }
  }

  /**
   * Subscribes to the membership and reads its current members. Call after
   * `membership.start()`. A second call while started is a no-op; a call after `stop()`
   * builds the view again from the membership's current one.
   */
  start(): void {
    if (this.publisher) return
    this.byId.clear()
    this.bySet.clear()
    this.leaders.clear()
    this.departed.clear()
    for (const event of MEMBER_EVENTS) this.membership.on(event, this.onMember)
    this.publisher = new MetaPublisher(
      this.membership,
      () => this.observe(this.membership.local, true),
      (error) => this.reportPublishError(error),
    )
    this.observe(this.membership.local, true)
    for (const m of this.membership.members()) {
      if (m.id !== this.membership.local.id) this.observe(m)
    }
  }

  /**
   * Unsubscribes from the membership and waits for a publish in flight to settle. The view
   * is kept as it was. A call before `start()`, or a second one, is a no-op.
   */
  async stop(): Promise<void> {
    const publisher = this.publisher
    if (!publisher) return
    this.publisher = undefined
    for (const event of MEMBER_EVENTS) this.membership.off(event, this.onMember)
    await publisher.close()
  }

  /** The local edge, once it has published its record. */
  get self(): ClusterMember | undefined {
    return this.byId.get(this.membership.local.id)
  }

  /**
   * Every edge in the view, in any state (dead and left ones until the membership forgets
   * them), sorted by replica set, then id.
   *
   * @returns A fresh array of immutable snapshots.
   */
  members(): ClusterMember[] {
    this.forgetDeparted()
    return [...this.byId.values()].sort(byReplicaSetThenId)
  }

  /** One edge by server id, in any state; `undefined` when unknown or not an edge. */
  member(id: string): ClusterMember | undefined {
    this.forgetDeparted()
    return this.byId.get(id)
  }

  /** The replica sets that have at least one edge in the view, ascending. */
  replicaSets(): number[] {
    this.forgetDeparted()
    return [...this.bySet.keys()].sort((a, b) => a - b)
  }

  /**
   * The edges of one replica set, in any state, its leader first, then by id.
   *
   * @returns A fresh array; empty for an unknown set.
   */
  replicaSet(replicaSet: number): ClusterMember[] {
    this.forgetDeparted()
    const ids = this.bySet.get(replicaSet)
    if (!ids) return []
    const leaderId = this.leaders.get(replicaSet)?.leaderId
    return [...ids]
      .map((id) => this.byId.get(id) as ClusterMember)
      .sort((a, b) => Number(b.id === leaderId) - Number(a.id === leaderId) || compareIds(a, b))
  }

  /**
   * The edge the replica set believes leads it: the highest term advertised by a live
   * member wins (see `leaderOf`). `undefined` during an election or for an unknown set.
   */
  leader(replicaSet: number): ClusterMember | undefined {
    const leaderId = this.leaders.get(replicaSet)?.leaderId
    return leaderId === undefined ? undefined : this.byId.get(leaderId)
  }

  /**
   * Publishes this edge's record (call it whenever the Raft role, leader or term, or an
   * address, changes). Returns at once: calls are coalesced so that at most one
   * `membership.updateMeta` is in flight, always with the latest record, and an unchanged
   * record costs nothing. A failed update is reported by `cluster:error` and retried by the
   * next `publish`; {@link flush} awaits the outcome.
   *
   * @throws `CodedError` `RONY_ERR_NOT_STARTED` before `start()` or after `stop()`,
   *   `RONY_ERR_INVALID_META` for a malformed record, `RONY_ERR_MESSAGE_TOO_LARGE` above
   *   `maxMetaBytes`.
   */
  publish(meta: EdgeMeta): void {
    if (!this.publisher) {
      throw new CodedError('edge cluster: directory not started', 'RONY_ERR_NOT_STARTED')
    }
    this.publisher.publish(encodeEdgeMeta(meta, this.maxMetaBytes))
  }

  /**
   * Resolves once the last record given to {@link publish} is applied to the local member;
   * rejects with the membership's error if that update failed.
   */
  async flush(): Promise<void> {
    await this.publisher?.flush()
  }

  /** Folds one membership snapshot into the view, then reports what changed. */
  private observe(m: Member, local = false): void {
    const decoded = decodeEdgeMeta(m.meta)
    const previous = this.byId.get(m.id)
    if (!decoded.ok) {
      if (previous) this.report(this.unindex(previous))
      if (this.log.enabled) this.log('ignoring member %s: %s', m.id, decoded.detail)
      // The local edge has simply not published yet.
      if (!local) this.report([['cluster:ignored', m.id, decoded.reason, decoded.detail]])
      return
    }
    const member = toClusterMember(m, decoded.meta, local)
    if (previous && sameMember(previous, member)) return
    const changes: Change[] = [['cluster:member', member, previous]]
    this.byId.set(member.id, member)
    if (isLive(member)) this.departed.delete(member.id)
    else this.departed.add(member.id)
    if (previous && previous.replicaSet !== member.replicaSet) {
      this.leaveSet(member.id, previous.replicaSet)
      changes.push(...this.elect(previous.replicaSet))
    }
    const ids = this.bySet.get(member.replicaSet) ?? new Set<string>()
    this.bySet.set(member.replicaSet, ids.add(member.id))
    changes.push(...this.elect(member.replicaSet))
    this.report(changes)
  }

  /** Takes an edge out of the view; returns its set's leader change, if any. */
  private unindex(member: ClusterMember): Change[] {
    this.byId.delete(member.id)
    this.departed.delete(member.id)
    this.leaveSet(member.id, member.replicaSet)
    return this.elect(member.replicaSet)
  }

  private leaveSet(id: string, replicaSet: number): void {
    const ids = this.bySet.get(replicaSet)
    ids?.delete(id)
    if (ids?.size === 0) this.bySet.delete(replicaSet)
  }

  /** Recomputes a set's leader; returns the `cluster:leader` change, if any. */
  private elect(replicaSet: number): Change[] {
    const ids = this.bySet.get(replicaSet)
    const now = leaderOf(ids ? [...ids].map((id) => this.byId.get(id) as ClusterMember) : [])
    const before = this.leaders.get(replicaSet)
    if (ids === undefined) this.leaders.delete(replicaSet)
    else this.leaders.set(replicaSet, now)
    if (before?.leaderId === now.leaderId && (before?.term ?? 0) === now.term) return []
    if (this.log.enabled) {
      this.log('replica set %d: leader %s, term %d', replicaSet, now.leaderId ?? 'none', now.term)
    }
    return [['cluster:leader', replicaSet, now.leaderId, now.term]]
  }

  /** Drops dead and left edges the membership no longer remembers. */
  private forgetDeparted(): void {
    for (const id of this.departed) {
      if (this.membership.member(id) !== undefined) continue
      const member = this.byId.get(id)
      // Dead members count in no leader, so forgetting one changes none: nothing to report.
      if (member) this.unindex(member)
      this.departed.delete(id)
    }
  }

  /**
   * Emits changes once the view is consistent, each on its own: membership listeners run
   * inside the membership's protocol loop, which a throwing `cluster:*` listener must not
   * break.
   */
  private report(changes: readonly Change[]): void {
    for (const [event, ...args] of changes) {
      this.safely(() => this.emit(event, ...(args as never)))
    }
  }

  private reportPublishError(error: unknown): void {
    if (this.log.warn.enabled) this.log.warn('publishing this edge’s metadata failed: %O', error)
    this.report([['cluster:error', error]])
  }

  /** Runs `fn`, logging what it throws instead of throwing. */
  private safely(fn: () => void): void {
    try {
      fn()
    } catch (error) {
      if (this.log.error.enabled) this.log.error('a cluster:* listener threw: %O', error)
    }
  }
}

/** The membership events that carry a member's new snapshot. */
const MEMBER_EVENTS = ['member:join', 'member:update', 'member:suspect', 'member:leave'] as const

/** An event to emit, with its arguments. */
type Change = {
  [E in keyof DirectoryEvents]: [E, ...DirectoryEvents[E]]
}[keyof DirectoryEvents]

function sameMember(a: ClusterMember, b: ClusterMember): boolean {
  return (
    a.state === b.state &&
    a.incarnation === b.incarnation &&
    a.address === b.address &&
    a.replicaSet === b.replicaSet &&
    a.role === b.role &&
    a.term === b.term &&
    a.leader === b.leader &&
    a.raft === b.raft &&
    a.tunnel === b.tunnel &&
    a.gateways.length === b.gateways.length &&
    a.gateways.every((g, i) => g === b.gateways[i])
  )
}

function compareIds(a: ClusterMember, b: ClusterMember): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

function byReplicaSetThenId(a: ClusterMember, b: ClusterMember): number {
  return a.replicaSet - b.replicaSet || compareIds(a, b)
}
