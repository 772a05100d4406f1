import type { Clock, LeaveReason, Logger, Member, MemberState } from '@rony/interface'
import type { Awareness } from '../awareness.js'
import type { BroadcastQueue } from '../broadcast/queue.js'
import * as wire from '../codec/wire.js'
import { type GossipConfig, suspicionTimeout } from '../options.js'
import { MemberIndex } from './member-index.js'
import { type MemberStrings, sharedStrings } from './strings.js'
import { Suspicion } from './suspicion.js'

/**
 * What the local node knows about one member. A table holds one per member, so a node of a
 * 10,000-member cluster holds 10,000 and a simulation of that cluster 10^8: every field
 * costs. Five fields (64 bytes with 8-byte pointers): the id and address are the process's
 * pooled strings (the local member's address excepted), the incarnation a small integer (a
 * V8 Smi, stored in the field itself). What only a few members need (a suspicion timer, the
 * time a member went down) lives in the table's side maps.
 */
export interface NodeRecord {
  readonly id: string
  address: string
  meta: Readonly<Record<string, string>>
  incarnation: number
  state: MemberState
}

/** Events the table raises; the component forwards them to its listeners. */
export interface TableEvents {
  join(m: Member): void
  update(m: Member): void
  suspect(m: Member): void
  leave(m: Member, reason: LeaveReason): void
}

/** Whether a member counts as a live one: alive, or suspected but not yet declared failed. */
export function isLive(rec: NodeRecord): boolean {
  return isLiveState(rec.state)
}

const isLiveState = (s: MemberState): boolean => s === 'alive' || s === 'suspect'

/**
 * A frozen public snapshot of a record. Made on demand, never cached: a cached one would
 * cost every member a second object on every other member.
 */
export function snapshot(rec: NodeRecord): Member {
  return Object.freeze({
    id: rec.id,
    address: rec.address,
    meta: rec.meta,
    state: rec.state,
    incarnation: rec.incarnation,
  })
}

/**
 * `n` as a small integer when it is one: a decoded number can be a heap number even with an
 * integral value (protobufjs computes 64-bit fields in floating point), which costs a 16-byte
 * object per record where a Smi costs nothing. Larger values stay as they are.
 */
const small = (n: number): number => (n >= 0 && n <= 0x3fff_ffff ? n | 0 : n)

/** The meta of every member that has none: one frozen object instead of one per member. */
const NO_META: Readonly<Record<string, string>> = Object.freeze({})

/** A member's own copy of decoded meta (the shared empty one when it has no keys). */
const ownMeta = (m: Readonly<Record<string, string>>): Readonly<Record<string, string>> =>
  Object.keys(m).length === 0 ? NO_META : { ...m }

const sameMeta = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) => {
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  return ka.every((k) => a[k] === b[k])
}

/**
 * The member table and SWIM's rules for alive, suspect and dead messages with incarnation
 * numbers, as memberlist's `aliveNode`, `suspectNode`, `deadNode` and `mergeState`. Every
 * accepted change is queued for gossip and raised as an event; stale news (a lower
 * incarnation) is ignored. News about the local member that contradicts it is refuted with
 * a higher incarnation.
 */
export class MemberTable {
  /**
   * The records of `nodes` in a stable array, for sampling members at random without copying
   * the table (memberlist's `kRandomNodes` over its `nodes` slice). Reaping compacts it.
   */
  readonly list: NodeRecord[] = []
  /** The records by id (the same as `list`, in the same order). */
  readonly nodes: MemberIndex
  /** Members declared failed (not left), kept to retry them after a partition heals. */
  readonly failed = new Map<string, { address: string; since: number }>()
  readonly local: NodeRecord
  /** Set by `leave()`: the local member no longer refutes its death. */
  leaving = false
  /** The running suspicion timers by member id: few members are suspected at once. */
  readonly #suspicions = new Map<string, Suspicion>()
  /** Clock time each dead or left member went down (only they are timed), by id. */
  readonly #downSince = new Map<string, number>()
  /** Where records keep their ids and addresses; `undefined` after `close()`. */
  #strings: MemberStrings | undefined

  readonly #cfg: GossipConfig
  readonly #clock: Clock
  readonly #awareness: Awareness
  readonly #queue: BroadcastQueue
  readonly #events: TableEvents
  readonly #log: Logger
  /** Records alive or suspect, kept on every state change: `liveCount()` runs on every packet. */
  #live = 1

