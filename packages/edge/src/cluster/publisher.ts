import type { Membership } from '@rony/interface'

/**
 * Publishes the local edge's metadata through `membership.updateMeta`, one call at a time,
 * always the latest record: during an election the Raft role, leader and term can change
 * several times in a tick, and each `updateMeta` costs a new incarnation that every member
 * gossips. Records asked for while a call is in flight collapse into one next call, and a
 * record equal to the last one applied costs nothing.
 */
export class MetaPublisher {
  private wanted: { meta: Readonly<Record<string, string>>; key: string } | undefined
  private appliedKey: string
  private running: Promise<void> | undefined
  private failure: { key: string; error: unknown } | undefined
  private readonly abort = new AbortController()

  /**
   * @param membership - Where to publish.
   * @param applied - Called after each successful `updateMeta` (the local member changed).
   * @param failed - Called when the latest record could not be applied; a later `publish`
   *   tries again. Neither callback may throw.
   */
  constructor(
    private readonly membership: Membership,
    private readonly applied: () => void,
    private readonly failed: (error: unknown) => void,
  ) {
    this.appliedKey = canonical(membership.local.meta)
  }

  /** Asks for `meta` to be published; returns at once. */
  publish(meta: Readonly<Record<string, string>>): void {
    if (this.abort.signal.aborted) return
    this.wanted = { meta, key: canonical(meta) }
    // A microtask first, so changes made in one synchronous burst cost one call.
    this.running ??= Promise.resolve().then(() => this.drain())
  }

  /**
   * Resolves once the latest record asked for is applied locally; rejects with the error of
   * its `updateMeta` when that failed.
   */
  async flush(): Promise<void> {
    while (this.running) await this.running
    if (this.failure !== undefined && this.failure.key === this.wanted?.key)
      throw this.failure.error
  }

  /** Stops publishing: aborts the call in flight and waits for it to settle. */
  async close(): Promise<void> {
    this.abort.abort()
    await this.running
  }

  private async drain(): Promise<void> {
    try {
      while (!this.abort.signal.aborted && this.wanted && this.wanted.key !== this.appliedKey) {
        const { meta, key } = this.wanted
        try {
          await this.membership.updateMeta(meta, { signal: this.abort.signal })
        } catch (error) {
          if (this.abort.signal.aborted) return
          if (key !== this.wanted.key) continue // a newer record replaces the failed one
          this.failure = { key, error }
          this.failed(error)
          return
        }
        this.appliedKey = key
        this.failure = undefined
        this.applied()
      }
    } finally {
      this.running = undefined
    }
  }
}

/** Key order does not matter to a metadata record. */
function canonical(meta: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(meta).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}
