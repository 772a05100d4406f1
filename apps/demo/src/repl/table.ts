/** Rows of cells as left-aligned columns, two spaces apart, under a header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  )
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** `2026-12-05T10:21:03.123Z` → `10:21:03.123` (UTC), for event and write times. */
export function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23)
}

/** A protobufjs 64-bit field (a number or a `Long`; unset is 0) as a number; exact up to 2^53. */
export function toNumber(value: number | { toString(): string } | null | undefined): number {
  if (value === null || value === undefined) return 0
  return typeof value === 'number' ? value : Number(value.toString())
}

/** Milliseconds with a precision that suits their size. */
export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(1)} ms`
}
