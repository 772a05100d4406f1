import type { CloseReason, GatewayConn, GatewayHandlers, RequestMeta } from './gateway.js'
import type { Logger } from './logger.js'

/**
 * The connection table every gateway keeps, and its side of the {@link GatewayHandlers}
 * contract: connection ids that are never reused, `onConnect` / `onMessage` / `onClose`
 * called in order and guarded (a throwing callback is logged, never passed on), `onClose`
 * at most once per connection, and a way for `stop()` to wait until every connection has
 * closed.
 *
 * @example
 * ```ts
 * const connections = new GatewayConnections<MyConn>('my', log)
 * // attach(handlers): connections.attach(handlers)
 * // a client arrives:  connections.open(new MyConn(connections.nextId(), …))
 * // a message:         connections.message(conn, bytes, meta)
 * // its socket closed: connections.close(conn, { initiator: 'remote' })
 * // stop():            for (const c of connections) c.close(1001); await connections.drained(2000)
 * ```
 */
export class GatewayConnections<C extends GatewayConn> implements Iterable<C> {
  #handlers: GatewayHandlers | undefined = undefined
  readonly #open = new Set<C>()
  #lastId = 0
  #onEmpty: (() => void) | undefined = undefined

  constructor(
    /** The gateway's name, for log lines. */
    private readonly name: string,
    private readonly log: Logger,
  ) {}

  attach(handlers: GatewayHandlers): void {
    this.#handlers = handlers
  }

  /** The edge's callbacks, once attached. */
  get handlers(): GatewayHandlers | undefined {
    return this.#handlers
  }

  /** The next connection id: a positive integer, never reused by this table. */
  nextId(): number {
    return ++this.#lastId
  }

  /** Open connections (accepted, `close` not yet reported). */
  get size(): number {
    return this.#open.size
  }

  [Symbol.iterator](): Iterator<C> {
    return this.#open.values()
  }

  /** Adds an accepted connection and calls `onConnect`. */
  open(conn: C): void {
    this.#open.add(conn)
    if (this.log.enabled) {
      this.log('%s: conn %d open from %s', this.name, conn.id, conn.remoteAddress)
    }
    try {
      this.#handlers?.onConnect(conn)
    } catch (err) {
      this.log.error('%s: onConnect threw for conn %d: %o', this.name, conn.id, err)
    }
  }

  /** Hands one whole inbound message to `onMessage`. */
  message(conn: C, data: Uint8Array, meta: RequestMeta): void {
    try {
      this.#handlers?.onMessage(conn, data, meta)
    } catch (err) {
      this.log.error('%s: onMessage threw for conn %d: %o', this.name, conn.id, err)
    }
  }

  /**
   * Removes a connection whose transport closed and calls `onClose`, once.
   *
   * @returns `false` when `conn` was not open (already reported).
   */
  close(conn: C, reason: CloseReason): boolean {
    if (!this.#open.delete(conn)) return false
    if (this.log.enabled) {
      this.log(
        '%s: conn %d closed (%s %s %s)',
        this.name,
        conn.id,
        reason.initiator,
        reason.code ?? '-',
        reason.reason ?? '',
      )
    }
    try {
      this.#handlers?.onClose(conn, reason)
    } catch (err) {
      this.log.error('%s: onClose threw for conn %d: %o', this.name, conn.id, err)
    }
    if (this.#open.size === 0) this.#onEmpty?.()
    return true
  }

  /**
   * Resolves `true` once every connection has closed, or `false` after `timeoutMs` (never,
   * when undefined). One waiter at a time: `stop()` is its only user.
   */
  drained(timeoutMs?: number): Promise<boolean> {
    if (this.#open.size === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(false), timeoutMs)
      const finish = (done: boolean): void => {
        clearTimeout(timer)
        this.#onEmpty = undefined
        resolve(done)
      }
      this.#onEmpty = () => finish(true)
    })
  }
}
