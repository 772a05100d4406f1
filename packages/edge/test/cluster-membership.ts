import { EventEmitter } from 'node:events'
import type { AbortOptions, LeaveReason, Member, Membership } from '@rony/interface'
import { type EdgeMeta, encodeEdgeMeta } from '../src/cluster/index.js'

/** An `updateMeta` call the test settles by hand. */
export interface MetaCall {
  meta: Readonly<Record<string, string>>
  signal: AbortSignal | undefined
  resolve(): void
  reject(error: unknown): void
}

/**
 * A scripted `Membership` for unit tests of the directory: the test says which members
 * exist and what they publish, and settles `updateMeta` calls itself when `manual`. (The
 * scenarios on real gossip are in cluster-gossip.spec.ts.)
 */
export class ScriptedMembership extends EventEmitter implements Membership {
  local: Member
  readonly calls: MetaCall[] = []
  /** When set, `updateMeta` waits for the test to settle it through `calls`. */
  manual = false
  private readonly others = new Map<string, Member>()

  constructor(id: string) {
    super()
    this.local = { id, address: `memory:${id}`, meta: {}, state: 'alive', incarnation: 1 }
  }

  start(): void {}
  stop(): void {}
  broadcast(): void {}
  async leave(): Promise<void> {}

  members(): Member[] {
    const live = [...this.others.values()].filter(
      (m) => m.state === 'alive' || m.state === 'suspect',
    )
    return [this.local, ...live]
  }

  member(id: string): Member | undefined {
    return id === this.local.id ? this.local : this.others.get(id)
  }

  updateMeta(meta: Readonly<Record<string, string>>, opts: AbortOptions = {}): Promise<void> {
    const apply = () => {
      this.local = { ...this.local, meta: { ...meta }, incarnation: this.local.incarnation + 1 }
    }
    if (!this.manual) {
      apply()
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      this.calls.push({
        meta,
        signal: opts.signal,
        resolve: () => {
          apply()
          resolve()
        },
        reject,
      })
      opts.signal?.addEventListener('abort', () => reject(opts.signal?.reason))
    })
  }

  /** An edge appears or changes, publishing `meta`. */
  putEdge(id: string, meta: EdgeMeta, state: Member['state'] = 'alive'): Member {
    return this.put(id, encodeEdgeMeta(meta), state)
  }

  /**
   * A member appears or changes: `member:join` when new, `member:suspect` when suspect, else
   * `member:update`.
   */
  put(id: string, meta: Record<string, string>, state: Member['state'] = 'alive'): Member {
    const previous = this.others.get(id)
    const member: Member = {
      id,
      address: `memory:${id}`,
      meta,
      state,
      incarnation: (previous?.incarnation ?? 0) + 1,
    }
    this.others.set(id, member)
    const event =
      state === 'suspect' ? 'member:suspect' : previous ? 'member:update' : 'member:join'
    this.emit(event, member)
    return member
  }

  /** A member leaves (`'left'`) or fails (`'dead'`). */
  depart(id: string, reason: LeaveReason): void {
    const previous = this.others.get(id)
    if (!previous) throw new Error(`unknown member ${id}`)
    const member: Member = { ...previous, state: reason === 'left' ? 'left' : 'dead' }
    this.others.set(id, member)
    this.emit('member:leave', member, reason)
  }

  /** The membership forgets a departed member. */
  forget(id: string): void {
    this.others.delete(id)
  }
}
