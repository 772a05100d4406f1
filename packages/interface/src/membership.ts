/**
 * Cluster membership: which nodes exist, which are reachable, and what each one says about
 * itself (its metadata). `@rony/gossip` implements it with SWIM + Lifeguard; tests can use
 * a static or in-memory implementation. The edge uses it to learn every replica set, its
 * gateways and its Raft addresses.
 *
 * @module
 */

import type { TypedEmitter } from './events.js'
import type { AbortOptions, Startable } from './lifecycle.js'
import type { ComponentLogger } from './logger.js'

/**
 * What the local node believes about a member:
 *
 * - `'alive'`: answering probes (directly or indirectly).
 * - `'suspect'`: missed probes; will be declared `'dead'` unless it refutes the suspicion
 *   (by gossiping a higher incarnation) before the suspicion timeout, which shrinks as other
 *   members confirm the suspicion.
 * - `'dead'`: declared failed; kept for a while so the news spreads, then forgotten.
 * - `'left'`: announced a graceful leave; kept for a while, then forgotten.
 */
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left'

/**
 * Why a member left the cluster: `'left'` when it announced its departure (graceful
 * `leave()`), `'failed'` when it was declared dead after failing probes.
 */
export type LeaveReason = 'left' | 'failed'

/**
 * A snapshot of one member, as known locally. Objects handed out by a {@link Membership}
 * are immutable snapshots: a change produces a new object, delivered by an event.
 */
export interface Member {
  /**
   * Node id, unique in the cluster and stable across restarts of the same node (the edge
   * uses its server id, such as `'n1'`).
   */
  readonly id: string

  /**
   * The address other members reach it at on the membership transport, `host:port` for UDP
   * and TCP (IPv6 in brackets), or a transport-specific address (`memory:n1`).
   */
  readonly address: string

  /**
   * Application metadata the member publishes about itself, such as
   * `{ replicaSet: '1', raft: '10.0.0.1:9001', ws: 'ws://10.0.0.1:8080/' }`. Small: the
   * implementation bounds its encoded size (for example 512 bytes, as memberlist does)
   * because it rides in membership packets.
   */
  readonly meta: Readonly<Record<string, string>>

  /** What the local node believes about this member. */
  readonly state: MemberState

  /**
   * SWIM incarnation number: a non-negative integer the member itself increases to refute a
   * suspicion or to publish new metadata. For one id, a higher incarnation wins. Compare
   * only incarnations of the same id.
   */
  readonly incarnation: number
}

/**
 * Events of a {@link Membership}. No `member:*` event is emitted about the local member, and
 * `message` is not emitted for the local node's own broadcasts.
 *
 * Listeners run synchronously inside the membership's protocol loop: keep them short and
 * do not throw.
 */
export type MembershipEvents = {
  /** A member became known and alive, or came back after being dead or having left. */
  'member:join': (member: Member) => void

  /**
   * A known member changed: new metadata or address (at a higher incarnation), or it
   * refuted a suspicion and is alive again.
   */
  'member:update': (member: Member) => void

  /** A member missed probes and is now suspected (`state: 'suspect'`). */
  'member:suspect': (member: Member) => void

  /**
   * A member is gone: it left gracefully (`reason: 'left'`, `state: 'left'`) or was declared
   * dead (`reason: 'failed'`, `state: 'dead'`).
   */
  'member:leave': (member: Member, reason: LeaveReason) => void

  /**
   * A user broadcast from another member arrived (see {@link Membership.broadcast}).
   *
   * @param data - The broadcast bytes, owned by the listener.
   * @param from - The sender's member id.
   */
  message: (data: Uint8Array, from: string) => void
}

/**
 * A view of cluster membership that stays up to date by itself while started.
 *
 * Lifecycle: `start()` binds the transport and contacts the configured seeds (an
 * implementation may resolve `start()` before any seed answers, and keep retrying);
 * `leave()` announces a graceful departure; `stop()` stops the protocol and releases the
 * transport. Calling `stop()` without `leave()` looks like a failure to the others, who
 * will declare the node dead after the suspicion timeout.
 *
 * Methods other than `start` reject (or, for `broadcast`, throw) with a `CodedError` whose
 * code is `RONY_ERR_NOT_STARTED` when called before `start()`.
 */
export interface Membership extends Startable, TypedEmitter<MembershipEvents> {
  /**
   * The local member. `id` and `meta` are known from construction; `address` is valid after
   * `start()` (it is the transport's bound address). A new object after `updateMeta`.
   */
  readonly local: Member

  /**
   * Members currently `'alive'` or `'suspect'`, including the local member, in no
   * particular order.
   *
   * @returns A fresh array of snapshots; the caller may keep or modify it.
   */
  members(): Member[]

  /**
   * Looks up one member by id, in any state, including members recently `'dead'` or
   * `'left'` that have not been forgotten yet.
   *
   * @param id - Member id.
   * @returns The member's snapshot, or `undefined` when unknown.
   */
  member(id: string): Member | undefined

  /**
   * Replaces the local member's metadata (not a merge) and spreads it to the cluster at a
   * new incarnation. Resolves once the change is applied locally and queued for
   * dissemination; it does not wait for other members to see it (they do within a few
   * gossip rounds).
   *
   * Rejects with code `RONY_ERR_MESSAGE_TOO_LARGE` when the encoded metadata exceeds the
   * implementation's limit.
   *
   * @param meta - The complete new metadata.
   * @param opts - Abort signal; the default timeout is the implementation's.
   */
  updateMeta(meta: Readonly<Record<string, string>>, opts?: AbortOptions): Promise<void>

  /**
   * Sends `data` to every other member, best effort: piggybacked on protocol messages and
   * retransmitted a bounded number of times (gossip: `mult * log(N + 1)`), so most members
   * receive it once, within a few gossip rounds; none is guaranteed to. Each receiver emits
   * `message` with `from` set to the local id. Not delivered locally.
   *
   * Throws a `CodedError` with code `RONY_ERR_MESSAGE_TOO_LARGE` when `data` does not fit
   * in one packet alongside protocol overhead.
   *
   * @param data - Broadcast payload; the implementation takes ownership of it.
   */
  broadcast(data: Uint8Array): void

  /**
   * Announces a graceful departure: the local member becomes `'left'` and the others emit
   * `member:leave` with reason `'left'` instead of suspecting it. Resolves once the
   * announcement has had the implementation's leave-propagation time to spread (at once
   * when there are no other members). Call `stop()` afterwards; a second `leave()` is a
   * no-op.
   *
   * @param opts - Abort signal; the default timeout is the implementation's.
   */
  leave(opts?: AbortOptions): Promise<void>
}

/**
 * What a host (the edge) supplies to a {@link MembershipFactory}: the parts of a membership
 * component it owns, so the user does not repeat them.
 */
export interface MembershipComponents {
  /** The local member id: the edge's server id. */
  readonly id: string
  /** The host's logger factory; the component scopes its own logger from it. */
  readonly logger: ComponentLogger
}

/**
 * A membership component not yet completed: the host calls it with what it owns (its id,
 * its logger) and gets the component. `gossip({ bind, seeds })` without an `id` returns one;
 * with an `id` it returns a ready-made, standalone component.
 */
export type MembershipFactory = (components: MembershipComponents) => Membership
