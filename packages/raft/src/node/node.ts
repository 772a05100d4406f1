import { EventEmitter } from 'node:events'
import {
  type AbortOptions,
  type Clock,
  type ClusterServer,
  CodedError,
  type Consensus,
  type ConsensusEvents,
  disabledLogger,
  Lifecycle,
  type Logger,
  type ProposeOptions,
  type ProposeResult,
  type RaftRole,
  type Random,
  type StateMachine,
  type TimerHandle,
  type TypedEmitter,
} from '@rony/interface'
import { systemClock, systemRandom, tcpTransport } from '@rony/transport'
import type { ConfChange } from '../core/configuration.js'
import type { Message } from '../core/messages.js'
import { RaftCore } from '../core/raft.js'
import type { Ready } from '../core/ready.js'
import type { ForwardState, Rejection } from '../core/types.js'
import { NotLeaderError, raftError, rejectionError } from '../errors.js'
import { type RaftInit, type ResolvedTiming, resolveTiming } from '../options.js'
import { fileStorage } from '../storage/file-storage.js'
import type {
  Configuration,
  HardState,
  LogEntry,
  LogStorage,
  RecoveredState,
  ServerInfo,
} from '../storage/types.js'
import { type RaftTransport, raftStreamTransport } from '../transport/stream-transport.js'
import { type Pending, PendingCalls } from './pending.js'

const Emitter = EventEmitter as unknown as new () => TypedEmitter<ConsensusEvents>

/** A proposal waiting for its entry to be applied. */
interface Proposal {
  readonly term: number
  readonly pending: Pending<ProposeResult>
}

/**
 * A Raft server: drives the sans-IO {@link RaftCore} with a clock, a transport, a storage
 * and the user's state machine. One `Ready` is handled at a time, in the core's order:
 * eager messages, durable writes, the other messages, apply, `advance`. Everything that
 * arrives meanwhile (messages, ticks, proposals) goes into the core and comes out in the
 * next `Ready`, so concurrent proposals share one WAL sync (group commit) and one
 * AppendEntries batch.
 */
export class RaftNode extends Emitter implements Consensus {
  readonly id: string
  readonly #init: RaftInit
  readonly #timing: ResolvedTiming
  readonly #clock: Clock
  readonly #random: Random
  readonly #log: Logger
  readonly #machine: StateMachine
  readonly #storage: LogStorage
  readonly #transport: RaftTransport
  readonly #calls: PendingCalls
  /**
   * Proposals waiting for their index to be applied: this leader's, and forwarded ones the
   * leader placed. Dropped when applied (a forwarded one that timed out meanwhile waits
   * until then), or when they settle otherwise (local ones).
   */
  readonly #proposals = new Map<number, Proposal>()
  /** ReadIndex calls not confirmed by a leader yet, by context. */
  readonly #reads = new Map<string, Pending<number>>()
  /** Forwarded proposals the leader has not answered yet, by context. */
  readonly #forwards = new Map<string, Pending<ProposeResult>>()
  /** Calls waiting for the state machine to reach an index. */
  readonly #appliedWaiters: { index: number; done: () => void }[] = []
  /** Calls waiting for a leader to be known (see `#whenLed`), retried once one is. */
  #leaderWaiters: (() => void)[] = []
  readonly #lifecycle = new Lifecycle(
    { start: () => this.#start(), stop: () => this.#stop() },
    { restartable: false },
  )
  #core: RaftCore | undefined = undefined
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new'
  /** The error that stopped the node (the state machine threw, the storage failed). */
  #fatal: CodedError | undefined = undefined
  #tick: TimerHandle | undefined = undefined
  #driving = false
  #drained: Promise<void> = Promise.resolve()
  #applied = 0
  #snapshotIndex = 0
  #contextSeq = 0
  /**
   * Drawn per start, in every ReadIndex and forwarding context: a leader's late answer to a
   * request of an earlier run of this server (same id, same sequence number) must not
   * answer a new one.
   */
  #run = ''
  /** The tail of the membership-change queue (its runs never reject). */
  #changes: Promise<void> = Promise.resolve()
  #role: RaftRole = 'follower'
  #leaderId: string | undefined = undefined
  /** The term and vote last made durable: what a core rebuilt by `bootstrap()` starts from. */
  #hardState: HardState = { term: 0, votedFor: undefined }
  /** The configuration this run bootstrapped (option or `bootstrap()`), for idempotence. */
  #bootstrapped: Configuration | undefined = undefined
  /** `bootstrap()` waits for the Ready in flight: no new one is taken meanwhile. */
  #paused = false

  constructor(init: RaftInit) {
    super()
    if (typeof init.id !== 'string' || init.id === '') throw new TypeError('id must be non-empty')
    if (init.stateMachine === undefined) throw new TypeError('stateMachine is required')
    this.id = init.id
    this.#init = init
    this.#timing = resolveTiming(init)
    this.#clock = init.clock ?? systemClock
    this.#random = init.random ?? systemRandom
    this.#log = init.logger?.forComponent(`rony:raft:${init.id}`) ?? disabledLogger
    this.#machine = init.stateMachine
    if (init.storage === undefined && init.dataDir === undefined) {
      throw new TypeError('give dataDir (durable storage) or storage')
    }
    this.#storage = init.storage ?? fileStorage(init.dataDir as string, { logger: init.logger })
    if (init.transport === undefined && init.bind === undefined) {
      throw new TypeError('give bind (the TCP transport listens there) or transport')
    }
    this.#transport =
      init.transport ??
      raftStreamTransport({
        id: init.id,
        streams: tcpTransport({
          bind: init.bind as string,
          logger: init.logger?.forComponent(`rony:raft:${init.id}:tcp`),
        }),
        clock: this.#clock,
        logger: init.logger,
      })
    this.#calls = new PendingCalls(this.#clock, this.#timing.requestTimeout)
  }

  get role(): RaftRole {
    return this.#role
  }

  get leaderId(): string | undefined {
    return this.#leaderId
  }

  get term(): number {
    return this.#core?.term ?? 0
  }

  get commitIndex(): number {
    return this.#core?.commitIndex ?? 0
  }

  /** The last entry the state machine applied. */
  get appliedIndex(): number {
    return this.#applied
  }

  /** The address the other servers reach this one at (valid once started). */
  get address(): string {
    return this.#transport.address
  }

  configuration(): ClusterServer[] {
    const c = this.#core?.configuration
    if (c === undefined) return []
    return [
      ...c.voters.map((s) => ({ ...s, suffrage: 'voter' as const })),
      ...c.learners.map((s) => ({ ...s, suffrage: 'learner' as const })),
    ]
  }

  /**
   * Opens the storage, restores the latest snapshot, listens. A second call while starting
   * or started shares the first one's outcome; a call after `stop()` rejects with
   * `RONY_ERR_STOPPED` (or the error that stopped the node): a node does not restart, a
   * new one on the same storage does.
   */
  start(): Promise<void> {
    // After a fatal error, the error itself says why the node cannot start again.
    if (this.#fatal !== undefined) return Promise.reject(this.#fatal)
    return this.#lifecycle.start()
  }

  /**
   * Rejects pending calls with `RONY_ERR_STOPPED`, closes connections, the listener and the
   * storage. During a `start()` it waits for it, then undoes it.
   */
  stop(): Promise<void> {
    return this.#lifecycle.stop()
  }

  async #start(): Promise<void> {
    this.#state = 'starting'
    const recovered = await this.#storage.open().catch((err: unknown) => {
      this.#state = 'new' // nothing to undo: start() may be retried
      throw err
    })
    try {
      await this.#startOn(recovered)
    } catch (err) {
      this.#state = 'new'
      await this.#transport.stop().catch(() => {})
      await this.#storage.close().catch(() => {})
      throw err
    }
  }

  async #startOn(recovered: RecoveredState): Promise<void> {
    if (recovered.snapshot !== undefined) {
      await this.#restore(recovered.snapshot.data)
      this.#applied = recovered.snapshot.meta.index
      this.#snapshotIndex = this.#applied
    }
    this.#hardState = recovered.hardState
    const self: ServerInfo = { id: this.id, address: this.#init.bind ?? '' }
    const founders =
      this.#init.bootstrap === true
        ? { voters: [self, ...(this.#init.peers ?? [])], learners: [] }
        : undefined
    this.#core = this.#newCore(recovered, founders)
    this.#run = Math.floor(this.#random.next() * 2 ** 52).toString(36)
    await this.#transport.start((m) => this.#onMessage(m))
    this.#state = 'running'
    this.#tick = this.#clock.setTimeout(this.#onTick, this.#timing.tickInterval)
    this.#kick()
  }

  /**
   * The core, on `recovered` state; `founders` is the configuration of a new group, used
   * only while the storage holds none (remembered then, for `bootstrap()`'s idempotence).
   */
  #newCore(recovered: RecoveredState, founders: Configuration | undefined): RaftCore {
    const core = new RaftCore({
      id: this.id,
      recovered,
      ...(founders === undefined ? {} : { bootstrap: founders }),
      random: () => this.#random.next(),
      electionTicks: this.#timing.electionTicks,
      heartbeatTicks: this.#timing.heartbeatTicks,
      maxUncommittedBytes: this.#timing.maxUncommittedBytes,
    })
    if (founders !== undefined && core.configuration === founders) this.#bootstrapped = founders
    return core
  }

  /**
   * Starts a new group on a running server in none. The core takes a bootstrap
   * configuration only when it is built, so this one is rebuilt from the durable state
   * (term and vote; a server in no group has no log): what the old core did since its
   * last Ready was neither written nor sent, as if those messages had been lost.
   */
  async bootstrap(voters: readonly Pick<ClusterServer, 'id' | 'address'>[]): Promise<void> {
    this.#running('bootstrap')
    const founders = foundingConfiguration(this.id, voters)
    this.#paused = true
    try {
      await this.#drained
      const core = this.#running('bootstrap')
      const { voters: v, learners: l } = core.configuration
      // A log without a configuration cannot happen (a group's first entry is one); keep it.
      if (v.length + l.length > 0 || core.lastIndex > 0) {
        if (this.#bootstrapped !== undefined && sameServers(this.#bootstrapped, founders)) return
        throw raftError(
          'RONY_ERR_ALREADY_IN_GROUP',
          `server ${this.id} is in a group already (configuration: ${describe(core.configuration)})`,
        )
      }
      const recovered = { hardState: this.#hardState, entries: [], snapshot: undefined }
      this.#core = this.#newCore(recovered, founders)
      this.#setLeader(undefined, this.term)
      this.emit('raft:membership', this.configuration())
    } finally {
      this.#paused = false
      this.#kick()
    }
  }

  async #stop(): Promise<void> {
    this.#state = 'stopping'
    if (this.#tick !== undefined) this.#clock.clearTimeout(this.#tick)
    this.#leaderWaiters = []
    this.#calls.rejectAll(this.#fatal ?? raftError('RONY_ERR_STOPPED', 'the Raft node stopped'))
    await this.#transport.stop()
    await this.#drained
    await this.#storage.close().catch(() => {})
    this.#state = 'stopped'
    // A stopped server leads nothing and knows no leader ('follower', as Consensus says).
    this.#setRole('follower')
    this.#setLeader(undefined, this.term)
  }

  /**
   * Appends a command and resolves once it is applied here. While no leader is known (an
   * election, or a start before one), the call waits for one within its timeout or signal,
   * then proposes (on the leader, or forwarded with `forward: true`) or rejects with
   * `NotLeaderError` naming the leader; still none at the timeout: `NotLeaderError` too.
   */
  async propose(command: Uint8Array, opts?: ProposeOptions): Promise<ProposeResult> {
    this.#running('propose')
    if (command.byteLength > this.#timing.maxCommandBytes) {
      throw raftError(
        'RONY_ERR_MESSAGE_TOO_LARGE',
        `the command has ${command.byteLength} bytes (maxCommandBytes ${this.#timing.maxCommandBytes})`,
      )
    }
    let forget = (): void => {}
    let placed = false
    const pending = this.#calls.create<ProposeResult>(
      'propose',
      opts,
      () => forget(),
      () => (placed ? undefined : noLeader()),
    )
    this.#whenLed(pending, () => {
      // The core of the moment: `bootstrap()` may have replaced the one of the call.
      const core = this.#core as RaftCore
      // A follower's proposal is sent to the leader; it resolves once applied here.
      if (opts?.forward === true && core.role !== 'leader') {
        const context = this.#nextContext()
        const result = core.forward(command, context)
        if (!result.ok) return this.#refuse(result.rejection, pending)
        this.#forwards.set(context, pending)
        forget = () => this.#forwards.delete(context)
      } else {
        const result = core.propose(command)
        if (!result.ok) return this.#refuse(result.rejection, pending)
        const { index, term } = result
        this.#proposals.set(index, { term, pending })
        forget = () => {
          if (this.#proposals.get(index)?.pending === pending) this.#proposals.delete(index)
        }
      }
      placed = true
      this.#kick()
      return true
    })
    return pending.promise
  }

  /**
   * Runs `place` once a leader is known (now, or when one is next reported) while `pending`
   * still waits. `place` returns false when the core knows no leader after all: wait again.
   */
  #whenLed<T>(pending: Pending<T>, place: () => boolean): void {
    const attempt = (): void => {
      if (pending.settled) return
      if (this.#core?.leaderId !== undefined && place()) return
      this.#leaderWaiters.push(attempt)
    }
    attempt()
  }

  /** Rejects `pending` with the core's refusal; false when it only says no leader is known. */
  #refuse(rejection: Rejection, pending: Pending<unknown>): boolean {
    if (rejection.code === 'not-leader' && rejection.leaderId === undefined) return false
    pending.reject(rejectionError(rejection))
    return true
  }

  #nextContext(): string {
    return `${this.id}:${this.#run}:${++this.#contextSeq}`
  }

  /**
   * The ReadIndex barrier. While no leader is known it waits for one, as `propose` does
   * (the read is asked again of each new leader until one confirms it).
   */
  async readIndex(opts?: AbortOptions): Promise<number> {
    const core = this.#running('readIndex')
    const context = this.#nextContext()
    const pending = this.#calls.create<number>(
      'readIndex',
      opts,
      () => this.#reads.delete(context),
      () => (this.#leaderId === undefined ? noLeader() : undefined),
    )
    this.#reads.set(context, pending)
    const result = core.readIndex(context)
    if (!result.ok) this.#refuse(result.rejection, pending) // else #report asks the next leader
    this.#kick()
    return pending.promise
  }

  addVoter(id: string, address: string, opts?: AbortOptions): Promise<void> {
    return this.#change({ type: 'add-voter', server: { id, address } }, opts)
  }

  addLearner(id: string, address: string, opts?: AbortOptions): Promise<void> {
    return this.#change({ type: 'add-learner', server: { id, address } }, opts)
  }

  removeServer(id: string, opts?: AbortOptions): Promise<void> {
    return this.#change({ type: 'remove', id }, opts)
  }

  async transferLeadership(to?: string, opts?: AbortOptions): Promise<void> {
    const core = this.#running('transferLeadership')
    const result = core.transferLeadership(to)
    if (!result.ok) throw rejectionError(result.rejection)
    const pending = this.#calls.create<void>('transferLeadership', opts, () => {
      this.off('raft:leader', onLeader)
    })
    const onLeader = (leader: string | undefined): void => {
      if (leader !== undefined && leader !== this.id) pending.resolve()
    }
    this.on('raft:leader', onLeader)
    this.#kick()
    return pending.promise
  }

  /** Membership changes run one at a time, in call order (the contract's queue). */
  async #change(change: ConfChange, opts?: AbortOptions): Promise<void> {
    const core = this.#running('membership change')
    const pending = this.#calls.create<void>('membership change', opts)
    const run = async (): Promise<void> => {
      while (this.#state === 'running' && !pending.settled) {
        const result = core.proposeConfChange(change)
        if (result.ok) {
          this.#kick()
          await this.#untilApplied(result.index, pending)
          // Applied where it was appended: committed, unless a new leader overwrote it.
          if (this.#holds(change)) pending.resolve()
          else pending.reject(raftError('RONY_ERR_LEADERSHIP_LOST', 'leadership was lost'))
          return
        }
        const { rejection } = result
        if (rejection.code === 'unchanged') return pending.resolve()
        if (rejection.code !== 'change-in-progress')
          return pending.reject(rejectionError(rejection))
        // Another change, or the new leader's first entry, is not committed yet.
        await this.#untilApplied(this.#applied + 1, pending)
      }
    }
    this.#changes = this.#changes.then(run)
    return pending.promise
  }

  #holds(change: ConfChange): boolean {
    const c = this.#core?.configuration
    if (c === undefined) return false
    const members = [...c.voters, ...c.learners]
    if (change.type === 'remove') return !members.some((s) => s.id === change.id)
    const list = change.type === 'add-voter' ? c.voters : c.learners
    return list.some((s) => s.id === change.server.id && s.address === change.server.address)
  }

  /** Resolves once `index` is applied, or when `pending` settles otherwise. */
  #untilApplied(index: number, pending: Pending<unknown>): Promise<void> {
    if (this.#applied >= index) return Promise.resolve()
    return new Promise<void>((resolve) => {
      this.#appliedWaiters.push({ index, done: resolve })
      pending.promise.then(
        () => resolve(),
        () => resolve(),
      )
    })
  }

  #running(what: string): RaftCore {
    if (this.#fatal !== undefined) throw this.#fatal
    if (this.#state !== 'running' || this.#core === undefined) {
      throw this.#state === 'new' || this.#state === 'starting'
        ? raftError('RONY_ERR_NOT_STARTED', `${what} before start()`)
        : raftError('RONY_ERR_STOPPED', `${what} after stop()`)
    }
    return this.#core
  }

  #onTick = (): void => {
    if (this.#state !== 'running') return
    this.#tick = this.#clock.setTimeout(this.#onTick, this.#timing.tickInterval)
    this.#core?.tick()
    this.#kick()
  }

  #onMessage(m: Message): void {
    if (this.#state !== 'running' || m.to !== this.id) return
    this.#core?.step(m)
    this.#kick()
  }

  /** Handles Readys until there are none; one loop at a time. */
  #kick(): void {
    if (this.#driving || this.#paused || this.#state !== 'running') return
    const core = this.#core
    if (core === undefined || !core.hasReady()) return
    this.#driving = true
    this.#drained = this.#drive(core).finally(() => {
      this.#driving = false
    })
  }

  async #drive(core: RaftCore): Promise<void> {
    try {
      while (this.#state === 'running' && !this.#paused && core.hasReady()) {
        const ready = core.ready()
        await this.#handle(core, ready)
        core.advance(ready)
        await this.#maybeSnapshot(core)
      }
    } catch (error) {
      this.#die(error)
    }
  }

  /**
   * Stops on an error the node cannot go on after (replicas would diverge, or writes would
   * not be durable): reported on `raft:error` and the logger, then every pending and later
   * call rejects with it.
   */
  #die(error: unknown): void {
    const fatal =
      error instanceof CodedError
        ? error
        : raftError('RONY_ERR_STOPPED', 'the Raft node stopped on an unexpected error', {
            cause: error,
          })
    this.#fatal = fatal
    this.#log.error('raft %s: stopping after a fatal error: %o', this.id, fatal)
    const heard = this.emit('raft:error', fatal)
    // Never silent: a node that stops must say so even without a logger or a listener.
    if (!heard && !this.#log.error.enabled) {
      console.error(`rony:raft:${this.id}: stopping after a fatal error:`, fatal)
    }
    void this.stop()
  }

  async #handle(core: RaftCore, ready: Ready): Promise<void> {
    this.#send(ready.eagerMessages)
    if (ready.snapshot !== undefined) {
      await this.#storage.saveSnapshot(ready.snapshot)
      await this.#restore(ready.snapshot.data)
      this.#applied = ready.snapshot.meta.index
      this.#snapshotIndex = this.#applied
      this.emit('raft:applied', this.#applied)
    }
    // Committed entries are durable on a majority already: applying them need not wait for
    // this server's write of newer ones, so the two overlap, as in etcd (a leader under load
    // otherwise answers each batch one fsync late).
    await Promise.all([this.#write(ready), this.#deliver(core, ready)])
    this.#send(ready.messages)
  }

  /** A Ready's events and results: role and membership, forwarded proposals, applies, reads. */
  async #deliver(core: RaftCore, ready: Ready): Promise<void> {
    if (ready.softState !== undefined) this.#report(core)
    if (ready.configuration !== undefined) {
      this.emit('raft:membership', this.configuration())
      this.#report(core)
    }
    for (const answer of ready.forwardStates) this.#onForwarded(answer)
    if (ready.committedEntries.length > 0) await this.#apply(ready.committedEntries)
    for (const { context, index } of ready.readStates) {
      const pending = this.#reads.get(context)
      if (pending === undefined) continue
      this.#reads.delete(context) // confirmed: not re-asked on a leader change
      void this.#untilApplied(index, pending).then(() => pending.resolve(index))
    }
  }

  /**
   * The leader placed (or refused) a forwarded proposal: from here on it waits for its
   * index like a local one, and `#apply` answers it with this server's result.
   */
  #onForwarded(answer: ForwardState): void {
    const pending = this.#forwards.get(answer.context)
    if (pending === undefined) return // timed out or aborted meanwhile
    this.#forwards.delete(answer.context)
    if (!answer.ok) pending.reject(rejectionError(answer.rejection))
    else if (answer.index <= this.#applied) {
      // Only on a network that reorders: the commit came before the answer, and the result
      // of that apply is gone. (One connection per server pair keeps them in order.)
      pending.reject(
        raftError('RONY_ERR_LEADERSHIP_LOST', 'the outcome of the forwarded proposal is unknown'),
      )
    } else this.#proposals.set(answer.index, { term: answer.term, pending })
  }

  /** The Ready's entries and term/vote, in one WAL batch (one sync). */
  #write(ready: Ready): Promise<unknown> {
    const writes: Promise<void>[] = []
    if (ready.entries.length > 0) writes.push(this.#storage.append(ready.entries))
    const { hardState } = ready
    if (hardState !== undefined) {
      const durable = (): void => {
        this.#hardState = hardState
      }
      writes.push(this.#storage.setHardState(hardState).then(durable))
    }
    return Promise.all(writes)
  }

  async #apply(entries: readonly LogEntry[]): Promise<void> {
    for (const entry of entries) {
      let result: unknown
      if (entry.kind === 'command') {
        try {
          result = await this.#machine.apply(entry.data, { index: entry.index, term: entry.term })
        } catch (cause) {
          throw raftError('RONY_ERR_STATE_MACHINE', `apply of entry ${entry.index} failed`, {
            cause,
          })
        }
      }
      this.#applied = entry.index
      const proposal = this.#proposals.get(entry.index)
      if (proposal !== undefined) {
        this.#proposals.delete(entry.index)
        if (proposal.term === entry.term) {
          proposal.pending.resolve({ index: entry.index, term: entry.term, result })
        } else {
          proposal.pending.reject(
            raftError('RONY_ERR_LEADERSHIP_LOST', 'a new leader replaced the entry'),
          )
        }
      }
    }
    this.emit('raft:applied', this.#applied)
    this.#wakeApplied()
  }

  #wakeApplied(): void {
    const waiting = this.#appliedWaiters
    for (let i = waiting.length - 1; i >= 0; i--) {
      const w = waiting[i]!
      if (w.index <= this.#applied) {
        waiting.splice(i, 1)
        w.done()
      }
    }
  }

  async #restore(data: Uint8Array): Promise<void> {
    try {
      await this.#machine.restore(data)
    } catch (cause) {
      throw raftError('RONY_ERR_STATE_MACHINE', 'restore of a snapshot failed', { cause })
    }
  }

  /** Compacts the log once `snapshotThreshold` entries were applied since the last snapshot. */
  async #maybeSnapshot(core: RaftCore): Promise<void> {
    if (this.#applied - this.#snapshotIndex < this.#timing.snapshotThreshold) return
    const index = this.#applied
    // A snapshot from the leader arrived while entries were applied: the next Ready restores
    // it, and the log no longer holds `index`.
    if (index <= core.snapshotIndex) return
    // Taken before the await: a leader's snapshot may replace the log while snapshot() runs.
    const meta = core.snapshotMeta(index)
    let data: Uint8Array
    try {
      data = await this.#machine.snapshot()
    } catch (cause) {
      throw raftError('RONY_ERR_STATE_MACHINE', `snapshot at ${index} failed`, { cause })
    }
    const snapshot = { meta, data }
    await this.#storage.saveSnapshot(snapshot)
    core.compact(snapshot)
    this.#snapshotIndex = index
  }

  /** Events for role and leader changes; proposals of a deposed leader are lost. */
  #report(core: RaftCore): void {
    const wasLeader = this.#role === 'leader'
    const role = roleOf(core.role, core.configuration, this.id)
    this.#setRole(role)
    if (this.#setLeader(core.leaderId, core.term) && core.leaderId !== undefined) {
      // The core forgets unconfirmed reads when the leader changes: ask the new one.
      for (const context of this.#reads.keys()) core.readIndex(context)
      for (const retry of this.#leaderWaiters.splice(0)) retry()
    }
    if (wasLeader && role !== 'leader') {
      const lost = raftError(
        'RONY_ERR_LEADERSHIP_LOST',
        'leadership was lost; the outcome is unknown',
      )
      for (const { pending } of this.#proposals.values()) pending.reject(lost)
    }
  }

  #setRole(role: RaftRole): void {
    if (role === this.#role) return
    this.#role = role
    this.emit('raft:role', role)
  }

  /** Records the leader; true when it changed. */
  #setLeader(leaderId: string | undefined, term: number): boolean {
    if (leaderId === this.#leaderId) return false
    this.#leaderId = leaderId
    this.emit('raft:leader', leaderId, term)
    return true
  }

  #send(messages: readonly Message[]): void {
    for (const m of messages) this.#transport.send({ id: m.to, address: this.#addressOf(m.to) }, m)
  }

  /** From the configuration, else the founding peers; '' when unknown (see RaftTransport.send). */
  #addressOf(id: string): string {
    const c = this.#core?.configuration
    const known = c?.voters.find((s) => s.id === id) ?? c?.learners.find((s) => s.id === id)
    return known?.address ?? this.#init.peers?.find((s) => s.id === id)?.address ?? ''
  }
}

/** The bootstrap configuration `voters` make; a TypeError when it cannot found a group. */
function foundingConfiguration(
  self: string,
  voters: readonly Pick<ClusterServer, 'id' | 'address'>[],
): Configuration {
  const ids = new Set(voters.map((v) => v.id))
  if (ids.size !== voters.length) throw new TypeError('bootstrap: the voters have a duplicate id')
  if (!ids.has(self))
    throw new TypeError(`bootstrap: the voters must include this server (${self})`)
  for (const v of voters) {
    if (typeof v.id !== 'string' || v.id === '' || typeof v.address !== 'string') {
      throw new TypeError('bootstrap: every voter needs a non-empty id and an address')
    }
  }
  return { voters: voters.map(({ id, address }) => ({ id, address })), learners: [] }
}

/** Same voters and learners, whatever the order. */
function sameServers(a: Configuration, b: Configuration): boolean {
  return describe(a) === describe(b)
}

function describe(c: Configuration): string {
  const list = (servers: readonly ServerInfo[]) =>
    servers
      .map((s) => `${s.id}@${s.address}`)
      .sort()
      .join(',')
  return `voters [${list(c.voters)}], learners [${list(c.learners)}]`
}

function noLeader(): NotLeaderError {
  return new NotLeaderError(undefined, undefined)
}

function roleOf(role: RaftCore['role'], config: Configuration, id: string): RaftRole {
  if (role === 'leader' || role === 'candidate') return role
  return config.learners.some((s) => s.id === id) ? 'learner' : 'follower'
}
