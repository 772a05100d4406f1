import { EventEmitter } from 'node:events'
import type { Envelope, EnvelopeLimits, rony } from '@rony/envelope'
import {
  type AbortOptions,
  type Clock,
  CodedError,
  type ComponentLogger,
  type Consensus,
  type ConsensusFactory,
  type Logger,
  type Membership,
  type MembershipFactory,
  type Startable,
  type Tunnel,
  type TunnelFactory,
} from '@rony/interface'
import type { RequestOrigin } from '../connection.js'
import type { Pipeline } from '../pipeline.js'
import type { HandlerEntry, HandlerRegistry } from '../registry.js'
import type { ReplySink } from '../reply.js'
import type { WorkCounter } from '../work.js'
import { ChangeNotifier, systemClock } from './changes.js'
import { Directory } from './directory.js'
import { edgesAnswer, type ReplicaSetKey } from './edges.js'
import { Formation } from './formation.js'
import { type ClusterMember, isLive } from './member.js'
import { PendingRequests } from './pending.js'
import { type ClusterRun, type FollowerPolicy, Replicator } from './replicator.js'
import type { SessionLimits } from './sessions.js'
import { EdgeStateMachine, type ReplicatedState } from './state-machine.js'
import { readTunnelResponse, TunnelKind, tunnelRequest } from './tunnel-protocol.js'

/**
 * The `cluster` option of `createEdge`: the replica set this edge serves and the components
 * that join it to the others.
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
  /**
   * The replica set's consensus, such as `raft({ bind, dataDir })` of `@rony/raft`: a
   * factory the edge completes with its id and its state machine (handler dispatch, the
   * session table and `state`). With it, handlers may be `replicated` or `read`. Default:
   * none (every handler runs where it is received).
   */
  consensus?: ConsensusFactory | undefined
  /**
   * How many edges of the replica set found its group: they wait until that many are seen
   * through gossip, then one bootstraps the group with all of them. Give every edge of the
   * set the same number, and start fewer than twice as many fresh edges at once. An edge
   * that starts with a group in its data directory never bootstraps again. Required with
   * `consensus`; at most `maxVoters`.
   */
  bootstrapExpect?: number | undefined
  /** Most voters in the group; later edges stay learners (read replicas). Default 5. */
  maxVoters?: number | undefined
  /**
   * Saves and loads the application state of the `replicated` handlers, for log compaction
   * and for replicas that catch up from a snapshot. Without it snapshots hold only the
   * edge's own state (the session table): right only when the handlers keep their state
   * elsewhere, such as in the consensus log itself.
   */
  state?: ReplicatedState | undefined
  /**
   * Bounds of the session table that makes re-sent requests apply once: `maxSessions`
   * client sessions (default 4096; one more evicts the least recently used) and, per
   * session, the answers to its last `window` requests (default 128; a client that re-sends
   * a request older than that may see it applied twice). The same on every edge of the set.
   * The table is replicated state: it costs memory on every replica (at most maxSessions ×
   * window answers) and is part of every snapshot.
   */
  sessions?: SessionLimits | undefined
  /**
   * The inter-node tunnel, such as `tunnel({ bind })` of `@rony/transport`: a follower
   * forwards replicated requests to the leader over it, and `ctx.execute` reaches other
   * replica sets. Without it a follower forwards through the consensus instead (slower: it
   * answers once it has applied the command itself), and `ctx.execute` is unavailable.
   */
  tunnel?: Tunnel | TunnelFactory | undefined
  /**
   * What a follower does with a `replicated` request: `'forward'` it to the leader and relay
   * the answer (default), or answer `'redirect'`, a `Redirect` naming the leader and its
   * gateway addresses.
   */
  onFollower?: FollowerPolicy | undefined
  /**
   * How long a `replicated` or linearizable `read` request waits for a leader (an election
   * in progress) before it is answered `E02/LEADER`, in ms. Default 3000.
   */
  leaderWait?: number | undefined
  /**
   * The clock for waits (`leaderWait`) and for the time the leader stamps on commands.
   * Default: the system clock; a virtual one in simulations.
   */
  clock?: Clock | undefined
}