  constructor(
    cfg: GossipConfig,
    clock: Clock,
    awareness: Awareness,
    queue: BroadcastQueue,
    events: TableEvents,
    log: Logger,
    strings: MemberStrings = sharedStrings,
  ) {
    this.#strings = strings
    this.#cfg = cfg
    this.#clock = clock
    this.#awareness = awareness
    this.#queue = queue
    this.#events = events
    this.#log = log
    this.local = {
      id: cfg.id,
      address: cfg.advertise ?? '',
      meta: cfg.meta,
      incarnation: 0,
      state: 'alive',
    }
    this.list.push(this.local)
    this.nodes = new MemberIndex(strings.ids, this.local, this.list)
  }

  /** Members alive or suspect, the local one included (at least 1). */
  liveCount(): number {
    return Math.max(1, this.#live)
  }

  /** No other member is live (a node joining): what it merges is news to it alone (see `merge`). */
  get alone(): boolean {
    return this.#live <= 1
  }

  /** Changes a record's state, keeping the live count. */
  #setState(rec: NodeRecord, state: MemberState): void {
    this.#live += Number(isLiveState(state)) - Number(isLive(rec))
    rec.state = state
  }

  /** Announces the local member (at a new incarnation) with its current address and meta. */
  announceLocal(): void {
    const l = this.local
    l.incarnation = small(Math.min(wire.MAX_INCARNATION, l.incarnation + 1))
    this.#queue.push(l.id, this.localAlive())
  }

