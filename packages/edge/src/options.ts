import type { MessageRegistry } from '@rony/envelope'
import type { ComponentLogger, Gateway } from '@rony/interface'
import { type ClusterInit, checkLocalId, DEFAULT_MAX_VOTERS } from './cluster/cluster.js'
import { resolveSessionLimits } from './cluster/sessions.js'

/** Limits the edge enforces; every field has a safe default. */
export interface EdgeLimits {
  /** Largest envelope (or container) accepted, in bytes. Default 1 MiB. */
  maxEnvelopeBytes: number
  /** Most envelopes one container may carry. Default 1024. */
  maxContainerEnvelopes: number
  /**
   * Requests one connection may have in flight (running handlers). Beyond it a request is
   * answered at once with `E03`/`REQUESTS`, never queued. Default 1024.
   */
  maxInFlight: number
  /**
   * Open connections across all gateways. Beyond it a new connection is closed at once
   * (WebSocket code 1013, "try again later"). Default 10 000.
   */
  maxConnections: number
  /**
   * How long `stop()` lets in-flight handlers finish before it aborts their `ctx.signal`
   * and closes the connections, in ms. Default 10 000.
   */
  stopTimeout: number
}

export const DEFAULT_EDGE_LIMITS: Readonly<EdgeLimits> = Object.freeze({
  maxEnvelopeBytes: 1024 * 1024,
  maxContainerEnvelopes: 1024,
  maxInFlight: 1024,
  maxConnections: 10_000,
  stopTimeout: 10_000,
})

/** Options of `createEdge`. */
export interface EdgeInit {
  /** This edge's server id: answers carry it in `ctx.serverId`, cluster members know it by it. */
  id: string
  /** Where clients connect. At least one. */
  gateways: Gateway[]
  /**
   * Scoped loggers; the edge logs as `rony:edge:<id>`. Default: `consoleLogger()`, which
   * prints handler failures and other warnings to stderr, and debug output for the
   * namespaces in `DEBUG` (`DEBUG=rony:edge`). `silentLogger` prints nothing.
   */
  logger?: ComponentLogger
  /** Limits, merged over `DEFAULT_EDGE_LIMITS`. */
  limits?: Partial<EdgeLimits>
  /**
   * Constructor id ↔ type registry, shared with your own code if you like. Default: a new
   * registry holding the built-in messages.
   */
  registry?: MessageRegistry
  /**
   * Joins this edge to a cluster (see {@link ClusterInit}): it then publishes its replica
   * set and gateway addresses, knows every other edge (`edge.cluster`), and answers
   * `GetNodes`/`GetAllNodes` from the whole cluster. Default: none, a single node.
   */
  cluster?: ClusterInit
}

/** The longest delay a JavaScript timer honours (a longer one fires after 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** A timeout in ms that a timer can honour: an integer in [1, 2^31-1]. */
export function checkTimeout(value: unknown, what: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_TIMER_MS) {
    throw new RangeError(
      `${what} must be an integer number of ms in [1, ${MAX_TIMER_MS}], got ${String(value)}`,
    )
  }
  return value as number
}

export function resolveEdgeLimits(init: Partial<EdgeLimits> = {}): EdgeLimits {
  for (const key of Object.keys(init)) {
    if (!(key in DEFAULT_EDGE_LIMITS)) {
      throw new TypeError(
        `limits.${key} is not a limit; known: ${Object.keys(DEFAULT_EDGE_LIMITS).join(', ')}`,
      )
    }
  }
  const limits = { ...DEFAULT_EDGE_LIMITS, ...init }
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`limits.${key} must be a positive integer, got ${String(value)}`)
    }
  }
  checkTimeout(limits.stopTimeout, 'limits.stopTimeout')
  return limits
}

