import {
  C_Error,
  C_Redirect,
  decodeEnvelope,
  type Envelope,
  type EnvelopeInit,
  type EnvelopeLimits,
  encodeEnvelope,
  type MessageType,
  RonyError,
  rony,
  SESSION_HEADER,
  type WireErrorCode,
} from '@rony/envelope'
import {
  type Clock,
  type Consensus,
  isCodedError,
  type Logger,
  type Tunnel,
  type TunnelPeer,
} from '@rony/interface'
import { EMPTY_HEADERS, NEVER_ABORTED, type RequestOrigin } from '../connection.js'
import type { ExecuteOptions } from '../context.js'
import type { Pipeline } from '../pipeline.js'
import type { HandlerEntry } from '../registry.js'
import { BatchSink, errorReply, messageReply, type ReplySink } from '../reply.js'
import type { WorkCounter } from '../work.js'
import type { ChangeNotifier } from './changes.js'
import { decodeCommand, encodeCommand, type ReplicatedCommand } from './command.js'
import { drawSeed } from './determinism.js'
import type { Directory } from './directory.js'
import { isLive } from './member.js'
import type { PendingRequests } from './pending.js'
import { ReadBarrier } from './read-barrier.js'
import {
  answersResponse,
  DONE_RESPONSE,
  NOT_LEADER_RESPONSE,
  readServerId,
  readTunnelRequest,
  readTunnelResponse,
  TunnelKind,
  tunnelRequest,
  UNCERTAIN_RESPONSE,
} from './tunnel-protocol.js'

/** The cluster components of one run of the edge. */
export interface ClusterRun {
  readonly consensus: Consensus | undefined
  readonly tunnel: Tunnel | undefined
  readonly directory: Directory
}

/** What a follower does with a replicated request: see `ClusterInit.onFollower`. */
export type FollowerPolicy = 'forward' | 'redirect'

export interface ReplicatorInit {
  readonly id: string
  readonly replicaSet: number
  readonly pipeline: Pipeline
  readonly pending: PendingRequests
  readonly work: WorkCounter
  readonly limits: Readonly<EnvelopeLimits>
  readonly onFollower: FollowerPolicy
  /** How long a request waits for a leader, in ms. */
  readonly leaderWait: number
  readonly clock: Clock
  readonly changes: ChangeNotifier
  readonly log: Logger
  /** The running cluster components; undefined while the edge is not running them. */
  run(): ClusterRun | undefined
  /** Runs a request here by its handler's mode, as if a client sent it (tunnel `execute`). */
  dispatch(
    envelope: Envelope,
    origin: RequestOrigin,
    sink: ReplySink,
  ): PromiseLike<void> | undefined
  /** Takes a server out of the replica set; this edge leads it. */
  remove(id: string): Promise<void>
}

/** A request attempt's outcome. */
type Outcome =
  | { readonly kind: 'answers'; readonly answers: readonly EnvelopeInit[] }
  /** Answered without running (a follower's `Redirect`). */
  | { readonly kind: 'redirect'; readonly answers: readonly EnvelopeInit[] }
  | { readonly kind: 'error'; readonly error: RonyError }
  /** No leader to take it now (none known, or it moved): wait for a change and try again. */
  | { readonly kind: 'retry'; readonly uncertain?: true }

const RETRY: Outcome = Object.freeze({ kind: 'retry' })
/** Try again, though the last attempt may have been committed (only for requests with a session). */
const RETRY_UNCERTAIN: Outcome = Object.freeze({ kind: 'retry', uncertain: true })
/** The longest a waiting request sleeps between looks at the cluster, in ms. */
const RETRY_MS = 50
const NO_SEED = [0, 0, 0, 0] as const
const DONE: PromiseLike<void> = Promise.resolve()