  /** The local member's alive message, as it stands. */
  localAlive(): Uint8Array {
    return wire.alive(this.#aliveOf(this.local))
  }

  /**
   * Applies an alive message.
   *
   * @param spread - Whether news it brings is queued for gossip (see `merge`).
   */
  alive(a: wire.Alive, spread = true): void {
    const id = a.Node ?? ''
    const inc = a.Incarnation ?? 0
    const addr = a.Addr ?? ''
    const meta = a.Meta ?? NO_META
    if (id === '' || addr === '') return
    if (id === this.local.id) {
      if (this.leaving || inc < this.local.incarnation) return
      if (
        inc === this.local.incarnation &&
        addr === this.local.address &&
        sameMeta(meta, this.local.meta)
      ) {
        return
      }
      this.refute(inc)
      return
    }
    let rec = this.nodes.get(id)
    if (rec === undefined) {
      rec = {
        id: this.#holdId(id),
        address: this.#holdAddress(addr),
        meta: ownMeta(meta),
        incarnation: small(inc),
        state: 'alive',
      }
      this.list.push(rec)
      this.nodes.add(rec)
      this.#live++
      this.failed.delete(id)
      if (spread)
        this.#queue.push(rec.id, wire.alive({ Incarnation: inc, Node: id, Addr: addr, Meta: meta }))
      this.#events.join(snapshot(rec))
      return
    }
    if (inc <= rec.incarnation) return
    this.#endSuspicion(rec.id)
    const prev = rec.state
    // Fields that did not change keep their objects: the decoded copies become garbage.
    const metaChanged = !sameMeta(meta, rec.meta)
    const changed = addr !== rec.address || metaChanged
    if (addr !== rec.address) {
      this.#strings?.addresses.release(rec.address)
      rec.address = this.#holdAddress(addr)
    }
    if (metaChanged) rec.meta = ownMeta(meta)
    rec.incarnation = small(inc)
    this.#setState(rec, 'alive')
    if (prev === 'dead' || prev === 'left') this.#downSince.delete(rec.id)
    this.failed.delete(id)
    if (spread)
      this.#queue.push(rec.id, wire.alive({ Incarnation: inc, Node: id, Addr: addr, Meta: meta }))
    if (prev === 'dead' || prev === 'left') this.#events.join(snapshot(rec))
    else if (prev === 'suspect' || changed) this.#events.update(snapshot(rec))
  }

  /** Applies a suspect message. */
  suspect(s: wire.Suspect): void {
    const id = s.Node ?? ''
    const inc = s.Incarnation ?? 0
    const from = s.From ?? ''
    const rec = this.nodes.get(id)
    // At the largest incarnation, a suspicion could never be refuted (see MAX_INCARNATION).
    if (rec === undefined || inc < rec.incarnation || inc >= wire.MAX_INCARNATION) return
    const running = this.#suspicions.get(rec.id)
    if (running !== undefined) {
      if (running.confirm(from)) this.#queue.push(rec.id, wire.suspect(s))
      return
    }
    if (rec.state !== 'alive') return
    if (rec === this.local) {
      if (!this.leaving) this.refute(inc)
      return
    }
    this.#queue.push(rec.id, wire.suspect({ Incarnation: inc, Node: id, From: from }))
    rec.incarnation = small(inc)
    this.#setState(rec, 'suspect')
    const n = this.liveCount()
    let k = this.#cfg.suspicionMult - 2
    if (n - 2 < k) k = 0
    const min = suspicionTimeout(this.#cfg.suspicionMult, n, this.#cfg.probeInterval)
    const max = this.#cfg.suspicionMaxTimeoutMult * min
    const suspicion = new Suspicion(this.#clock, from, k, min, max, () => {
      this.#suspicions.delete(rec.id)
      if (rec.state !== 'suspect' || rec.incarnation !== inc) return
      if (this.#log.enabled) this.#log('suspicion of %s timed out: dead', id)
      this.dead({ Incarnation: inc, Node: id, From: this.local.id })
    })
    this.#suspicions.set(rec.id, suspicion)
    if (this.#log.enabled) this.#log('suspect %s (inc %d) from %s', id, inc, from)
    this.#events.suspect(snapshot(rec))
  }

  /**
   * Applies a dead message (`From === Node` is a graceful leave).
   *
   * @param onDone - For the local leave: called once the announcement was gossiped enough.
   */
  dead(d: wire.Dead, onDone?: () => void): void {
    const id = d.Node ?? ''
    const inc = d.Incarnation ?? 0
    const from = d.From ?? ''
    const rec = this.nodes.get(id)
    if (rec === undefined || inc < rec.incarnation) return
    this.#endSuspicion(rec.id)
    if (rec.state === 'dead' || rec.state === 'left') return
    if (rec === this.local && !this.leaving) {
      this.refute(inc)
      return
    }
    this.#queue.push(rec.id, wire.dead({ Incarnation: inc, Node: id, From: from }), onDone)
    const left = from === id
    const now = this.#clock.now()
    rec.incarnation = small(inc)
    this.#setState(rec, left ? 'left' : 'dead')
    this.#downSince.set(rec.id, now)
    if (rec === this.local) return
    if (left) this.failed.delete(id)
    else this.failed.set(rec.id, { address: rec.address, since: now })
    if (this.#log.enabled) this.#log('%s is %s (inc %d, from %s)', id, rec.state, inc, from)
    this.#events.leave(snapshot(rec), left ? 'left' : 'failed')
  }

  /**
   * Whether `s` accuses the local member at an incarnation it already refuted: the sender
   * missed the refutation, and without it declares us dead when its suspicion times out.
   */
  isStaleAccusation(s: wire.Suspect | wire.Dead): boolean {
    const l = this.local
    return s.Node === l.id && !this.leaving && (s.Incarnation ?? 0) < l.incarnation
  }

  /** Refutes news of our suspicion or death with an incarnation above `accused`. */
  refute(accused: number): void {
    const l = this.local
    if (accused >= wire.MAX_INCARNATION) {
      // Only an alive message can be this high (accusations this high are refused).
      this.#log.error('cannot refute news of us at the largest incarnation %d', accused)
      return
    }
    l.incarnation = small(Math.max(l.incarnation, accused) + 1)
    this.#awareness.apply(1)
    if (this.#log.enabled) this.#log('refuting at incarnation %d', l.incarnation)
    this.#queue.push(l.id, wire.alive(this.#aliveOf(l)))
  }

  /**
   * Merges a peer's full state (push-pull): remote deaths only raise suspicions. An alive
   * entry about a member already known at that incarnation or a later one (nearly every
   * entry, in a stable cluster) changes nothing: it is skipped without reading its address
   * and meta.
   *
   * A table that knows no other live member (a node joining) queues nothing it merges: the
   * peer had every member it sent, so they are news to this node alone. memberlist queues
   * them all, so a join storm filled every joiner's queue with a member list of stale alives
   * (N² · limit transmissions in a rollout, N items per queue). Only alive entries could be
   * queued here: with no other live member, a dead or suspect entry finds nothing to change.
   * What a joiner then lacks (members whose news spread before anyone knew it) its
   * follow-up exchange brings (`PushPull.heardJoin`).
   *
   * @returns How many entries were refused for their incarnation.
   */
  merge(nodes: wire.PushNodes): number {
    const spread = !this.alone
    let refused = 0
    for (let i = 0; i < nodes.length; i++) {
      const state = nodes.states[i]!
      const inc = wire.incarnationOf(nodes.incarnations[i], state !== wire.NodeStateWire.ALIVE)
      if (inc === undefined) {
        refused++
        continue
      }
      const id = nodes.ids[i]!
      switch (state) {
        case wire.NodeStateWire.ALIVE: {
          const rec = this.nodes.get(id)
          if (rec !== undefined && rec !== this.local && inc <= rec.incarnation) break
          const a = { Incarnation: inc, Node: id, Addr: nodes.addr(i), Meta: nodes.meta(i) }
          this.alive(a, spread)
          break
        }
        case wire.NodeStateWire.LEFT:
          this.dead({ Incarnation: inc, Node: id, From: id })
          break
        default:
          this.suspect({ Incarnation: inc, Node: id, From: this.local.id })
      }
    }
    return refused
  }

  /** Milliseconds since `r` was declared dead or left (0 while alive or suspect). */
  downFor(r: NodeRecord, now: number): number {
    return isLive(r) ? 0 : now - (this.#downSince.get(r.id) ?? now)
  }

  /** Forgets dead and left members past `gossipToTheDeadTime`, and old failed addresses. */
  reap(): void {
    const now = this.#clock.now()
    const due = this.#dueForReaping(now)
    if (due.size > 0) this.#forget(due)
    for (const [id, f] of this.failed) {
      if (now - f.since > this.#cfg.reconnectTimeout) this.failed.delete(id)
    }
  }

  /**
   * The members down for longer than `gossipToTheDeadTime`: a look at the down members only,
   * so that reaping (every reconnect interval and probe cycle) walks the whole table only
   * when it removes something (at N = 3,000 the walks were 7% of the idle CPU).
   */
  #dueForReaping(now: number): Set<string> {
    const limit = this.#cfg.gossipToTheDeadTime
    const due = new Set<string>()
    for (const [id, since] of this.#downSince) {
      if (id !== this.local.id && now - since > limit) due.add(id)
    }
    return due
  }

  /** Removes the members `ids` from the table. */
  #forget(ids: ReadonlySet<string>): void {
    let kept = 0
    for (const r of this.list) {
      if (ids.has(r.id)) {
        this.#downSince.delete(r.id)
        this.nodes.delete(r)
        this.#strings?.ids.release(r.id)
        this.#strings?.addresses.release(r.address)
      } else this.list[kept++] = r
    }
    this.list.length = kept
  }

  /**
   * On stop: cancels every suspicion timer and returns the records' strings to the pool
   * (the records keep them; the pool no longer counts this table's holds).
   */
  close(): void {
    for (const s of this.#suspicions.values()) s.cancel()
    this.#suspicions.clear()
    const strings = this.#strings
    if (strings === undefined) return
    this.#strings = undefined
    this.nodes.detach()
    for (const r of this.list) {
      if (r === this.local) continue
      strings.ids.release(r.id)
      strings.addresses.release(r.address)
    }
  }

  /** The suspicion timer of `id`, if any, canceled and forgotten. */
  #endSuspicion(id: string): void {
    const s = this.#suspicions.get(id)
    if (s === undefined) return
    s.cancel()
    this.#suspicions.delete(id)
  }

  /** The pooled copy of `id` (held once more), or itself after `close()`. */
  #holdId(id: string): string {
    return this.#strings?.ids.acquire(id) ?? id
  }

  /** The pooled copy of `addr` (held once more), or itself after `close()`. */
  #holdAddress(addr: string): string {
    return this.#strings?.addresses.acquire(addr) ?? addr
  }

  #aliveOf(r: NodeRecord): wire.Alive {
    return { Incarnation: r.incarnation, Node: r.id, Addr: r.address, Meta: { ...r.meta } }
  }
}
