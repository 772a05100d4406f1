/**
 * The core's role and the results of its requests. Requests return a rejection instead of
 * throwing: refusing a proposal is a normal answer (wrong server, transfer in progress,
 * memory bound), which the node wrapper turns into its coded errors.
 *
 * @module
 */

/**
 * The local server's role. `'pre-candidate'` is the pre-vote phase (thesis §9.6), which
 * the public API reports as a follower. A learner is a follower that is a learner in the
 * configuration in force.
 */
export type CoreRole = 'follower' | 'pre-candidate' | 'candidate' | 'leader'

/** Why a request was refused. */
export type Rejection =
  /** Only the leader takes it; the leader, when known, and its address. */
  | {
      readonly code: 'not-leader'
      readonly leaderId: string | undefined
      readonly leaderAddress: string | undefined
    }
  /** Leadership is being transferred (thesis §3.10): proposals wait for the new leader. */
  | { readonly code: 'transferring'; readonly to: string }
  /** The leader holds `maxUncommittedBytes` of uncommitted proposals. */
  | {
      readonly code: 'uncommitted-limit'
      readonly uncommittedBytes: number
      readonly limit: number
    }
  /**
   * A configuration change is not committed yet, or the leader has not committed an entry
   * of its term yet (thesis §4.1 and its erratum: a new leader must commit an entry of its
   * term before changing membership).
   */
  | { readonly code: 'change-in-progress' }
  /** The configuration already is what the change asks for. */
  | { readonly code: 'unchanged' }
  /** A change or transfer names a server that is not a member (or not a voter). */
  | { readonly code: 'unknown-server'; readonly id: string }
  /** The change would leave no voter, or a transfer targets the leader itself. */
  | { readonly code: 'invalid'; readonly reason: string }

/** Where a proposal was appended; it commits there or is lost to a later leader. */
export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly rejection: Rejection }

export type RequestResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly rejection: Rejection }

/**
 * A confirmed ReadIndex request (thesis §6.4): once the state machine has applied `index`,
 * a read for `context` sees every write committed before the request was made.
 */
export interface ReadState {
  readonly context: string
  readonly index: number
}

/** The leader's answer to a proposal this server forwarded, under the caller's `context`. */
export type ForwardState =
  | { readonly context: string; readonly ok: true; readonly index: number; readonly term: number }
  | { readonly context: string; readonly ok: false; readonly rejection: Rejection }

/** The volatile state events report: role, leader and term. */
export interface SoftState {
  readonly role: CoreRole
  readonly leaderId: string | undefined
  readonly term: number
}
