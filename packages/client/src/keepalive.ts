import type { ClientClock } from './options.js'

/** What the keepalive asks of the client. */
export interface KeepaliveHost {
  /** Send a `rony.Ping` on the current connection. */
  ping(): void
  /** Nothing arrived within `timeout` of a ping: the connection is dead. */
  dead(): void
}

/**
 * Detects a dead connection from the application layer, since browsers cannot send
 * WebSocket ping frames and a half-open TCP connection can stay silent for minutes.
 *
 * Anything received counts as a sign of life. After `interval` ms of silence it sends a
 * ping; if still nothing has arrived `timeout` ms later, it declares the connection dead.
 * One timer per connection, re-armed from its own callback rather than on every frame, so
 * a busy connection costs one `clock.now()` per frame.
 */
export class Keepalive {
  private timer: unknown
  private lastReceived = 0
  /** Frames received on this connection; compared across a ping, so equal timestamps cannot mislead. */
  private received = 0
  private receivedAtPing = 0
  private pingSentAt = 0
  private awaitingPong = false

  constructor(
    private readonly clock: ClientClock,
    private readonly interval: number,
    private readonly timeout: number,
    private readonly host: KeepaliveHost,
  ) {
    this.tick = this.tick.bind(this)
  }

  /** A connection opened: start watching it. */
  start(): void {
    this.stop()
    if (this.interval <= 0) return
    this.lastReceived = this.clock.now()
    this.awaitingPong = false
    this.arm(this.interval)
  }

  /** Something arrived. */
  receivedFrame(): void {
    this.received++
    this.lastReceived = this.clock.now()
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
  }

  private arm(ms: number): void {
    this.timer = this.clock.setTimeout(this.tick, Math.max(1, ms))
  }

  private tick(): void {
    this.timer = undefined
    const now = this.clock.now()
    if (this.awaitingPong) {
      if (this.received === this.receivedAtPing) {
        const waited = now - this.pingSentAt
        if (waited >= this.timeout) {
          this.host.dead()
          return
        }
        this.arm(this.timeout - waited)
        return
      }
      this.awaitingPong = false
    }
    const idle = now - this.lastReceived
    if (idle < this.interval) {
      this.arm(this.interval - idle)
      return
    }
    this.awaitingPong = true
    this.pingSentAt = now
    this.receivedAtPing = this.received
    // Look again after the shorter of the two: the Pong usually arrives long before the
    // timeout, and the next ping is due `interval` after it.
    this.arm(Math.min(this.timeout, this.interval))
    this.host.ping()
  }
}
