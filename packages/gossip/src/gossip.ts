import { EventEmitter } from 'node:events'
import {
  type AbortOptions,
  type Clock,
  CodedError,
  disabledLogger,
  Lifecycle,
  type Logger,
  type Member,
  type Membership,
  type MembershipEvents,
  type MessageStream,
  type PacketTransport,
  type Random,
  type StreamTransport,
  type TimerHandle,
  type TypedEmitter,
} from '@rony/interface'
import { advertiseAddress } from './advertise.js'
import { Awareness } from './awareness.js'
import { BroadcastQueue, queueBound } from './broadcast/queue.js'
import { SeenBroadcasts } from './broadcast/seen.js'
import { frameMessages, frameOverhead, type Keyring } from './codec/crypto.js'
import * as wire from './codec/wire.js'
import type { GossipContext } from './context.js'
import { defaultTransports, systemClock, systemRandom } from './defaults.js'
import { checkMeta } from './meta.js'
import { type GossipConfig, type GossipInit, resolveConfig, retransmitLimit } from './options.js'
import { Prober } from './probe/prober.js'
import { PushPull } from './pushpull.js'
import { Rotation } from './rotation.js'
import { isLive, MemberTable, type NodeRecord, snapshot } from './state/table.js'
import { emptyStats, type GossipStats } from './stats.js'
import { decodeFramed } from './stream.js'
import { kRandom, shuffle, Timers } from './timers.js'

const Emitter = EventEmitter as unknown as new () => TypedEmitter<MembershipEvents>

const notStarted = (what: string) =>
  new CodedError(`gossip: ${what} before start()`, 'RONY_ERR_NOT_STARTED')

/** How long a join waits before its early gossip round, so that joins learned together share it. */
const EARLY_GOSSIP_MS = 5
/** Most members a joining node announces itself to directly (the rest hear it by gossip). */
const ANNOUNCE_MAX = 256

/** The SWIM + Lifeguard membership component (private: users get it from `gossip()`). */
export class Gossip extends Emitter implements Membership, GossipContext {
  readonly cfg: GossipConfig
  readonly clock: Clock
  readonly random: Random
  readonly awareness: Awareness
  readonly timers: Timers
  readonly counters: GossipStats = emptyStats()
  readonly log: Logger
  readonly keyring: Keyring | undefined
  readonly table: MemberTable
  readonly #queue = new BroadcastQueue(() => queueBound(this.table.liveCount()))
  readonly #seen: SeenBroadcasts
  readonly #prober: Prober
  readonly #pushPull: PushPull
  /** Gossip targets: a shuffled round-robin, so a message's transmissions reach distinct members. */
  readonly #targets: Rotation
  readonly #init: GossipInit
  readonly #shutdown = new AbortController()
  #packets: PacketTransport | undefined
  #streams: StreamTransport | undefined
  /** The table, incarnation and shutdown signal belong to one run: no restart. */
  readonly #lifecycle = new Lifecycle(
    { start: () => this.#start(), stop: () => this.#stop() },
    { restartable: false },
  )
  #running = false
  /** `start()` was called: from then on `stop()` aborts the shutdown signal. */
  #begun = false
  #seq = 0
  #boot = 0
  #userSeq = 0
  #leaving: Promise<void> | undefined
  /** The pending early gossip round (see `#gossipSoon`), and when the last one was set. */
  #early: TimerHandle | undefined
  #earlyAt = Number.NEGATIVE_INFINITY

  constructor(init: GossipInit) {
    super()
    this.#init = init
    this.cfg = resolveConfig(init)
    this.clock = init.clock ?? systemClock
    this.random = init.random ?? systemRandom
    this.keyring = init.keyring
    this.log = init.logger?.forComponent(`rony:gossip:${this.cfg.id}`) ?? disabledLogger
    this.awareness = new Awareness(this.cfg.awarenessMaxMultiplier)
    this.timers = new Timers(this.clock)
    this.#targets = new Rotation(this.random)
    this.#seen = new SeenBroadcasts(Math.max(60_000, 2 * this.cfg.gossipToTheDeadTime))
    this.table = new MemberTable(
      this.cfg,
      this.clock,
      this.awareness,
      this.#queue,
      {
        join: (m) => {
          this.#prober.added(m.id)
          this.#targets.add(m.id)
          this.#pushPull.heardJoin()
          this.#gossipSoon()
          this.#emit('member:join', m)
        },
        update: (m) => this.#emit('member:update', m),
        suspect: (m) => {
          this.#gossipSoon()
          this.#emit('member:suspect', m)
        },
        leave: (m, reason) => {
          this.#gossipSoon()
          this.#emit('member:leave', m, reason)
        },
      },
      this.log,
    )
    this.#prober = new Prober(this)
    this.#pushPull = new PushPull(this)
  }