/**
 * Runs `replicated` and `read` requests on a clustered edge: the leader proposes a
 * replicated request to the Raft log (its answers come from applying it), a follower
 * forwards it to the leader over the tunnel and relays the answers, or answers `Redirect`;
 * a linearizable read waits for a ReadIndex barrier. With no leader known, a request waits
 * up to `leaderWait` for one, then is answered `E02/LEADER`. Also serves the edge's side
 * of the tunnel.
 */
export class Replicator {
  private readonly reads = new ReadBarrier()
  /** Each replicated handler's entry as the pipeline runs it on the receiving edge. */
  private readonly proposers = new WeakMap<HandlerEntry, HandlerEntry>()

  /** Aborted when the leader this edge knows of changes: forwards to the old one give up. */
  private leadership = new AbortController()

  constructor(private readonly init: ReplicatorInit) {}

  /** The consensus reports another leader (or none): forwards in flight stop waiting. */
  leaderChanged(): void {
    this.leadership.abort()
    this.leadership = new AbortController()
  }

  /**
   * Runs a request of a `replicated` or `read` handler; the promise never rejects. A
   * replicated request goes through the middleware here, on the edge that received it, and
   * is then replicated; its command runs the handler alone on every replica.
   */
  run(
    entry: HandlerEntry,
    envelope: Envelope,
    origin: RequestOrigin,
    sink: ReplySink,
  ): PromiseLike<void> {
    if (entry.mode === 'replicated') {
      return this.init.pipeline.run(this.proposing(entry), envelope, origin, sink) ?? DONE
    }
    const generation = this.init.work.begin()
    origin.inFlight++
    const done = (): void => {
      origin.inFlight--
      this.init.work.end(generation)
    }
    return this.read(entry, envelope, origin, sink).then(done, (error: unknown) => {
      this.init.log.error('a read request failed unexpectedly: %O', error)
      sink.reply(errorReply(envelope.requestId, internalError()))
      done()
    })
  }

  /** `entry` with, as its handler, the step that replicates the request (after middleware). */
  private proposing(entry: HandlerEntry): HandlerEntry {
    let proposing = this.proposers.get(entry)
    if (proposing === undefined) {
      proposing = {
        ...entry,
        handler: async (_request, ctx) => {
          await this.replicate(ctx.envelope, ctx.origin, ctx.sink)
          ctx.replies++ // answered: the command's answers went to the sink
          return undefined
        },
      }
      this.proposers.set(entry, proposing)
    }
    return proposing
  }

  private async replicate(
    envelope: Envelope,
    origin: RequestOrigin,
    sink: ReplySink,
  ): Promise<void> {
    const session = sessionOf(envelope)
    if (session !== undefined && !isSession(session)) {
      sink.reply(errorReply(envelope.requestId, invalidSession()))
      return
    }
    const token = this.init.pending.add(origin, sink)
    const unstamped: ReplicatedCommand = {
      envelope: encodeEnvelope(envelope),
      origin: this.init.id,
      token,
      gateway: origin.gateway,
      session,
      requestId: envelope.requestId,
      now: 0,
      seed: NO_SEED,
    }
    const outcome = await this.untilDecided(origin.signal, () => this.attempt(unstamped, origin))
    // Applied here, the command took its token already; otherwise it never will.
    if (outcome.kind !== 'answers') this.init.pending.drop(token)
    answer(sink, envelope.requestId, outcome)
  }

  /** One try at getting a replicated request committed, by the way this edge's role allows. */
  private async attempt(unstamped: ReplicatedCommand, origin: RequestOrigin): Promise<Outcome> {
    const run = this.init.run()
    if (run?.consensus === undefined) return RETRY
    const { consensus, tunnel, directory } = run
    if (consensus.role === 'leader') return this.propose(consensus, unstamped, false)
    const leaderId = consensus.leaderId
    if (leaderId === undefined) return RETRY
    if (this.init.onFollower === 'redirect') {
      const leader = directory.member(leaderId)
      return leader === undefined
        ? RETRY
        : redirectTo(unstamped.requestId, leader.replicaSet, leaderId, leader.gateways)
    }
    // Without a tunnel, Raft's own forwarding: the answers come from applying it here.
    if (tunnel === undefined) return this.propose(consensus, unstamped, true)
    const address = directory.member(leaderId)?.tunnel
    if (address === undefined) return RETRY
    return this.forward(tunnel, { id: leaderId, address }, unstamped, origin.signal)
  }

