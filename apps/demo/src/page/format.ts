/** Formatting of the wire's numbers and times for display. */

/** A protobuf 64-bit field as protobufjs decodes it: a number, or a `Long` for big values. */
export type Int64 = number | { toNumber(): number } | null | undefined

export function toNumber(value: Int64): number {
  if (value === null || value === undefined) return 0
  return typeof value === 'number' ? value : value.toNumber()
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

/** `14:03:27.512`, local time. */
export function clockTime(ms: number): string {
  const date = new Date(ms)
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
}

/** A round trip in milliseconds, three significant digits: `0.84 ms`, `12.3 ms`, `140 ms`. */
export function roundTrip(ms: number): string {
  const digits = ms < 10 ? 2 : ms < 100 ? 1 : 0
  return `${ms.toFixed(digits)} ms`
}

/** What went wrong, in one line: a RonyError's code and items, or the error's message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const coded = error as Error & {
      wireCode?: string
      items?: string
      description?: string
      code?: string
    }
    if (coded.wireCode) {
      return `${coded.wireCode} ${coded.items ?? ''}${coded.description ? `: ${coded.description}` : ''}`
    }
    return coded.code ? `${coded.code}: ${error.message}` : error.message
  }
  return String(error)
}
