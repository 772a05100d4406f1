/** Size limits applied when decoding bytes from the network. */
export interface EnvelopeLimits {
  /**
   * Largest envelope or container accepted, in bytes (one WebSocket frame, HTTP body or
   * length-prefixed stream frame). Default: 1 MiB.
   */
  maxEnvelopeBytes: number
  /** Most envelopes one `MessageContainer` may carry. Default: 1024. */
  maxContainerEnvelopes: number
}

export const DEFAULT_LIMITS: Readonly<EnvelopeLimits> = Object.freeze({
  maxEnvelopeBytes: 1024 * 1024,
  maxContainerEnvelopes: 1024,
})

/** Merges `init` over the defaults and rejects nonsensical values early. */
export function resolveLimits(init?: Partial<EnvelopeLimits>): EnvelopeLimits {
  const limits = { ...DEFAULT_LIMITS, ...init }
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`limits.${key} must be a positive integer, got ${String(value)}`)
    }
  }
  return limits
}