  /** Stamps the command (time, seed) and proposes it; its answers come from applying it. */
  private async propose(
    consensus: Consensus,
    unstamped: ReplicatedCommand,
    forward: boolean,
  ): Promise<Outcome> {
    const now = Math.floor(this.init.clock.now())
    const command = encodeCommand({ ...unstamped, now, seed: drawSeed() })
    try {
      const { result } = await consensus.propose(command, forward ? { forward } : undefined)
      return { kind: 'answers', answers: result as EnvelopeInit[] }
    } catch (error) {
      // Refused before anything was appended: safe to try again once the leader is known.
      if (
        isCodedError(error, 'RONY_ERR_NOT_LEADER') ||
        isCodedError(error, 'RONY_ERR_TRANSFERRING')
      ) {
        return RETRY
      }
      // Appended, and the outcome is unknown: a request with a session applies at most
      // once, so it may go again (to the next leader).
      if (
        unstamped.session !== undefined &&
        (isCodedError(error, 'RONY_ERR_LEADERSHIP_LOST') || isCodedError(error, 'RONY_ERR_TIMEOUT'))
      ) {
        return RETRY_UNCERTAIN
      }
      return { kind: 'error', error: this.consensusError(error) }
    }
  }

  /**
   * Sends the request to the leader and relays its answers. Given up on when the leader
   * changes or stays silent for `leaderWait` while it has the request: it may have
   * committed it, so a request with a session (which applies at most once) is tried again
   * with the next leader, and one without is answered as of unknown outcome.
   */
  private async forward(
    tunnel: Tunnel,
    leader: TunnelPeer,
    unstamped: ReplicatedCommand,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const moved = this.leadership.signal
    let bytes: Uint8Array
    try {
      const request = tunnelRequest(TunnelKind.forward, encodeCommand(unstamped))
      bytes = await tunnel.request(leader, request, {
        signal: AbortSignal.any([signal, moved]),
        timeout: this.init.leaderWait,
      })
    } catch (error) {
      // The leader is down or unreachable: nothing ran; a new leader will be known soon.
      if (isCodedError(error, 'RONY_ERR_DIAL_FAILED')) return RETRY
      if (!signal.aborted && (moved.aborted || isCodedError(error, 'RONY_ERR_TIMEOUT'))) {
        if (unstamped.session !== undefined) return RETRY_UNCERTAIN
        return { kind: 'error', error: outcomeUnknown(error) }
      }
      return { kind: 'error', error: this.tunnelError(error) }
    }
    const response = readTunnelResponse(bytes, this.init.limits)
    if (response.status === 'not-leader') return RETRY
    if (response.status === 'uncertain') return RETRY_UNCERTAIN
    if (response.status === 'answers') return { kind: 'answers', answers: response.answers }
    return { kind: 'error', error: internalError() }
  }

  private async read(
    entry: HandlerEntry,
    envelope: Envelope,
    origin: RequestOrigin,
    sink: ReplySink,
  ): Promise<void> {
    if (entry.consistency === 'linearizable') {
      const barrier = await this.untilDecided(origin.signal, () => this.barrier())
      if (barrier.kind !== 'answers') return answer(sink, envelope.requestId, barrier)
    }
    await this.init.pipeline.run(entry, envelope, origin, sink)
  }

  /** A ReadIndex barrier (shared by the reads arriving together): `answers` (none) once this replica may read. */
  private async barrier(): Promise<Outcome> {
    const consensus = this.init.run()?.consensus
    if (consensus === undefined) return RETRY
    try {
      await this.reads.wait(consensus)
      return { kind: 'answers', answers: [] }
    } catch (error) {
      if (isCodedError(error, 'RONY_ERR_NOT_LEADER')) return RETRY
      return { kind: 'error', error: this.consensusError(error) }
    }
  }

