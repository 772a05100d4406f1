import type { TimerHandle } from '@rony/interface'
import * as wire from '../codec/wire.js'
import type { GossipContext } from '../context.js'
import { Rotation } from '../rotation.js'
import { isLive, type NodeRecord } from '../state/table.js'
import { kRandom } from '../timers.js'
import { streamPing } from './stream-ping.js'

/** A probe (or relayed probe) waiting for its ack. */
interface Pending {
  onAck(): void
  onNack(): void
  timer: TimerHandle | undefined
}

/**
 * SWIM failure detection with Lifeguard, as memberlist's `probe` / `probeNode`:
 *
 * 1. Every `probeInterval` (scaled by local health), the next member of a shuffled
 *    round-robin list gets a ping (plus its suspicion, when suspect, so it can refute).
 * 2. Without an ack after `probeTimeout`, `indirectChecks` random members are asked to ping
 *    it (they answer with a nack when they get no ack either), and it is pinged over a
 *    stream (TCP fallback).
 * 3. Without any ack by the end of the probe interval, the member is suspected. Missing
 *    nacks blame the local node instead (its health score rises, so it probes slower).
 */
export class Prober {
  readonly #ctx: GossipContext
  readonly #pending = new Map<number, Pending>()
  readonly #order: Rotation
  #tick: TimerHandle | undefined

  constructor(ctx: GossipContext) {
    this.#ctx = ctx
    this.#order = new Rotation(ctx.random)
  }

  /** Schedules the first probe after a random stagger. */
  start(): void {
    const first = Math.floor(this.#ctx.random.next() * this.#ctx.cfg.probeInterval)
    this.#tick = this.#ctx.timers.after(first, this.#onTick)
  }

  /** Forgets pending probes (timers are cleared by the owner). */
  stop(): void {
    this.#ctx.timers.cancel(this.#tick)
    this.#pending.clear()
  }

  /** Adds a new member at a random place of the round-robin order, as memberlist does. */
  added(id: string): void {
    this.#order.add(id)
  }

  /** Handles a ping: acks it unless it names another node. */
  onPing(msg: { SeqNo?: number | null; Target?: string | null }, from: string): void {
    const target = msg.Target ?? ''
    if (target !== '' && target !== this.#ctx.table.local.id) {
      this.#ctx.counters.dropped.unexpected++
      return
    }
    this.#ctx.send(from, [wire.ack(msg.SeqNo ?? 0)])
  }

  /** Relays an indirect ping: pings the target, forwards its ack, or a nack on timeout. */
  onIndirectPing(
    msg: {
      SeqNo?: number | null
      Target?: string | null
      TargetAddr?: string | null
      Nack?: boolean | null
    },
    from: string,
  ): void {
    const target = msg.Target ?? ''
    const addr = msg.TargetAddr ?? ''
    if (target === '' || addr === '') {
      this.#ctx.counters.dropped.malformed++
      return
    }
    const seq = this.#ctx.nextSeq()
    const original = msg.SeqNo ?? 0
    const wantNack = msg.Nack === true
    const pending: Pending = {
      onAck: () => {
        this.#settle(seq)
        this.#ctx.send(from, [wire.ack(original)])
      },
      onNack: () => {},
      timer: undefined,
    }
    pending.timer = this.#ctx.timers.after(this.#ctx.cfg.probeTimeout, () => {
      this.#pending.delete(seq)
      if (wantNack) this.#ctx.send(from, [wire.nack(original)])
    })
    this.#pending.set(seq, pending)
    this.#ctx.send(addr, [wire.ping(seq, target)])
  }

  /** Routes an ack to its probe. */
  onAck(seq: number): void {
    const p = this.#pending.get(seq)
    if (p === undefined) this.#ctx.counters.dropped.unexpected++
    else p.onAck()
  }

  /** Routes a nack to its probe. */
  onNack(seq: number): void {
    const p = this.#pending.get(seq)
    if (p === undefined) this.#ctx.counters.dropped.unexpected++
    else p.onNack()
  }

  #settle(seq: number): void {
    const p = this.#pending.get(seq)
    if (p === undefined) return
    this.#pending.delete(seq)
    this.#ctx.timers.cancel(p.timer)
  }

  #onTick = (): void => {
    const { cfg, awareness, timers, table } = this.#ctx
    this.#tick = timers.after(awareness.scale(cfg.probeInterval), this.#onTick)
    if (!this.#ctx.running || table.leaving) return
    const target = this.#nextTarget()
    if (target !== undefined) this.#probe(target)
  }

  #nextTarget(): NodeRecord | undefined {
    const { table } = this.#ctx
    const [id] = this.#order.take(
      1,
      (id) => {
        const rec = table.nodes.get(id)
        return rec !== undefined && rec !== table.local && isLive(rec)
      },
      () => {
        table.reap()
        return table.list.map((r) => r.id)
      },
    )
    return id === undefined ? undefined : table.nodes.get(id)
  }

  #probe(node: NodeRecord): void {
    const ctx = this.#ctx
    const { cfg, table, timers, counters: stats } = ctx
    const seq = ctx.nextSeq()
    const interval = ctx.awareness.scale(cfg.probeInterval)
    const inc = node.incarnation
    let acked = false
    let nacks = 0
    let expectedNacks = 0
    let deadlinePassed = false
    let fallback: 'none' | 'pending' | 'ok' | 'failed' = 'none'
    stats.probes++

    const finish = (): void => {
      if (acked || fallback === 'ok' || !ctx.running) return
      if (!deadlinePassed || fallback === 'pending') return
      this.#settle(seq)
      ctx.awareness.apply(expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1)
      stats.probesFailed++
      const rec = table.nodes.get(node.id)
      if (rec === undefined || rec.incarnation !== inc) return
      if (ctx.log.enabled) ctx.log('probe of %s failed: suspect', node.id)
      table.suspect({ Incarnation: inc, Node: node.id, From: table.local.id })
    }

    const pending: Pending = {
      onAck: () => {
        if (acked) return
        acked = true
        if (!deadlinePassed && !indirectSent) ctx.awareness.apply(-1)
        this.#settle(seq)
      },
      onNack: () => {
        nacks++
      },
      timer: undefined,
    }
    let indirectSent = false
    this.#pending.set(seq, pending)

    const parts = [wire.ping(seq, node.id)]
    if (node.state === 'suspect') {
      parts.push(wire.suspect({ Incarnation: inc, Node: node.id, From: table.local.id }))
    }
    ctx.send(node.address, parts)

    const indirect = timers.after(cfg.probeTimeout, () => {
      if (acked || !ctx.running) return
      indirectSent = true
      const peers = kRandom(
        table.list,
        cfg.indirectChecks,
        ctx.random,
        (r) => r !== table.local && r !== node && r.state === 'alive',
      )
      for (const peer of peers) {
        expectedNacks++
        stats.indirectProbes++
        ctx.send(peer.address, [wire.indirectPing(seq, node.id, node.address)])
      }
      if (cfg.tcpFallback) {
        fallback = 'pending'
        const remaining = Math.max(1, interval - cfg.probeTimeout)
        void streamPing(ctx, node, remaining).then((ok) => {
          fallback = ok ? 'ok' : 'failed'
          if (ok) {
            stats.fallbackProbes++
            if (ctx.log.enabled) ctx.log('%s answered only over a stream', node.id)
            this.#settle(seq)
          } else finish()
        })
      }
    })
    pending.timer = timers.after(interval, () => {
      timers.cancel(indirect)
      deadlinePassed = true
      finish()
    })
  }
}
