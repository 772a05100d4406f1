import type { Clock, ComponentLogger, Random, StateMachine } from '@rony/interface'
import { integerOption } from '@rony/interface'
import type { LogStorage, ServerInfo } from './storage/types.js'
import type { RaftTransport } from './transport/stream-transport.js'

/**
 * Options of a standalone {@link raft} server: the server's own ones and what the edge
 * supplies under an edge (`ConsensusComponents` of `@rony/interface`). Every time is in milliseconds.
 */
export interface RaftInit extends RaftOptions {
  /** This server's id, unique and stable across restarts. */
  id: string
  /** The replicated state machine. */
  stateMachine: StateMachine
}

/**
 * Options of `raft()` under an edge: the edge supplies the id, the state machine and the
 * logger (`logger` here overrides the edge's). Every time is in milliseconds.
 */
export interface RaftOptions {
  /**
   * Where the default TCP transport listens and what the other servers dial, `host:port`
   * (port 0: any free port; read the chosen one from `address` once started). Required
   * unless `transport` is given.
   */
  bind?: string | undefined
  /** The other servers of a new cluster (with `bootstrap`). */
  peers?: readonly ServerInfo[] | undefined
  /**
   * Start a new cluster whose voters are this server and `peers`, when the storage holds no
   * configuration yet (later starts ignore it). Give every founding server the same list.
   * Without it, the server waits to be added by a leader (`addVoter`/`addLearner`). Default false.
   */
  bootstrap?: boolean | undefined
  /** Directory of the durable WAL and snapshots. Required unless `storage` is given. */
  dataDir?: string | undefined
  /** Storage instead of `dataDir`, such as `memoryStorage()` for tests. */
  storage?: LogStorage | undefined
  /**
   * Minimum election timeout: a follower that hears no leader for a random time in
   * `[electionTimeout, 2 × electionTimeout)` starts an election. Default 150.
   */
  electionTimeout?: number | undefined
  /** Leader heartbeat period; below `electionTimeout`. Default 50. */
  heartbeatInterval?: number | undefined
  /** Resolution of the protocol's timers. Default 10. */
  tickInterval?: number | undefined
  /** Applied entries between two state-machine snapshots (log compaction). Default 10,000. */
  snapshotThreshold?: number | undefined
  /** Largest command `propose` takes. Default 1 MiB. */
  maxCommandBytes?: number | undefined
  /** Bytes of uncommitted commands a leader holds before refusing more. Default 64 MiB. */
  maxUncommittedBytes?: number | undefined
  /** Default timeout of every asynchronous call. Default 10,000. */
  requestTimeout?: number | undefined
  /** The network; default: TCP on `address`. */
  transport?: RaftTransport | undefined
  clock?: Clock | undefined
  random?: Random | undefined
  logger?: ComponentLogger | undefined
}

export const RAFT_DEFAULTS = Object.freeze({
  electionTimeout: 150,
  heartbeatInterval: 50,
  tickInterval: 10,
  snapshotThreshold: 10_000,
  maxCommandBytes: 1024 * 1024,
  maxUncommittedBytes: 64 * 1024 * 1024,
  requestTimeout: 10_000,
})

export interface ResolvedTiming {
  readonly tickInterval: number
  readonly electionTicks: number
  readonly heartbeatTicks: number
  readonly snapshotThreshold: number
  readonly maxCommandBytes: number
  readonly maxUncommittedBytes: number
  readonly requestTimeout: number
}

/** Validates the numeric options (RangeError naming the option) and converts times to ticks. */
export function resolveTiming(init: RaftInit): ResolvedTiming {
  const d = RAFT_DEFAULTS
  const tick = integerOption('tickInterval', init.tickInterval ?? d.tickInterval, 1)
  const election = integerOption(
    'electionTimeout',
    init.electionTimeout ?? d.electionTimeout,
    2 * tick,
  )
  const heartbeat = integerOption(
    'heartbeatInterval',
    init.heartbeatInterval ?? d.heartbeatInterval,
    tick,
    election - tick,
  )
  return {
    tickInterval: tick,
    electionTicks: Math.round(election / tick),
    heartbeatTicks: Math.max(1, Math.round(heartbeat / tick)),
    snapshotThreshold: integerOption(
      'snapshotThreshold',
      init.snapshotThreshold ?? d.snapshotThreshold,
      1,
    ),
    maxCommandBytes: integerOption('maxCommandBytes', init.maxCommandBytes ?? d.maxCommandBytes, 1),
    maxUncommittedBytes: integerOption(
      'maxUncommittedBytes',
      init.maxUncommittedBytes ?? d.maxUncommittedBytes,
      1,
    ),
    requestTimeout: integerOption('requestTimeout', init.requestTimeout ?? d.requestTimeout, 1),
  }
}