  /** Tries until an attempt decides, waiting for cluster changes up to `leaderWait`. */
  private async untilDecided(
    signal: AbortSignal,
    attempt: () => Promise<Outcome>,
  ): Promise<Outcome> {
    const { clock, changes, leaderWait } = this.init
    const deadline = clock.now() + leaderWait
    let uncertain = false
    for (;;) {
      const outcome = await attempt()
      if (outcome.kind !== 'retry') return outcome
      uncertain ||= outcome.uncertain === true
      const left = deadline - clock.now()
      if (left <= 0 || signal.aborted) {
        return { kind: 'error', error: uncertain ? outcomeUnknown() : noLeader(leaderWait) }
      }
      await changes.next(Math.min(left, RETRY_MS), signal)
    }
  }

  private consensusError(error: unknown): RonyError {
    return answerFor(CONSENSUS_ANSWERS, error) ?? this.unexpected('the replica set', error)
  }

  private tunnelError(error: unknown): RonyError {
    return answerFor(TUNNEL_ANSWERS, error) ?? this.unexpected('the tunnel', error)
  }

  /** A failure nobody expects: logged, answered E00 (its details stay here). */
  private unexpected(where: string, error: unknown): RonyError {
    this.init.log.error('a request failed in %s: %O', where, error)
    return internalError()
  }

  /** The edge's side of the tunnel: what other edges ask of this one. */
  async serve(bytes: Uint8Array, from: string, signal: AbortSignal): Promise<Uint8Array> {
    const { kind, payload } = readTunnelRequest(bytes)
    if (kind === TunnelKind.execute) return this.serveExecute(payload, from, signal)
    const consensus = this.init.run()?.consensus
    if (consensus === undefined || consensus.role !== 'leader') return NOT_LEADER_RESPONSE
    if (kind === TunnelKind.remove) {
      await this.init.remove(readServerId(payload))
      return DONE_RESPONSE
    }
    const unstamped = decodeCommand(payload)
    if (unstamped.origin !== from) {
      throw new TypeError(
        `a command forwarded by ${from} names another origin, ${unstamped.origin}`,
      )
    }
    const outcome = await this.propose(consensus, unstamped, false)
    if (outcome.kind === 'retry')
      return outcome.uncertain ? UNCERTAIN_RESPONSE : NOT_LEADER_RESPONSE
    if (outcome.kind === 'error') {
      return answersResponse([errorReply(unstamped.requestId, outcome.error)])
    }
    return answersResponse(outcome.answers)
  }

  private async serveExecute(
    payload: Uint8Array,
    from: string,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    const envelope = decodeEnvelope(payload, this.init.limits)
    const sink = new BatchSink()
    await this.init.dispatch(envelope, new TunnelOrigin(from, signal), sink)
    return answersResponse(sink.replies)
  }

  /** `ctx.execute`: a request to an edge of `replicaSet`, its leader if it has one. */
  async execute(replicaSet: number, message: object, options: ExecuteOptions): Promise<unknown> {
    const { messages } = this.init.pipeline
    const request = messageReply(messages, executeId(), message, options.type as MessageType)
    let answers: readonly EnvelopeInit[]
    if (replicaSet === this.init.replicaSet) {
      const sink = new BatchSink()
      const origin = new TunnelOrigin(this.init.id, options.signal ?? NEVER_ABORTED)
      await this.init.dispatch(asEnvelope(request), origin, sink)
      answers = sink.replies
    } else {
      answers = await this.executeRemote(replicaSet, request, options)
    }
    const reply = answers[0]
    if (reply === undefined) throw internalError()
    const bytes = reply.message ?? new Uint8Array(0)
    if (reply.ctor === C_Error) throw RonyError.fromWire(rony.Error.decode(bytes))
    return messages.decode(reply.ctor, bytes)
  }

