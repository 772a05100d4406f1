import {
  decodeEnvelope,
  type EnvelopeInit,
  type EnvelopeLimits,
  encodeEnvelope,
  RonyError,
} from '@rony/envelope'
import type { Logger, LogPosition, StateMachine } from '@rony/interface'
import { EMPTY_HEADERS, NEVER_ABORTED, type RequestOrigin } from '../connection.js'
import type { Pipeline } from '../pipeline.js'
import type { HandlerRegistry } from '../registry.js'
import { BatchSink, errorReply } from '../reply.js'
import { decodeCommand, type ReplicatedCommand } from './command.js'
import { nextClock, seededRandom } from './determinism.js'
import type { PendingRequest, PendingRequests } from './pending.js'
import { type SessionLimits, SessionTable } from './sessions.js'
import { decodeStateSnapshot, encodeStateSnapshot } from './state-snapshot.js'

/**
 * The application state a clustered edge replicates, beside what its `replicated` handlers
 * do: how to save it whole and load it back, for log compaction and for replicas that
 * catch up from a snapshot. Called between applies, never concurrently with a handler.
 */
export interface ReplicatedState {
  /** The whole state as bytes, as of the last applied command. */
  snapshot(): Uint8Array | Promise<Uint8Array>
  /** Replaces the whole state with what some replica's `snapshot()` returned. */
  restore(snapshot: Uint8Array): void | Promise<void>
}

/** What the state machine needs from its edge. */
export interface EdgeStateMachineInit {
  /** This edge's server id: commands whose origin it is answer its clients. */
  readonly id: string
  readonly handlers: HandlerRegistry
  readonly pipeline: Pipeline
  readonly pending: PendingRequests
  readonly state: ReplicatedState | undefined
  readonly limits: Readonly<EnvelopeLimits>
  readonly sessions?: SessionLimits | undefined
  readonly log: Logger
}

const EMPTY = new Uint8Array(0)

/**
 * The Raft state machine of a clustered edge: applying a command runs its `replicated`
 * handler, on every replica, in log order; the answers go back to whoever proposed it (and
 * pushes to the client, on the edge it is connected to). The session table answers a
 * re-sent request with its first answers instead of running it again. Nothing a command
 * carries can stop the group: a malformed command or a throwing handler is an answer.
 */
export class EdgeStateMachine implements StateMachine {
  private sessions: SessionTable
  /** The stamped time of the last applied command (never goes back). */
  private clock = 0

  constructor(private readonly init: EdgeStateMachineInit) {
    this.sessions = new SessionTable(init.sessions)
  }

  /**
   * Forgets the edge's own replicated state (sessions, clock), before a new run of the
   * consensus replays its log (or restores its snapshot) from the start.
   */
  reset(): void {
    this.sessions = new SessionTable(this.init.sessions)
    this.clock = 0
  }

  /** Applies one command; resolves with its answers (envelopes carrying its request id). */
  async apply(bytes: Uint8Array, entry: LogPosition): Promise<EnvelopeInit[]> {
    let command: ReplicatedCommand
    try {
      command = decodeCommand(bytes)
    } catch (error) {
      // Every replica has the same bytes, so every one skips it the same way.
      this.init.log.error('skipping the undecodable command at index %d: %s', entry.index, error)
      return []
    }
    this.clock = nextClock(this.clock, command.now)
    const client =
      command.origin === this.init.id ? this.init.pending.take(command.token) : undefined
    const { session } = command
    if (session !== undefined) {
      const first = this.sessions.lookup(session, command.requestId)
      if (first !== undefined) return first.map((answer) => decodeEnvelope(answer))
      // A copy that outlived its session's window (a frame delayed for long): whether the
      // first one ran cannot be told, so this one does not run.
      if (this.sessions.expired(session, command.requestId)) {
        return [errorReply(command.requestId, expired(command.requestId))]
      }
    }
    const answers = await this.run(command, client)
    if (session !== undefined) {
      this.sessions.record(session, command.requestId, answers.map(encodeEnvelope), entry.index)
    }
    return answers
  }

  async snapshot(): Promise<Uint8Array> {
    const user = this.init.state === undefined ? EMPTY : await this.init.state.snapshot()
    return encodeStateSnapshot({ user, sessions: this.sessions.encode(), clock: this.clock })
  }

  async restore(bytes: Uint8Array): Promise<void> {
    const snapshot = decodeStateSnapshot(bytes)
    await this.init.state?.restore(snapshot.user)
    this.sessions = SessionTable.decode(snapshot.sessions, this.init.sessions)
    this.clock = snapshot.clock
  }

  /** Runs the command's handler; its answers are collected, its pushes reach `client`. */
  private async run(
    command: ReplicatedCommand,
    client: PendingRequest | undefined,
  ): Promise<EnvelopeInit[]> {
    let envelope: ReturnType<typeof decodeEnvelope>
    try {
      envelope = decodeEnvelope(command.envelope, this.init.limits)
    } catch (error) {
      return [errorReply(command.requestId, error as RonyError)]
    }
    const handler = this.init.handlers.get(envelope.ctor)
    if (handler?.mode !== 'replicated') {
      // A replica running other code than the leader (a rolling upgrade): the same answer on
      // every replica that lacks the handler, so the group goes on.
      const description = `no replicated handler for ${this.init.handlers.describe(envelope.ctor)} on this replica`
      return [
        errorReply(
          envelope.requestId,
          new RonyError('E01', 'HANDLER', description, { code: 'RONY_ERR_UNKNOWN_CONSTRUCTOR' }),
        ),
      ]
    }
    const sink = new BatchSink(client?.sink)
    const origin = new ReplicaOrigin(command.gateway, client?.origin)
    const stamp = { now: this.clock, random: seededRandom(command.seed), origin: command.origin }
    await this.init.pipeline.run(handler, envelope, origin, sink, stamp)
    return sink.replies
  }
}

function expired(requestId: bigint): RonyError {
  return new RonyError(
    'E12',
    'SESSION',
    `request ${requestId} is older than its session's window of remembered answers: it may have run before, so it did not run again`,
    { code: 'RONY_ERR_SESSION_EXPIRED' },
  )
}

/**
 * The origin a replicated handler sees: on the edge its client is connected to, that
 * client's connection, headers and store; elsewhere none. Never aborted, on any replica, so
 * that a closed connection cannot make one replica's run differ from the others'.
 */
class ReplicaOrigin implements RequestOrigin {
  readonly signal = NEVER_ABORTED
  inFlight = 0
  private requestStore: Map<string, unknown> | undefined

  constructor(
    readonly gateway: string,
    private readonly client: RequestOrigin | undefined,
  ) {}

  get conn(): RequestOrigin['conn'] {
    return this.client?.conn
  }

  get headers(): ReadonlyMap<string, string> {
    return this.client?.headers ?? EMPTY_HEADERS
  }

  get store(): Map<string, unknown> {
    if (this.client) return this.client.store
    this.requestStore ??= new Map()
    return this.requestStore
  }
}
