/**
 * Replicated consensus: a log of commands that every server of a group applies in the same
 * order to its own copy of a {@link StateMachine}. `@rony/raft` implements it; the edge uses
 * it for `replicated` handlers (the state machine is handler dispatch) and linearizable
 * reads.
 *
 * Indexes and terms are JavaScript numbers: safe integers (below 2^53), which a log would
 * take centuries to exhaust.
 *
 * @module
 */

import type { CodedError } from './errors.js'
import type { TypedEmitter } from './events.js'
import type { AbortOptions, Startable } from './lifecycle.js'
import type { ComponentLogger } from './logger.js'

/**
 * Where a command sits in the replicated log.
 */
export interface LogPosition {
  /** 1-based log index of the entry; strictly increasing in apply order. */
  readonly index: number
  /** Raft term in which the entry was created (by the leader of that term). */
  readonly term: number
}

/**
 * The user's replicated state. Every server applies the same commands in the same order, so
 * every copy goes through the same states.
 *
 * The implementation never calls these methods concurrently: one call at a time, each
 * awaited before the next, so an asynchronous `snapshot()` sees a stable state. That also
 * means a slow `snapshot()` or `restore()` pauses apply; keep them fast (serialize or copy,
 * then return).
 */
export interface StateMachine {
  /**
   * Applies one committed command. Called on every server, in log order, exactly once per
   * entry between restores (after a restart, entries after the last snapshot are applied
   * again to the restored state).
   *
   * Must be deterministic: the same state and command give the same new state on every
   * server, so no local clock, randomness, or I/O whose result differs between servers.
   *
   * Report command-level failures (a missing key, a failed precondition) in the return
   * value, not by throwing: the command is committed whatever happens. A throw or rejection
   * is treated as a fatal bug, because replicas would diverge: the node stops, emits
   * `raft:error`, logs the error, and pending and later calls reject with code
   * `RONY_ERR_STATE_MACHINE` and the thrown error as `cause`.
   *
   * @param command - The bytes given to `propose`; owned by the state machine.
   * @param entry - The entry's log index and term.
   * @returns A result, handed to the proposer's `propose` on the server where it was
   * proposed (ignored elsewhere); `undefined` is fine.
   */
  apply(command: Uint8Array, entry: LogPosition): unknown | Promise<unknown>

  /**
   * Serializes the whole state, as of the last applied entry, for log compaction and for
   * sending to lagging servers. Called from time to time (for example every N entries).
   *
   * @returns The snapshot bytes; the implementation stores them with the last applied
   * index and term.
   */
  snapshot(): Uint8Array | Promise<Uint8Array>

  /**
   * Replaces the whole state with a snapshot made by `snapshot()` (on this or another
   * server). Called at start when a snapshot exists, and when the leader sends one.
   *
   * @param snapshot - Bytes returned by some server's `snapshot()`.
   */
  restore(snapshot: Uint8Array): void | Promise<void>
}

/**
 * The local server's role. `'learner'` is a non-voting member that receives the log but
 * neither votes nor counts toward quorum. The pre-vote phase (pre-candidate) is internal and
 * reported as `'follower'`. A stopped server reports `'follower'`.
 */
export type RaftRole = 'follower' | 'candidate' | 'leader' | 'learner'

/** Whether a server in the configuration votes (`'voter'`) or only replicates (`'learner'`). */
export type ServerSuffrage = 'voter' | 'learner'

/** One server of the cluster configuration. */
export interface ClusterServer {
  /** Server id, unique and stable across restarts (the edge uses its server id). */
  readonly id: string
  /** Address the consensus transport dials, such as `10.0.0.1:9001` or `memory:n1`. */
  readonly address: string
  /** Whether it votes. */
  readonly suffrage: ServerSuffrage
}

/** What `propose` resolves with. */
export interface ProposeOptions extends AbortOptions {
  /**
   * On a follower or learner, send the command to the leader instead of rejecting with
   * `RONY_ERR_NOT_LEADER`. If the request or its answer is lost (the leader changes, a
   * message drops), the call ends with the default timeout: the outcome is then unknown.
   */
  readonly forward?: boolean | undefined
}

export interface ProposeResult {
  /** Log index the command was committed at. */
  readonly index: number
  /** Term of the entry. */
  readonly term: number
  /** What `StateMachine.apply` returned for this command on this server (awaited). */
  readonly result: unknown
}

