import type { MessageStream, TimerHandle } from '@rony/interface'
import { frameMessages } from './codec/crypto.js'
import * as wire from './codec/wire.js'
import type { GossipContext } from './context.js'
import { pushPullScale } from './options.js'
import { isLive } from './state/table.js'
import { exchange, readOne } from './stream.js'
import { kRandom } from './timers.js'

const isPushPull = (m: wire.Message): m is wire.Message & { Body: 'PushPull' } =>
  m.Body === 'PushPull'

/** Longest backoff between join attempts, ms. */
const MAX_JOIN_BACKOFF = 30_000
/** Gossip intervals without a join heard before a follow-up exchange: the joins' waves have passed. */
const SETTLE_ROUNDS = 5
/** A node that hears of more than 1/16 of the cluster joining since its last exchange follows up. */
const BURST_SHARE = 16

/**
 * Full state synchronization over streams (memberlist's push-pull), which also carries
 * joins, and reconnection to failed members (as serf's reconnector) so that both sides of a
 * healed partition merge back:
 *
 * - join: exchange state with the seeds on `start()`, retrying with jittered exponential
 *   backoff until one answers;
 * - after a join, or after hearing of many joins (a rollout), exchange state once with a
 *   random live member when no join was heard for a few gossip rounds (see `heardJoin`);
 * - every `pushPullInterval` (slower beyond 32 members), exchange state with one random
 *   live member;
 * - every `reconnectInterval`, exchange state with one random member declared failed, for
 *   up to `reconnectTimeout`;
 * - every `rejoinInterval`, join through one random seed that is not a live member: retrying
 *   the seeds only while alone left two clusters formed behind a partition (members that
 *   left, restarted together with seeds across it) apart forever after it healed, as no
 *   one reconnects members that left.
 */
export class PushPull {
  readonly #ctx: GossipContext
  readonly #open = new Set<MessageStream>()
  #joined = false
  #joinAttempt = 0
  /** Who answered at each seed address: a seed is a member also under another name (DNS). */
  readonly #seedIds = new Map<string, string>()
  /** A seed retry is in flight: never more than one (a dial can outlast the interval). */
  #rejoining = false
  /** Joins heard since the last exchange with a member, and when the last one was heard. */
  #joinsHeard = 0
  #lastJoinAt = 0
  /** A follow-up exchange waits for the joins to settle (see `heardJoin`). */
  #followUp: TimerHandle | undefined

  constructor(ctx: GossipContext) {
    this.#ctx = ctx
  }

  /** Whether a join (or any exchange) with another member succeeded. */
  get joined(): boolean {
    return this.#joined
  }