  get running(): boolean {
    return this.#running
  }

  get signal(): AbortSignal {
    return this.#shutdown.signal
  }

  get streams(): StreamTransport {
    return this.#streams!
  }

  get local(): Member {
    return snapshot(this.table.local)
  }

  start(): Promise<void> {
    this.#begun = true
    return this.#lifecycle.start()
  }

  stop(): Promise<void> {
    // Before waiting for a start in progress: it then stops at its next step. A stop before
    // any start is a no-op, as the Startable contract says.
    if (this.#begun) this.#shutdown.abort(new CodedError('gossip stopped', 'RONY_ERR_STOPPED'))
    return this.#lifecycle.stop()
  }

  /** Binds the transports, then runs; a failure (or a stop meanwhile) releases what was bound. */
  async #start(): Promise<void> {
    const t = this.#init.transport ?? (await defaultTransports(this.cfg.bind))
    this.#packets = t.packet
    this.#streams = t.stream
    t.packet.onPacket((data, from) => this.#onPacket(data, from))
    t.stream.onStream((s) => this.#onStream(s))
    try {
      await t.packet.start()
      await t.stream.start()
      this.table.local.address = this.cfg.advertise ?? advertiseAddress(t.packet.address)
    } catch (err) {
      await this.#closeTransports()
      throw err
    }
    if (this.#shutdown.signal.aborted) return // stop() was called meanwhile: it closes them
    this.#boot = Math.floor(this.random.next() * 0x1_0000_0000) >>> 0
    this.#running = true
    this.table.announceLocal()
    this.#prober.start()
    this.timers.after(Math.floor(this.random.next() * this.cfg.gossipInterval), this.#onGossip)
    this.#pushPull.start()
    if (this.log.enabled) this.log('started at %s', this.table.local.address)
  }

  async #stop(): Promise<void> {
    this.#running = false
    this.timers.clear()
    this.table.close()
    this.#prober.stop()
    this.#pushPull.stop()
    this.#queue.clear()
    await this.#closeTransports()
  }

  async #closeTransports(): Promise<void> {
    try {
      await this.#packets?.stop()
      await this.#streams?.stop()
    } catch (err) {
      this.log.error('stopping transports failed: %o', err)
    }
  }

  members(): Member[] {
    const out: Member[] = []
    for (const r of this.table.nodes.values()) {
      if (isLive(r)) out.push(snapshot(r))
    }
    return out
  }

  member(id: string): Member | undefined {
    const r = this.table.nodes.get(id)
    return r === undefined ? undefined : snapshot(r)
  }

  /** Counters: traffic, drops by reason, probes, push-pulls, health. A copy. */
  stats(): GossipStats {
    return {
      ...this.counters,
      dropped: { ...this.counters.dropped },
      healthScore: this.awareness.score,
      queued: this.#queue.length,
    }
  }

  async updateMeta(meta: Readonly<Record<string, string>>, opts?: AbortOptions): Promise<void> {
    opts?.signal?.throwIfAborted()
    if (!this.running) throw notStarted('updateMeta()')
    this.table.local.meta = checkMeta(meta, this.cfg.maxMetaBytes)
    this.table.announceLocal()
  }

  broadcast(data: Uint8Array): void {
    if (!this.running) throw notStarted('broadcast()')
    const seq = this.#userSeq++ >>> 0
    const msg = wire.userEvent(this.table.local.id, this.#boot, seq, data)
    const room = this.#packets!.maxPacketSize - frameOverhead(this.keyring) - 64
    if (wire.framedSize(msg) > room) {
      throw new CodedError(
        `gossip: broadcast of ${data.byteLength} bytes does not fit in one packet`,
        'RONY_ERR_MESSAGE_TOO_LARGE',
      )
    }
    this.#seen.add(this.table.local.id, this.#boot, seq, this.clock.now())
    this.#queue.push(undefined, msg)
  }

  leave(opts?: AbortOptions): Promise<void> {
    if (!this.running) return Promise.reject(notStarted('leave()'))
    this.#leaving ??= new Promise<void>((resolve, reject) => {
      // stop() cuts a leave short with RONY_ERR_STOPPED, as it does every pending call.
      const shutdown = this.#shutdown.signal
      const signal =
        opts?.signal === undefined ? shutdown : AbortSignal.any([opts.signal, shutdown])
      let timer: ReturnType<Timers['after']> | undefined
      const done = (): void => {
        this.timers.cancel(timer)
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = (): void => {
        this.timers.cancel(timer)
        reject(signal?.reason)
      }
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      const others = this.table.liveCount() > 1
      this.table.leaving = true
      const l = this.table.local
      this.table.dead(
        { Incarnation: l.incarnation, Node: l.id, From: l.id },
        others ? done : undefined,
      )
      if (!others) return done()
      timer = this.timers.after(this.cfg.leaveTimeout, done)
    })
    return this.#leaving
  }

  // GossipContext

  nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0
    return this.#seq
  }

  send(to: string, parts: Uint8Array[]): void {
    const packets = this.#packets
    if (packets === undefined || !this.running) return
    let used = frameOverhead(this.keyring)
    for (const p of parts) used += wire.framedSize(p)
    const limit = retransmitLimit(this.cfg.retransmitMult, this.table.liveCount())
    const extra = this.#queue.take(packets.maxPacketSize - used, limit)
    this.#transmit(packets, to, frameMessages(this.keyring, parts, extra))
  }

  announce(): void {
    const packets = this.#packets
    if (packets === undefined || !this.running) return
    const t = this.table
    const data = frameMessages(this.keyring, [t.localAlive()])
    const accept = (r: NodeRecord): boolean => r !== t.local && isLive(r)
    // Up to ANNOUNCE_MAX live members, all of them in random order (as before); beyond that
    // a sample drawn in place from the table, not a shuffled copy of it.
    const to =
      t.liveCount() - 1 <= ANNOUNCE_MAX
        ? shuffle(t.list.filter(accept), this.random)
        : kRandom(t.list, ANNOUNCE_MAX, this.random, accept)
    for (const r of to) this.#transmit(packets, r.address, data)
  }

  /** Sends one framed packet, counted in the stats. */
  #transmit(packets: PacketTransport, to: string, data: Uint8Array): void {
    this.counters.packetsSent++
    this.counters.bytesSent += data.byteLength
    packets.send(to, data)
  }

  #emit<E extends keyof MembershipEvents>(
    event: E,
    ...args: Parameters<MembershipEvents[E]>
  ): void {
    if (this.running) this.emit(event, ...args)
  }

  #onGossip = (): void => {
    this.timers.after(this.cfg.gossipInterval, this.#onGossip)
    this.#gossipRound()
  }

  /**
   * A member joined, is suspected, failed or left: spread the news in a few ms instead of
   * at the next round, up to a gossip interval away. Each node that learns it does the
   * same, so it reaches a LAN cluster in a few network hops rather than a few rounds
   * (memberlist waits for the rounds): joins are seen sooner, suspicions gather their
   * confirmations sooner, and a failure reaches the last member sooner. Early rounds come a few ms late and at most four per gossip interval, so that
   * many joins at once (a cluster forming) still share packets. They take from the same
   * retransmit budget: a message is not sent more often, only sooner.
   */
  #gossipSoon(): void {
    const now = this.clock.now()
    if (this.#early !== undefined || now - this.#earlyAt < this.cfg.gossipInterval / 4) return
    this.#earlyAt = now
    this.#early = this.timers.after(EARLY_GOSSIP_MS, () => {
      this.#early = undefined
      this.#gossipRound()
    })
  }

  /** Sends queued broadcasts to `gossipNodes` random members (and recently dead ones). */
  #gossipRound(): void {
    const packets = this.#packets
    if (!this.running || packets === undefined) return
    const now = this.clock.now()
    this.#seen.sweep(now)
    if (this.#queue.length === 0) return
    const t = this.table
    const ids = this.#targets.take(
      this.cfg.gossipNodes,
      (id) => {
        const r = t.nodes.get(id)
        if (r === undefined || r === t.local || r.state === 'left') return false
        return isLive(r) || t.downFor(r, now) <= this.cfg.gossipToTheDeadTime
      },
      () => t.list.map((r) => r.id),
    )
    const limit = retransmitLimit(this.cfg.retransmitMult, t.liveCount())
    const budget = packets.maxPacketSize - frameOverhead(this.keyring)
    for (const id of ids) {
      const msgs = this.#queue.take(budget, limit)
      if (msgs.length === 0) return
      this.#transmit(packets, t.nodes.get(id)!.address, frameMessages(this.keyring, msgs))
    }
  }

  #onStream(stream: MessageStream): void {
    void this.#pushPull.serve(stream)
  }

  #onPacket(data: Uint8Array, from: string): void {
    if (!this.running) return
    this.counters.packetsReceived++
    this.counters.bytesReceived += data.byteLength
    if (data.byteLength > this.#packets!.maxPacketSize) {
      this.counters.dropped.oversized++
      return
    }
    const msgs = decodeFramed(this, data)
    if (msgs === undefined) return
    for (const m of msgs) {
      if (!this.running) return
      this.#handle(m, from)
    }
  }

  #handle(m: wire.Message, from: string): void {
    switch (m.Body) {
      case 'Ping':
        this.#prober.onPing(m.Ping, from)
        return
      case 'IndirectPing':
        this.#prober.onIndirectPing(m.IndirectPing, from)
        return
      case 'Ack':
        this.#prober.onAck(m.Ack.SeqNo)
        return
      case 'Nack':
        this.#prober.onNack(m.Nack.SeqNo)
        return
      case 'Alive': {
        // Decoded fresh for this packet: checked in place, no copy.
        const a = m.Alive
        if (!a.Node || !a.Addr) this.counters.dropped.malformed++
        else if (!Number.isSafeInteger(a.Incarnation)) this.counters.dropped.incarnation++
        else if (wire.metaSize(a.Meta) > this.cfg.maxMetaBytes) this.counters.dropped.oversized++
        else this.table.alive(a)
        return
      }
      case 'Suspect':
      case 'Dead': {
        const accusation = m.Body === 'Suspect' ? m.Suspect : m.Dead
        const inc = wire.incarnationOf(accusation.Incarnation, true)
        if (!accusation.Node) this.counters.dropped.malformed++
        else if (inc === undefined) this.counters.dropped.incarnation++
        else {
          this.#refuteAgain(accusation, from)
          if (m.Body === 'Suspect') this.table.suspect(accusation)
          else this.table.dead(accusation)
        }
        return
      }
      case 'UserEvent':
        this.#onUserEvent(m.UserEvent)
        return
      default:
        this.counters.dropped.unexpected++
    }
  }

  /**
   * A member still spreads (or probes us with) an accusation we already refuted: it missed
   * the refutation, and its suspicion would time out into a false death. Our current alive
   * goes straight back to it. Only to a live member's address, so a forged source address
   * cannot turn us into a reflector; one reply per such packet, so no amplification in count.
   */
  #refuteAgain(accusation: wire.Suspect | wire.Dead, from: string): void {
    if (!this.table.isStaleAccusation(accusation)) return
    for (const r of this.table.nodes.values()) {
      if (r.address === from && r !== this.table.local && isLive(r)) {
        this.send(from, [this.table.localAlive()])
        return
      }
    }
  }

  #onUserEvent(u: wire.UserEventBody): void {
    const from = u.From
    if (from === '' || from === this.table.local.id) {
      if (from === '') this.counters.dropped.malformed++
      return
    }
    if (!this.#seen.add(from, u.Boot, u.Seq, this.clock.now())) {
      this.counters.dropped.duplicate++
      return
    }
    const data = u.Data
    // Re-gossip (as serf does with user events), so it spreads epidemically.
    this.#queue.push(undefined, wire.userEvent(from, u.Boot, u.Seq, data))
    this.#emit('message', data.slice(), from)
  }
}