/**
 * Events of a {@link Consensus}. Listeners run synchronously; keep them short and do not
 * throw.
 */
export type ConsensusEvents = {
  /** The local server's role changed. */
  'raft:role': (role: RaftRole) => void

  /**
   * The known leader changed: a leader was elected (possibly this server), or the leader
   * was lost (`leaderId` undefined, for example when an election starts).
   *
   * @param leaderId - The leader's server id, or `undefined` when no leader is known.
   * @param term - The current term.
   */
  'raft:leader': (leaderId: string | undefined, term: number) => void

  /**
   * The state machine applied entries up to and including `index`. May be emitted once per
   * batch rather than once per entry; indexes only increase (a restore from a snapshot
   * emits the snapshot's index).
   */
  'raft:applied': (index: number) => void

  /**
   * The configuration this server uses changed. Raft uses the latest configuration in its
   * log, committed or not, so this fires when a change is appended, and again if it is
   * rolled back.
   *
   * @param servers - The new configuration, a fresh array.
   */
  'raft:membership': (servers: ClusterServer[]) => void

  /**
   * The server stopped on an error it cannot go on after: the state machine threw
   * (`RONY_ERR_STATE_MACHINE`, the thrown error as `cause`) or the storage failed
   * (`RONY_ERR_STORAGE_FAILED`). Pending and later calls reject with the same error.
   */
  'raft:error': (error: CodedError) => void
}

/**
 * One server of a consensus group.
 *
 * Leader-only methods (`propose`, `addVoter`, `addLearner`, `removeServer`,
 * `transferLeadership`) reject with a `CodedError` whose code is `RONY_ERR_NOT_LEADER` on
 * any other server; read {@link Consensus.leaderId} and retry there (the edge forwards
 * requests to the leader). Every asynchronous method rejects with `RONY_ERR_NOT_STARTED`
 * before `start()`, with `RONY_ERR_STOPPED` when `stop()` cuts it short, with
 * `RONY_ERR_TIMEOUT` after its default timeout, and with `signal.reason` when its signal
 * aborts. After a timeout or abort, the side effect may still happen.
 */
export interface Consensus extends Startable, TypedEmitter<ConsensusEvents> {
  /** This server's id, as in the configuration. */
  readonly id: string

  /**
   * The address the other servers reach this one at (what goes into a configuration, and
   * what a cluster directory advertises before any group exists). Valid once `start()`
   * resolved: before, it may be the configured one (a port 0 not yet resolved).
   */
  readonly address: string

  /** This server's current role. */
  readonly role: RaftRole

  /** Id of the leader this server knows of, `undefined` when none (election in progress). */
  readonly leaderId: string | undefined

  /** Current term: starts at 0, only increases; persisted across restarts. */
  readonly term: number

  /** Highest log index known to be committed (0 when none). */
  readonly commitIndex: number

  /**
   * Appends a command to the log and waits until it is committed and applied on this server.
   * Leader only, unless `forward` is set: then a follower or learner sends the command to
   * the leader and waits until it is applied here.
   *
   * Rejects with code `RONY_ERR_NOT_LEADER` when this server is not the leader (nothing was
   * appended; safe to retry on the leader) or, with `forward`, when no leader is known;
   * `RONY_ERR_LEADERSHIP_LOST` when leadership was lost after the command was appended (the
   * outcome is unknown: it may still commit); `RONY_ERR_MESSAGE_TOO_LARGE` when the command
   * exceeds the implementation's limit.
   *
   * @param command - Opaque command bytes; the implementation takes ownership of them.
   * @param opts - Abort signal and forwarding; the default timeout is the implementation's.
   * @returns The entry's index and term, and what `apply` returned on this server.
   */
  propose(command: Uint8Array, opts?: ProposeOptions): Promise<ProposeResult>

  /**
   * Linearizable-read barrier (Raft's ReadIndex). Resolves with a commit index once this
   * server's state machine has applied at least that index, the index having been
   * confirmed current by a quorum after this call began. A local read made after it
   * resolves reflects every write committed before the call. Works on followers and
   * learners (they ask the leader); rejects with `RONY_ERR_NOT_LEADER` when no leader is
   * known.
   *
   * @param opts - Abort signal; the default timeout is the implementation's.
   * @returns The read index.
   */
  readIndex(opts?: AbortOptions): Promise<number>