  private async executeRemote(
    replicaSet: number,
    request: EnvelopeInit,
    options: ExecuteOptions,
  ): Promise<readonly EnvelopeInit[]> {
    const run = this.init.run()
    const tunnel = run?.tunnel
    if (run === undefined || tunnel === undefined) {
      throw new RonyError('E02', 'TUNNEL', 'this edge runs no tunnel', {
        code: 'RONY_ERR_NO_TUNNEL',
      })
    }
    const target = pickEdge(run.directory, replicaSet)
    if (target === undefined) {
      throw new RonyError('E02', 'TUNNEL', `no edge of replica set ${replicaSet} is known`, {
        code: 'RONY_ERR_NO_EDGE',
      })
    }
    try {
      const bytes = await tunnel.request(
        target,
        tunnelRequest(TunnelKind.execute, encodeEnvelope(request)),
        { signal: options.signal, timeout: options.timeout },
      )
      const response = readTunnelResponse(bytes, this.init.limits)
      if (response.status !== 'answers') throw internalError()
      return response.answers
    } catch (error) {
      if (error instanceof RonyError || options.signal?.aborted) throw error
      throw this.tunnelError(error)
    }
  }
}

/** Writes an outcome's answers (or its error) to the client. */
function answer(sink: ReplySink, requestId: bigint, outcome: Outcome): void {
  if (outcome.kind === 'error') {
    sink.reply(errorReply(requestId, outcome.error))
    return
  }
  if ((outcome.kind === 'answers' || outcome.kind === 'redirect') && outcome.answers.length > 0) {
    for (const reply of outcome.answers) sink.reply(reply)
    return
  }
  sink.reply(errorReply(requestId, internalError()))
}

/** A request built here, as if decoded. */
function asEnvelope(init: EnvelopeInit): Envelope {
  return {
    ctor: init.ctor,
    requestId: init.requestId ?? 0n,
    jsonEncoded: false,
    message: init.message ?? new Uint8Array(0),
    auth: new Uint8Array(0),
    header: [],
  }
}

/** Longest session id, in characters (what `@rony/client` accepts too). */
const MAX_SESSION_LENGTH = 128
/** Printable ASCII only. */
const SESSION_CHARS = /^[\x20-\x7e]+$/

/** A session id the session table keeps: it is replicated state, so it is bounded. */
function isSession(session: string): boolean {
  return session.length <= MAX_SESSION_LENGTH && SESSION_CHARS.test(session)
}

function invalidSession(): RonyError {
  return new RonyError(
    'E01',
    'SESSION',
    `the ${SESSION_HEADER} header must be 1 to ${MAX_SESSION_LENGTH} printable ASCII characters`,
    { code: 'RONY_ERR_INVALID_SESSION' },
  )
}

function sessionOf(envelope: Envelope): string | undefined {
  for (const entry of envelope.header) if (entry.key === SESSION_HEADER) return entry.value
  return undefined
}

/** A live edge of the set with a tunnel: its leader if it has one. */
function pickEdge(directory: Directory, replicaSet: number): TunnelPeer | undefined {
  // The set's leader comes first.
  for (const member of directory.replicaSet(replicaSet)) {
    if (isLive(member) && member.tunnel !== undefined) {
      return { id: member.id, address: member.tunnel }
    }
  }
  return undefined
}

let executeIds = 0n
/** Request ids of `ctx.execute`: they only pair a request with its answers. */
function executeId(): bigint {
  executeIds = executeIds >= 0xffff_ffff_ffff_ffffn ? 1n : executeIds + 1n
  return executeIds
}

/** The origin of a request another edge sent over the tunnel. */
class TunnelOrigin implements RequestOrigin {
  readonly conn = undefined
  readonly gateway = 'tunnel'
  readonly headers = EMPTY_HEADERS
  inFlight = 0
  private requestStore: Map<string, unknown> | undefined

  constructor(
    /** The sending edge's id. */
    readonly from: string,
    readonly signal: AbortSignal,
  ) {}