/** Defaults of {@link ClusterInit}. */
export const DEFAULT_MAX_VOTERS = 5
export const DEFAULT_LEADER_WAIT = 3000

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
  /**
   * Publishing this edge's record failed (the membership refused the update); the next
   * change publishes again. The error is logged as a warning too.
   */
  'cluster:error': [error: unknown]
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
  /**
   * This edge's consensus while it runs (role, term, commit index, configuration):
   * `undefined` without `cluster.consensus` or while stopped.
   */
  readonly consensus: Consensus | undefined
  /**
   * Takes a server out of this edge's replica set (for a member that failed for good; a
   * graceful leave needs no call). A server still alive in gossip is added back by the
   * leader as a learner. Asks the leader over the tunnel when this edge does not lead.
   * Rejects with `RONY_ERR_NOT_STARTED` without a running consensus, `RONY_ERR_NOT_LEADER`
   * when no leader can be reached; on the leader as `Consensus.removeServer` does, through
   * a follower as the tunnel does (`RONY_ERR_TIMEOUT`, or `RONY_ERR_REMOTE` carrying the
   * leader's failure).
   */
  remove(id: string, options?: AbortOptions): Promise<void>
}

/** What the edge tells its cluster part about itself. */
export interface ClusterHost {
  readonly id: string
  readonly logger: ComponentLogger
  /** The gateway addresses to publish (read once the gateways are started). */
  addresses(): string[]
  readonly handlers: HandlerRegistry
  readonly pipeline: Pipeline
  readonly work: WorkCounter
  readonly limits: Readonly<EnvelopeLimits>
  /** Runs a request here by its handler's mode, as if a client sent it. */
  dispatch(
    envelope: Envelope,
    origin: RequestOrigin,
    sink: ReplySink,
  ): PromiseLike<void> | undefined
}

/** The components of one run. */
interface Run extends ClusterRun {
  readonly membership: Membership
}

/** How long a leaving leader waits for its own removal to commit, in ms. */
const LEAVE_TIMEOUT = 2000

/**
 * The edge's cluster part: per run, it starts the tunnel, the consensus and the membership,
 * builds the directory over the membership and keeps this edge's record in it current
 * (addresses, Raft role, leader, term); it forms the replica set's group and keeps its
 * configuration in step (`Formation`), and runs `replicated` and `read` requests
 * (`Replicator`). `leave()` leaves gracefully; `stop()` then stops the components.
 */
export class EdgeClusterNode extends EventEmitter<EdgeClusterEvents> implements EdgeCluster {
  readonly ownReplicaSet: number
  /** Whether the edge runs consensus (so `replicated` and `read` handlers may be added). */
  readonly replicated: boolean
  private readonly init: ClusterInit
  private readonly host: ClusterHost
  private readonly log: Logger
  private readonly clock: Clock
  private readonly changes: ChangeNotifier
  private readonly pending = new PendingRequests()
  private readonly stateMachine: EdgeStateMachine
  private readonly replicator: Replicator
  private run: Run | undefined
  private formation: Formation | undefined
  /** Whether this run left the cluster already (stop() after leave()). */
  private left = false
  /** The directory of the last run, kept after stop for `members()`. */
  private directory: Directory | undefined