  /**
   * Adds a voting server, or promotes an existing learner. Resolves once the configuration
   * change is committed. Changes are applied one server at a time; concurrent calls are
   * queued in call order. Adding an existing voter with the same address is a no-op.
   * Leader only.
   *
   * @param id - Server id.
   * @param address - Address its consensus transport listens on.
   * @param opts - Abort signal; the default timeout is the implementation's.
   */
  addVoter(id: string, address: string, opts?: AbortOptions): Promise<void>

  /**
   * Adds a non-voting server that receives the log (to catch up before promotion, or as a
   * read replica). Resolves once the change is committed. Leader only.
   *
   * @param id - Server id.
   * @param address - Address its consensus transport listens on.
   * @param opts - Abort signal; the default timeout is the implementation's.
   */
  addLearner(id: string, address: string, opts?: AbortOptions): Promise<void>

  /**
   * Removes a server (voter or learner). Resolves once the change is committed. Removing the
   * leader itself is allowed: it steps down after the change commits. Rejects with
   * `RONY_ERR_UNKNOWN_SERVER` when `id` is not in the configuration. Leader only.
   *
   * @param id - Server id.
   * @param opts - Abort signal; the default timeout is the implementation's.
   */
  removeServer(id: string, opts?: AbortOptions): Promise<void>

  /**
   * Hands leadership to another voter (Raft's TimeoutNow): stops accepting proposals,
   * brings the target up to date, and tells it to start an election at once. Resolves once
   * another server is leader. Rejects with `RONY_ERR_UNKNOWN_SERVER` when `to` is not a
   * voter. Leader only.
   *
   * @param to - Target server id; default: the most up-to-date other voter.
   * @param opts - Abort signal; the default timeout is the implementation's (typically
   * about one election timeout).
   */
  transferLeadership(to?: string, opts?: AbortOptions): Promise<void>

  /**
   * The configuration this server currently uses (the latest in its log, committed or
   * not). Empty while the server is in no group: it was never bootstrapped and no leader
   * added it yet. So `configuration().length > 0` tells whether this server is in a group
   * (for example after a restart on a data directory, where it must not bootstrap again).
   *
   * @returns A fresh array; the caller may keep or modify it.
   */
  configuration(): ClusterServer[]

  /**
   * Starts a new group whose voters are `voters` (this server among them): the first
   * leader elected writes this configuration as the group's first entry. Call it after
   * `start()`, on one server or on each founder with the same list, and only on a server
   * in no group (`configuration()` empty); the others join when a leader adds them
   * (`addLearner`, `addVoter`).
   *
   * The list is durable once the group's first entry (the configuration, written by its
   * first leader) is in this server's log: a server restarted before that is in no group
   * again. The founding needs every founder: until every server of the list holds the
   * group's first entry, an election needs all of their votes (not a majority), the first
   * entry does not commit, and proposals wait; so all of them must be up and reachable. In
   * exchange, servers that bootstrap different lists that overlap found at most one group
   * (the founders of a list that lost stay with an uncommitted configuration and never
   * lead); lists that share no server found one group each.
   *
   * A second call with the same servers (in any order) is a no-op. Rejects with
   * `RONY_ERR_ALREADY_IN_GROUP` when this server is in a group already (its storage holds a
   * configuration, or it was bootstrapped with another list), and with a `TypeError` when
   * the list is empty, has a duplicate id, or lacks this server.
   *
   * @param voters - The founding voters, this server included.
   */
  bootstrap(voters: readonly Pick<ClusterServer, 'id' | 'address'>[]): Promise<void>
}

/**
 * What the edge gives a consensus factory when it composes a clustered server: everything
 * that is the edge's to decide (its id, the state machine that dispatches replicated
 * handlers, its logger). The rest (listen address, storage, timing) is the factory's own
 * configuration, given when the factory was made.
 */
export interface ConsensusComponents {
  /** The server id, the edge's id: unique and stable across restarts. */
  readonly id: string
  /** The state the group replicates. */
  readonly stateMachine: StateMachine
  /** The edge's logger; the component takes its own channel (`forComponent`). */
  readonly logger: ComponentLogger
}

/**
 * Builds the consensus server once the edge supplies its components, as in
 * `createEdge({ id, cluster: { consensus: raft({ bind, dataDir }) } })`. Nothing runs
 * until the returned server's `start()`; whether and when it bootstraps a group is the
 * edge's decision ({@link Consensus.bootstrap}).
 */
export type ConsensusFactory<C extends Consensus = Consensus> = (
  components: ConsensusComponents,
) => C