  get store(): Map<string, unknown> {
    this.requestStore ??= new Map()
    return this.requestStore
  }
}

/** A `Redirect` answer to request `requestId` (the client pairs it with its request by id). */
function redirectTo(
  requestId: bigint,
  replicaSet: number,
  leaderId: string,
  gateways: readonly string[],
): Outcome {
  const redirect = rony.Redirect.create({
    Reason: rony.RedirectReason.ReplicaSetRequest,
    Edges: [{ ReplicaSet: replicaSet, ServerID: leaderId, HostPorts: [...gateways] }],
    WaitInSec: 0,
  })
  const message = rony.Redirect.encode(redirect).finish()
  return { kind: 'redirect', answers: [{ ctor: C_Redirect, requestId, message }] }
}

function outcomeUnknown(cause?: unknown): RonyError {
  return new RonyError(
    'E06',
    'LEADER',
    'the leader changed or fell silent while it had the request: it may or may not have been applied (re-send it with a client session to apply it at most once)',
    { code: 'RONY_ERR_OUTCOME_UNKNOWN', cause },
  )
}

function noLeader(waited: number): RonyError {
  return new RonyError('E02', 'LEADER', `no leader of this replica set within ${waited} ms`, {
    code: 'RONY_ERR_NO_LEADER',
  })
}

function internalError(): RonyError {
  return new RonyError('E00', 'SERVER', 'internal server error')
}

/** How a failure is answered: wire code, items, description, and the stable code if not its own. */
type Answer = readonly [wireCode: WireErrorCode, items: string, description: string, code?: string]

const SHUTTING_DOWN: Answer = [
  'E02',
  'SERVER',
  'the server is shutting down',
  'RONY_ERR_SHUTTING_DOWN',
]
const MAY_HAVE_RUN = 'the request may or may not have been applied'

/** The consensus failures a client may be told of, by code. */
const CONSENSUS_ANSWERS: Readonly<Record<string, Answer>> = {
  RONY_ERR_LEADERSHIP_LOST: ['E02', 'LEADER', `leadership changed; ${MAY_HAVE_RUN}`],
  RONY_ERR_TIMEOUT: ['E06', 'LEADER', `not committed in time; ${MAY_HAVE_RUN}`],
  RONY_ERR_OVERLOADED: ['E09', 'LEADER', 'too much is waiting to be committed'],
  RONY_ERR_MESSAGE_TOO_LARGE: ['E01', 'ENVELOPE', 'the request is too large to replicate'],
  RONY_ERR_STOPPED: SHUTTING_DOWN,
  RONY_ERR_NOT_STARTED: SHUTTING_DOWN,
}

/** The tunnel failures a client may be told of, by code. */
const TUNNEL_ANSWERS: Readonly<Record<string, Answer>> = {
  RONY_ERR_TIMEOUT: ['E06', 'TUNNEL', `no answer from the other edge in time; ${MAY_HAVE_RUN}`],
  RONY_ERR_BUSY: ['E09', 'TUNNEL', 'the other edge is busy'],
  RONY_ERR_MESSAGE_TOO_LARGE: ['E01', 'ENVELOPE', 'the request is too large for the tunnel'],
  RONY_ERR_DIAL_FAILED: ['E02', 'TUNNEL', 'the other edge cannot be reached'],
  RONY_ERR_STOPPED: SHUTTING_DOWN,
  RONY_ERR_NOT_STARTED: SHUTTING_DOWN,
}

/** `error` as the client's answer, from `answers`; `undefined` for one nobody expects. */
function answerFor(
  answers: Readonly<Record<string, Answer>>,
  error: unknown,
): RonyError | undefined {
  if (!isCodedError(error)) return undefined
  const answer = answers[error.code]
  if (answer === undefined) return undefined
  const [wireCode, items, description, as = error.code] = answer
  return new RonyError(wireCode, items, description, { code: as, cause: error })
}
