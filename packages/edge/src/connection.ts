import type { MessageRegistry } from '@rony/envelope'
import type { GatewayConn, PayloadFormat } from '@rony/interface'
import { ConnectionSink } from './reply.js'

/**
 * Where a request came from, as its handler sees it (`ctx.conn`, `ctx.connStore`,
 * `ctx.signal`, …): a client connection on this edge, or, for a request run without one
 * (from a log entry, over a tunnel), what its origin sent along.
 */
export interface RequestOrigin {
  /** The client connection, if the request arrived on one here. */
  readonly conn: GatewayConn | undefined
  /** Name of the gateway the request came through. */
  readonly gateway: string
  /** Transport headers (lower-case names). */
  readonly headers: ReadonlyMap<string, string>
  /** Lives as long as the origin (for a connection: sessions, auth state). */
  readonly store: Map<string, unknown>
  /** Aborted when the requests of this origin are to stop. */
  readonly signal: AbortSignal
  /** Requests of this origin whose handlers are running; the pipeline counts them. */
  inFlight: number
}

/**
 * What the edge keeps per connection: small, since an edge may hold many thousands. The
 * store, the abort controller and the reply sinks are created on first use.
 */
export class ConnectionState implements RequestOrigin {
  inFlight = 0
  private connStore: Map<string, unknown> | undefined
  private controller: AbortController | undefined
  /** Builds the abort reason; set once the connection's work is to be aborted. */
  private abortReason: (() => unknown) | undefined
  private binarySink: ConnectionSink | undefined
  private jsonSink: ConnectionSink | undefined

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

  /** Where answers in `format` go on this connection (kept: the sink holds no request state). */
  sink(format: PayloadFormat, registry: MessageRegistry): ConnectionSink {
    if (format === 'binary') {
      this.binarySink ??= new ConnectionSink(this.conn, format, registry)
      return this.binarySink
    }
    this.jsonSink ??= new ConnectionSink(this.conn, format, registry)
    return this.jsonSink
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

/** The signal of an origin whose requests are never aborted (a replica, a request run here). */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal
