/**
 * Builders of log entries and snapshots with recognizable bytes, for storage tests: the
 * suite's own, and any other test of a `LogStorage`.
 */

import type { EntryKind, LogEntry, Snapshot } from '@rony/interface'

const encoder = new TextEncoder()

/** Entry `index` of `term`; its data names its kind, index and term (empty for a no-op). */
export function entry(index: number, term: number, kind: EntryKind = 'command'): LogEntry {
  const data = kind === 'noop' ? new Uint8Array(0) : encoder.encode(`${kind} ${index}@${term}`)
  return { index, term, kind, data }
}

/** Entries `from..to` (inclusive), all of one term. */
export function entries(from: number, to: number, term: number): LogEntry[] {
  const out: LogEntry[] = []
  for (let i = from; i <= to; i++) out.push(entry(i, term))
  return out
}

/** A snapshot covering `index` in `term`, with a fixed two-voter, one-learner configuration. */
export function snapshot(index: number, term: number, data = `state@${index}`): Snapshot {
  return {
    meta: {
      index,
      term,
      configuration: {
        voters: [
          { id: 'a', address: 'a:1' },
          { id: 'b', address: 'b:1' },
        ],
        learners: [{ id: 'c', address: 'c:1' }],
      },
    },
    data: encoder.encode(data),
  }
}

/** Entries as plain comparable values (a Buffer and a Uint8Array with equal bytes compare equal). */
export function plain(list: readonly LogEntry[]): unknown[] {
  return list.map((e) => ({ ...e, data: [...e.data] }))
}
