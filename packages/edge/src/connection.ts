import type { GatewayConn } from '@rony/interface'

/**
 * What the edge keeps per connection: small, since an edge may hold many thousands. The
 * store and the abort controller are created on first use.
 */
export class ConnectionState {
  /** Requests whose handlers are running. */
  inFlight = 0
  private connStore: Map<string, unknown> | undefined
  private controller: AbortController | undefined
  /** Builds the abort reason; set once the connection's work is to be aborted. */
  private abortReason: (() => unknown) | undefined

  constructor(
    readonly conn: GatewayConn,
    /** Name of the gateway the connection came through. */
    readonly gateway: string,
    /** Transport headers of the connection (WebSocket upgrade headers); replaced per HTTP request. */
    public headers: ReadonlyMap<string, string>,
  ) {}

  get store(): Map<string, unknown> {
    this.connStore ??= new Map()
    return this.connStore
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController()
      if (this.abortReason) this.controller.abort(this.abortReason())
    }
    return this.controller.signal
  }

  /**
   * Aborts handlers still running for this connection (and any that look at the signal
   * later). The reason is built only if a signal exists or is asked for: most connections
   * (every HTTP request) close without anyone listening, and an error with a stack trace
   * costs more than the rest of a small request.
   */
  abort(reason: () => unknown): void {
    if (this.abortReason) return
    this.abortReason = reason
    this.controller?.abort(reason())
  }
}

export const EMPTY_HEADERS: ReadonlyMap<string, string> = new Map()
