import type { RequestOrigin } from '../connection.js'
import type { ReplySink } from '../reply.js'

/** A replicated request waiting on its origin edge for its command to be applied here. */
export interface PendingRequest {
  readonly origin: RequestOrigin
  readonly sink: ReplySink
}

/**
 * The replicated requests this edge received and has not yet applied, by token: the token
 * travels in the command, so when this replica applies it, the handler's pushes (and its
 * `ctx.conn`) reach the client that sent it. Bounded: an entry whose command never commits
 * (leadership lost before it was replicated) is dropped, oldest first, past `limit`.
 */
export class PendingRequests {
  private readonly byToken = new Map<number, PendingRequest>()
  /**
   * Drawn at random, so that the commands of an earlier run, which this edge replays from
   * its log after a restart, do not carry the tokens of requests waiting now.
   */
  private next = crypto.getRandomValues(new Uint32Array(1))[0] as number

  constructor(private readonly limit = 65_536) {}

  get size(): number {
    return this.byToken.size
  }

  /** Registers a request; returns its token, a uint32 other than 0. */
  add(origin: RequestOrigin, sink: ReplySink): number {
    if (this.byToken.size >= this.limit) {
      const oldest = this.byToken.keys().next().value as number
      this.byToken.delete(oldest)
    }
    this.next = this.next >= 0xffff_ffff ? 1 : this.next + 1
    this.byToken.set(this.next, { origin, sink })
    return this.next
  }

  /** The request of `token`, removed: its command is being applied here. */
  take(token: number): PendingRequest | undefined {
    const request = this.byToken.get(token)
    if (request !== undefined) this.byToken.delete(token)
    return request
  }

  /** Forgets a request whose command was never appended. */
  drop(token: number): void {
    this.byToken.delete(token)
  }
}