export function validateInit(init: EdgeInit): void {
  if (typeof init?.id !== 'string' || init.id.length === 0) {
    throw new TypeError('createEdge: `id` must be a non-empty string')
  }
  if (!Array.isArray(init.gateways) || init.gateways.length === 0) {
    throw new TypeError('createEdge: `gateways` must list at least one gateway')
  }
  const names = new Set<string>()
  for (const gateway of init.gateways) {
    if (names.has(gateway.name)) {
      throw new TypeError(
        `createEdge: two gateways are named '${gateway.name}'; names must be unique`,
      )
    }
    names.add(gateway.name)
  }
  if (init.cluster !== undefined) validateCluster(init.cluster, init.id)
}

function validateCluster(cluster: ClusterInit, edgeId: string): void {
  if (typeof cluster !== 'object' || cluster === null) {
    throw new TypeError('createEdge: `cluster` must be an object')
  }
  const { replicaSet, membership } = cluster
  if (!Number.isSafeInteger(replicaSet) || replicaSet < 0) {
    throw new RangeError(
      `createEdge: cluster.replicaSet must be a non-negative safe integer, got ${String(replicaSet)}`,
    )
  }
  validateConsensus(cluster)
  if (typeof membership === 'function') return
  if (
    typeof membership !== 'object' ||
    membership === null ||
    typeof membership.start !== 'function'
  ) {
    throw new TypeError(
      'createEdge: cluster.membership must be a Membership component or a factory (such as gossip({ bind, seeds }))',
    )
  }
  checkLocalId(membership, edgeId)
}

const FOLLOWER_POLICIES: ReadonlySet<string> = new Set(['forward', 'redirect'])

/** The consensus half of `cluster`: its options make sense only together. */
function validateConsensus(cluster: ClusterInit): void {
  const { consensus, bootstrapExpect, maxVoters, state, tunnel, onFollower, leaderWait } = cluster
  if (consensus === undefined) {
    for (const key of [
      'bootstrapExpect',
      'maxVoters',
      'state',
      'onFollower',
      'leaderWait',
    ] as const) {
      if (cluster[key] !== undefined) {
        throw new TypeError(`createEdge: cluster.${key} needs cluster.consensus`)
      }
    }
  } else if (typeof consensus !== 'function') {
    throw new TypeError(
      'createEdge: cluster.consensus must be a consensus factory (such as raft({ bind, dataDir })), which the edge completes with its state machine',
    )
  }
  const voters = maxVoters ?? DEFAULT_MAX_VOTERS
  if (!Number.isSafeInteger(voters) || voters < 1) {
    throw new RangeError(
      `createEdge: cluster.maxVoters must be a positive integer, got ${String(maxVoters)}`,
    )
  }
  if (
    consensus !== undefined &&
    (!Number.isSafeInteger(bootstrapExpect) ||
      (bootstrapExpect as number) < 1 ||
      (bootstrapExpect as number) > voters)
  ) {
    throw new RangeError(
      `createEdge: cluster.bootstrapExpect must be an integer in [1, maxVoters = ${voters}] (how many edges of the set found its group; the same on each), got ${String(bootstrapExpect)}`,
    )
  }
  if (
    state !== undefined &&
    (typeof state?.snapshot !== 'function' || typeof state.restore !== 'function')
  ) {
    throw new TypeError(
      'createEdge: cluster.state must have snapshot() and restore(bytes) functions',
    )
  }
  if (
    tunnel !== undefined &&
    typeof tunnel !== 'function' &&
    typeof tunnel?.request !== 'function'
  ) {
    throw new TypeError(
      'createEdge: cluster.tunnel must be a Tunnel or a factory (such as tunnel({ bind }))',
    )
  }
  if (onFollower !== undefined && !FOLLOWER_POLICIES.has(onFollower)) {
    throw new TypeError(
      `createEdge: cluster.onFollower must be 'forward' or 'redirect', got ${String(onFollower)}`,
    )
  }
  if (leaderWait !== undefined) checkTimeout(leaderWait, 'cluster.leaderWait')
  try {
    resolveSessionLimits(cluster.sessions)
  } catch (error) {
    const message = `createEdge: cluster.sessions: ${(error as Error).message}`
    throw error instanceof RangeError ? new RangeError(message) : new TypeError(message)
  }
}