  /** Joins the seeds and schedules the periodic exchanges. */
  start(): void {
    const { cfg, random, timers } = this.#ctx
    if (this.#seeds().length > 0) void this.#join()
    if (cfg.pushPullInterval > 0) {
      timers.after(Math.floor(random.next() * cfg.pushPullInterval), this.#onSync)
    }
    if (cfg.reconnectInterval > 0) {
      timers.after(cfg.reconnectInterval + Math.floor(random.next() * 1_000), this.#onReconnect)
    }
    timers.after(cfg.rejoinInterval, this.#onRejoin)
  }

  /**
   * A member joined, in this node's view. Gossip reaches each member with probability
   * 1 − e^−limit, and a joiner merges its seeds' tables without gossiping them (see
   * `MemberTable.merge`), so members that joined alongside it may have spread their news
   * before anyone knew it: after its own join, or after hearing of more than 1/16 of the
   * cluster joining since its last exchange, a node exchanges state with one random member
   * once no join was heard for a few gossip rounds. In a rollout every node does so once,
   * after the last join, which closes the pairs gossip missed; a lone join costs one
   * exchange.
   */
  heardJoin(): void {
    this.#lastJoinAt = this.#ctx.clock.now()
    const burst = Math.ceil(this.#ctx.table.liveCount() / BURST_SHARE)
    if (++this.#joinsHeard >= burst) this.#followUpWhenSettled()
  }

  /** Arms the follow-up for `SETTLE_ROUNDS` after the last join heard (again if one comes). */
  #followUpWhenSettled(): void {
    if (this.#followUp !== undefined) return
    const { clock, cfg, timers } = this.#ctx
    const settle = SETTLE_ROUNDS * cfg.gossipInterval
    this.#followUp = timers.after(Math.max(0, this.#lastJoinAt + settle - clock.now()), () => {
      this.#followUp = undefined
      if (clock.now() - this.#lastJoinAt < settle) this.#followUpWhenSettled()
      else this.#syncWithRandomMember()
    })
  }

  /**
   * Merges a peer's state. Merged alone (this node's join), it was not gossiped (see
   * `MemberTable.merge`): a follow-up is due. From a periodic exchange, this node now has
   * what the peer had: the joins heard so far need none.
   */
  #merge(nodes: wire.PushNodes, join: boolean): void {
    const ctx = this.#ctx
    const alone = ctx.table.alone
    ctx.counters.dropped.incarnation += ctx.table.merge(nodes)
    if (alone) {
      this.#lastJoinAt = ctx.clock.now()
      this.#followUpWhenSettled()
    } else if (!join) {
      this.#joinsHeard = 0
      ctx.timers.cancel(this.#followUp)
      this.#followUp = undefined
    }
  }

  /** Aborts streams still open (the owner clears the timers). */
  stop(): void {
    for (const s of this.#open) s.abort()
    this.#open.clear()
  }

  /** Serves one inbound stream: a fallback ping or a push-pull. */
  async serve(stream: MessageStream): Promise<void> {
    const ctx = this.#ctx
    if (!ctx.running) {
      stream.abort()
      return
    }
    this.#open.add(stream)
    const timer = ctx.timers.after(ctx.cfg.streamTimeout, () => stream.abort())
    try {
      const msgs = await readOne(ctx, stream)
      const msg = msgs?.[0]
      if (msg === undefined || !ctx.running) return
      if (msg.Body === 'Ping') {
        const target = msg.Ping.Target
        if (target !== '' && target !== ctx.table.local.id) ctx.counters.dropped.unexpected++
        else await stream.send(frameMessages(ctx.keyring, [wire.ack(msg.Ping.SeqNo)]))
      } else if (msg.Body === 'PushPull') {
        const remote = msg.PushPull.Nodes
        if (remote.length > ctx.cfg.maxPushPullNodes) {
          ctx.counters.dropped.oversized++
          return
        }
        await stream.send(frameMessages(ctx.keyring, [this.#state(false)]))
        if (ctx.running) {
          ctx.counters.pushPulls++
          this.#merge(remote, msg.PushPull.Join)
        }
      } else ctx.counters.dropped.unexpected++
      await stream.close()
    } catch (err) {
      if (ctx.log.enabled)
        ctx.log('inbound stream from %s failed: %s', stream.remote, (err as Error).message)
    } finally {
      ctx.timers.cancel(timer)
      this.#open.delete(stream)
      stream.abort()
    }
  }

  /**
   * Exchanges full state with `addr`.
   *
   * @returns Whether the exchange completed.
   */
  async exchange(addr: string, join: boolean): Promise<boolean> {
    const ctx = this.#ctx
    const reply = await exchange(ctx, addr, [this.#state(join)], ctx.cfg.streamTimeout)
    const pp = reply?.find(isPushPull)?.PushPull
    if (!ctx.running) return false
    if (pp === undefined) {
      ctx.counters.pushPullsFailed++
      return false
    }
    const nodes = pp.Nodes
    if (nodes.length > ctx.cfg.maxPushPullNodes) {
      ctx.counters.dropped.oversized++
      return false
    }
    ctx.counters.pushPulls++
    this.#joined = true
    if (pp.From && ctx.cfg.seeds.includes(addr)) this.#seedIds.set(addr, pp.From)
    this.#merge(nodes, join)
    return true
  }

  #state(join: boolean): Uint8Array {
    const t = this.#ctx.table
    return wire.pushPull(join, t.local.id, t.nodes)
  }

  #seeds(): string[] {
    const self = this.#ctx.table.local.address
    return this.#ctx.cfg.seeds.filter((s) => s !== self)
  }

  async #join(): Promise<void> {
    const ctx = this.#ctx
    const results = await Promise.all(this.#seeds().map((s) => this.exchange(s, true)))
    if (!ctx.running) return
    if (results.some(Boolean)) {
      if (ctx.log.enabled)
        ctx.log('joined through %d of %d seeds', results.filter(Boolean).length, results.length)
      // Gossip alone spreads a join to everyone only with high probability, and in rounds;
      // one packet to each member gets it there in one network hop.
      ctx.announce()
      return
    }
    const backoff = Math.min(MAX_JOIN_BACKOFF, 1_000 * 2 ** this.#joinAttempt++)
    const delay = Math.floor(backoff * (0.5 + ctx.random.next() / 2))
    if (ctx.log.enabled) ctx.log('no seed answered; retrying in %d ms', delay)
    ctx.timers.after(delay, () => {
      if (ctx.table.liveCount() <= 1) void this.#join()
    })
  }

  #onSync = (): void => {
    const ctx = this.#ctx
    const n = ctx.table.liveCount()
    ctx.timers.after(pushPullScale(ctx.cfg.pushPullInterval, n), this.#onSync)
    this.#syncWithRandomMember()
  }

  #syncWithRandomMember(): void {
    const ctx = this.#ctx
    if (!ctx.running || ctx.table.leaving) return
    const [peer] = kRandom(
      ctx.table.list,
      1,
      ctx.random,
      (r) => r !== ctx.table.local && r.state === 'alive',
    )
    if (peer !== undefined) void this.exchange(peer.address, false)
  }

  #onReconnect = (): void => {
    const ctx = this.#ctx
    ctx.timers.after(ctx.cfg.reconnectInterval, this.#onReconnect)
    if (!ctx.running || ctx.table.leaving) return
    ctx.table.reap()
    const candidates = [...ctx.table.failed.entries()].filter(([id]) => {
      const rec = ctx.table.nodes.get(id)
      return rec === undefined || rec.state === 'dead'
    })
    if (candidates.length > 0) {
      const [, f] = candidates[Math.floor(ctx.random.next() * candidates.length)]!
      void this.exchange(f.address, true)
    }
  }

  #onRejoin = (): void => {
    const ctx = this.#ctx
    const idle = !ctx.running || ctx.table.leaving || this.#rejoining
    const absent = idle ? [] : this.#absentSeeds()
    if (absent.length === 0) {
      // No randomness drawn: a cluster whose seeds are all members runs exactly as before.
      ctx.timers.after(ctx.cfg.rejoinInterval, this.#onRejoin)
      return
    }
    // Up to 25% later each time, so that nodes started together drift apart.
    const jitter = Math.floor((ctx.random.next() * ctx.cfg.rejoinInterval) / 4)
    ctx.timers.after(ctx.cfg.rejoinInterval + jitter, this.#onRejoin)
    const seed = absent[Math.floor(ctx.random.next() * absent.length)]!
    if (ctx.log.enabled) ctx.log('seed %s is not a member: joining through it', seed)
    this.#rejoining = true
    void this.exchange(seed, true).finally(() => {
      this.#rejoining = false
    })
  }

  /**
   * Seeds that are not live members: no live member has the address, and the member that
   * last answered at it (if any) is not live either.
   */
  #absentSeeds(): string[] {
    const t = this.#ctx.table
    const unknown = this.#seeds().filter((s) => {
      const id = this.#seedIds.get(s)
      const rec = id === undefined ? undefined : t.nodes.get(id)
      return rec === undefined || !isLive(rec)
    })
    // Only seeds not known live by name cost a pass over the table, looking for their address.
    if (unknown.length === 0) return unknown
    const liveAt = new Set<string>()
    for (const r of t.list) if (isLive(r) && unknown.includes(r.address)) liveAt.add(r.address)
    return unknown.filter((s) => !liveAt.has(s))
  }
}