  constructor(init: ClusterInit, host: ClusterHost) {
    super()
    this.init = init
    this.ownReplicaSet = init.replicaSet
    this.replicated = init.consensus !== undefined
    this.host = host
    this.log = host.logger.forComponent(`rony:edge:${host.id}:cluster`)
    this.clock = init.clock ?? systemClock
    this.changes = new ChangeNotifier(this.clock)
    this.stateMachine = new EdgeStateMachine({
      id: host.id,
      handlers: host.handlers,
      pipeline: host.pipeline,
      pending: this.pending,
      state: init.state,
      sessions: init.sessions,
      limits: host.limits,
      log: this.log,
    })
    this.replicator = new Replicator({
      id: host.id,
      replicaSet: init.replicaSet,
      pipeline: host.pipeline,
      pending: this.pending,
      work: host.work,
      limits: host.limits,
      onFollower: init.onFollower ?? 'forward',
      leaderWait: init.leaderWait ?? DEFAULT_LEADER_WAIT,
      clock: this.clock,
      changes: this.changes,
      log: this.log,
      run: () => this.run,
      dispatch: host.dispatch,
      remove: (id) => this.removeAsLeader(id),
    })
    if (init.tunnel !== undefined) {
      host.pipeline.execute = (set, message, options) =>
        this.replicator.execute(set, message, options)
    }
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

  get consensus(): Consensus | undefined {
    return this.run?.consensus
  }

  async remove(id: string, options: AbortOptions = {}): Promise<void> {
    const run = this.run
    if (run?.consensus === undefined) {
      throw new CodedError(
        'edge.cluster.remove: this edge runs no consensus',
        'RONY_ERR_NOT_STARTED',
      )
    }
    if (run.consensus.role === 'leader') return this.removeAsLeader(id, options)
    const leaderId = run.consensus.leaderId
    const address = leaderId === undefined ? undefined : run.directory.member(leaderId)?.tunnel
    if (leaderId === undefined || address === undefined || run.tunnel === undefined) {
      throw new CodedError(
        `edge.cluster.remove: this edge is not the leader, and ${leaderId === undefined ? 'no leader is known' : 'the leader cannot be reached over a tunnel'}`,
        'RONY_ERR_NOT_LEADER',
      )
    }
    const response = await run.tunnel.request(
      { id: leaderId, address },
      tunnelRequest(TunnelKind.remove, id),
      options,
    )
    if (readTunnelResponse(response, this.host.limits).status !== 'done') {
      throw new CodedError(
        `edge.cluster.remove: ${leaderId} is no longer the leader`,
        'RONY_ERR_NOT_LEADER',
      )
    }
  }

  /** Runs a request of a `replicated` or `read` handler. */
  runRequest(
    entry: HandlerEntry,
    envelope: Envelope,
    origin: RequestOrigin,
    sink: ReplySink,
  ): PromiseLike<void> {
    return this.replicator.run(entry, envelope, origin, sink)
  }

  /** The `Edges` answer to `GetNodes` (`replicaSets`) or `GetAllNodes` (`'all'`). */
  edges(replicaSets: readonly ReplicaSetKey[] | 'all'): rony.Edges {
    // Handlers run only while the edge runs, after start() built the directory.
    return edgesAnswer(this.directory as Directory, replicaSets)
  }

  /**
   * Joins the cluster: starts the tunnel and the consensus (so their addresses are known),
   * then the membership and the directory, and publishes this edge's record (awaiting it,
   * so a record that cannot be published fails the start); then forms the group. On
   * failure whatever started is stopped again and the error is thrown.
   */
  async start(): Promise<void> {
    const started: Startable[] = []
    const membership = this.buildMembership()
    const directory = new Directory({ membership, logger: this.log })
    try {
      const tunnel = this.buildTunnel()
      if (tunnel) {
        checkTunnelSize(tunnel, this.host.limits.maxEnvelopeBytes)
        tunnel.onRequest((bytes, from, signal) => this.replicator.serve(bytes, from, signal))
        await tunnel.start()
        started.push(tunnel)
      }
      const consensus = this.init.consensus?.({
        id: this.host.id,
        stateMachine: this.stateMachine,
        logger: this.host.logger,
      })
      if (consensus) {
        // The consensus replays its log (or restores its snapshot) from the start.
        this.stateMachine.reset()
        await consensus.start()
        started.push(consensus)
      }
      this.watch(directory, consensus)
      await membership.start()
      started.push(membership)
      directory.start()
      this.directory = directory
      this.run = { membership, directory, consensus, tunnel }
      this.publish()
      await directory.flush()
    } catch (error) {
      this.run = undefined
      await directory.stop()
      for (const component of started.reverse()) await settle(() => component.stop())
      throw error
    }
    this.startFormation()
    this.changes.notify()
    if (this.log.enabled)
      this.log('joined as %s in replica set %d', this.host.id, this.ownReplicaSet)
  }

  /**
   * Leaves the cluster while the edge drains: stops forming the group, and, when
   * `graceful`, takes this edge out of it if it leads (others remove a follower that left)
   * and announces the leave (others see `left`, not a failure); then stops the membership
   * (not graceful: others see this edge fail, and it keeps its place in the group). The consensus and
   * the tunnel keep running for the requests still draining, until {@link stop}; the view
   * is kept as it was. A failed leave is logged and the rest goes on.
   */
  async leave(graceful = true): Promise<void> {
    const run = this.run
    if (!run || this.left) return
    this.left = true
    await this.formation?.stop()
    this.formation = undefined
    if (graceful) {
      if (run.consensus) await this.removeSelf(run.consensus, run.directory)
      try {
        await run.membership.leave()
      } catch (error) {
        if (this.log.warn.enabled) this.log.warn('leaving the cluster failed: %O', error)
      }
    }
    await run.directory.stop()
    await run.membership.stop()
  }

  /** Stops the consensus and the tunnel (after {@link leave}, which it runs if need be). */
  async stop(): Promise<void> {
    await this.leave()
    const run = this.run
    if (!run) return
    this.run = undefined
    this.left = false
    this.changes.notify()
    const failures: unknown[] = []
    for (const component of [run.consensus, run.tunnel]) {
      if (component) failures.push(...(await settle(() => component.stop())))
    }
    if (failures.length > 0) throw failures[0]
  }

  private startFormation(): void {
    const run = this.run
    if (run?.consensus === undefined) return
    this.formation = new Formation({
      id: this.host.id,
      replicaSet: this.ownReplicaSet,
      bootstrapExpect: this.init.bootstrapExpect as number,
      maxVoters: this.init.maxVoters ?? DEFAULT_MAX_VOTERS,
      consensus: run.consensus,
      directory: run.directory,
      changes: this.changes,
      log: this.log,
    })
    this.formation.start()
  }

  /**
   * A leader leaving takes itself out of the group first (the rest then elect a leader
   * among themselves), if enough of the rest are alive to commit that; bounded in time.
   */
  private async removeSelf(consensus: Consensus, directory: Directory): Promise<void> {
    if (consensus.role !== 'leader') return
    const others = consensus
      .configuration()
      .filter((s) => s.suffrage === 'voter' && s.id !== this.host.id)
    const alive = others.filter((s) => {
      const member = directory.member(s.id)
      return member !== undefined && isLive(member)
    })
    // The change commits with a majority of the others: without one, it would only stall.
    if (others.length === 0 || alive.length < Math.floor(others.length / 2) + 1) return
    const abort = new AbortController()
    const timer = this.clock.setTimeout(() => abort.abort(), LEAVE_TIMEOUT)
    try {
      await consensus.removeServer(this.host.id, { signal: abort.signal })
    } catch (error) {
      if (this.log.warn.enabled)
        this.log.warn('could not take this edge out of its group: %s', error)
    } finally {
      this.clock.clearTimeout(timer)
    }
  }

  private async removeAsLeader(id: string, options: AbortOptions = {}): Promise<void> {
    const consensus = this.run?.consensus
    if (consensus?.role !== 'leader') {
      throw new CodedError('edge.cluster.remove: not the leader', 'RONY_ERR_NOT_LEADER')
    }
    await consensus.removeServer(id, options)
  }

  /** Keeps this edge's record current and wakes waiting requests on every change. */
  private watch(directory: Directory, consensus: Consensus | undefined): void {
    directory.on('cluster:member', (member, previous) => {
      this.changes.notify()
      this.emit('cluster:member', member, previous)
    })
    directory.on('cluster:leader', (set, leaderId, term) =>
      this.emit('cluster:leader', set, leaderId, term),
    )
    directory.on('cluster:error', (error) => this.emit('cluster:error', error))
    if (consensus === undefined) return
    const changed = (): void => {
      this.publish()
      this.changes.notify()
    }
    consensus.on('raft:role', changed)
    consensus.on('raft:leader', () => {
      this.replicator.leaderChanged()
      changed()
    })
    consensus.on('raft:membership', () => this.changes.notify())
    consensus.on('raft:error', (error) => this.log.error('the replica set stopped: %O', error))
  }

  /** Publishes this edge's record as it is now (coalesced by the directory). */
  private publish(): void {
    const run = this.run
    if (run === undefined || this.left) return
    const { consensus, tunnel } = run
    run.directory.publish({
      replicaSet: this.ownReplicaSet,
      gateways: this.host.addresses(),
      raft: consensus?.address,
      tunnel: tunnel?.address,
      role: consensus?.role ?? 'follower',
      leader: consensus?.leaderId,
      term: consensus?.term ?? 0,
    })
  }

  /** The membership of this run: the ready-made one, or a new one from the factory. */
  private buildMembership(): Membership {
    const source = this.init.membership
    if (typeof source !== 'function') return source
    const membership = source({ id: this.host.id, logger: this.host.logger })
    checkLocalId(membership, this.host.id)
    return membership
  }

  /** The tunnel of this run, if any: the ready-made one, or a new one from the factory. */
  private buildTunnel(): Tunnel | undefined {
    const source = this.init.tunnel
    if (typeof source !== 'function') return source
    return source({ id: this.host.id, logger: this.host.logger })
  }
}

/** What a forwarded command adds to its envelope at most (ids, gateway name, session), in bytes. */
const COMMAND_OVERHEAD = 1024

/**
 * The tunnel must carry any envelope a client may send, as a forwarded command.
 *
 * @throws `RangeError` naming both limits.
 */
function checkTunnelSize(tunnel: Tunnel, maxEnvelopeBytes: number): void {
  if (tunnel.maxMessageSize < maxEnvelopeBytes + COMMAND_OVERHEAD) {
    throw new RangeError(
      `createEdge: cluster.tunnel's maxMessageSize (${tunnel.maxMessageSize} bytes) must be at least the edge's limits.maxEnvelopeBytes (${maxEnvelopeBytes}) plus ${COMMAND_OVERHEAD}, so that any request can be forwarded`,
    )
  }
}

/** Runs `step`; returns its failure, if any, instead of throwing it. */
async function settle(step: () => void | Promise<void>): Promise<unknown[]> {
  try {
    await step()
    return []
  } catch (error) {
    return [error]
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
