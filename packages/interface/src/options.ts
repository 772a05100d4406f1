/**
 * Small runtime helpers every component's options and connections share, so each package
 * does not carry its own copy.
 *
 * @module
 */

/**
 * Checks an integer option: a safe integer within `[min, max]`.
 *
 * @returns `value`, for inline use: `integerOption('port', init.port ?? 0, 0, 65535)`.
 * @throws RangeError naming the option and the allowed range.
 */
export function integerOption(
  name: string,
  value: number,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`)
  }
  return value
}

const encoder = new TextEncoder()
/** A UTF-16 code unit is at most 3 UTF-8 bytes: 41 units always fit in 123 bytes. */
const ALWAYS_FITS = 41
const reasonBuffer = new Uint8Array(123)

/**
 * Cuts a close reason to 123 bytes of UTF-8 (the WebSocket limit, which
 * `GatewayConn.close` promises for every transport) without splitting a character.
 */
export function truncateCloseReason(reason: string): string {
  if (reason.length <= ALWAYS_FITS) return reason
  const { read } = encoder.encodeInto(reason, reasonBuffer)
  return read === reason.length ? reason : reason.slice(0, read)
}
