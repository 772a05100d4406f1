import { describe, expect, it } from 'vitest'
import {
  applyChange,
  ConfigurationTracker,
  encodeConfiguration,
  quorumIndex,
} from '../src/core/configuration.js'
import { RaftLog } from '../src/core/log.js'
import { Inflights, Progress } from '../src/core/progress.js'
import type { Configuration, LogEntry } from '../src/storage/types.js'

/** Entries from index 1 with the given terms. */
const log = (...terms: number[]): LogEntry[] =>
  terms.map((term, i) => ({ index: i + 1, term, kind: 'command', data: new Uint8Array(10) }))

const at = (index: number, term: number): LogEntry => ({
  index,
  term,
  kind: 'noop',
  data: new Uint8Array(0),
})

describe('RaftLog', () => {
  it('appends after a match, truncates at the first conflict, and keeps entries a stale batch does not cover', () => {
    const l = new RaftLog({ index: 0, term: 0 }, log(1, 1, 2, 2))
    expect(l.tryAppend(2, 2, [at(3, 2)])).toBeUndefined() // mismatch at 2
    // A delayed batch covering 2..3 only: entry 4 stays.
    expect(l.tryAppend(1, 1, [at(2, 1), at(3, 2)])).toEqual({ lastNew: 3, written: [] })
    expect(l.lastIndex).toBe(4)
    // A conflict at 3: 3 and 4 are replaced.
    const r = l.tryAppend(2, 1, [at(3, 3)])
    expect(r).toEqual({ lastNew: 3, written: [at(3, 3)] })
    expect([l.lastIndex, l.lastTerm, l.persisted]).toEqual([3, 3, 2])
    expect(l.takeUnstable()).toEqual([at(3, 3)])
    expect(l.hasUnstable()).toBe(false)
  })

  it('marks entries durable only if the log still holds them', () => {
    const l = new RaftLog({ index: 0, term: 0 }, [])
    l.append([at(1, 1), at(2, 1)])
    const handed = l.takeUnstable()
    l.tryAppend(1, 1, [at(2, 2)]) // 2 is replaced while the write is in flight
    l.persistedTo(handed.at(-1)!.index, handed.at(-1)!.term)
    expect(l.persisted).toBe(0) // conservative: credited once the write of 2/2 is confirmed
    l.persistedTo(2, 2)
    expect(l.persisted).toBe(2)
  })

  it('slices within a byte budget but always returns one entry, and nothing compacted', () => {
    const l = new RaftLog({ index: 0, term: 0 }, log(1, 1, 1, 1))
    expect(l.slice(1, 4, 1)?.map((e) => e.index)).toEqual([1])
    expect(l.slice(1, 4, 52)?.map((e) => e.index)).toEqual([1, 2])
    l.compact(2)
    expect(l.slice(2, 4)).toBeUndefined()
    expect([l.firstIndex, l.term(2), l.term(1)]).toEqual([3, 1, undefined])
    expect(() => l.compact(9)).toThrow(RangeError)
  })

  it('finds the last entry at or below an index whose term is at most a term (reject hints)', () => {
    const l = new RaftLog({ index: 0, term: 0 }, log(1, 1, 2, 2, 2, 5, 5))
    expect(l.lastIndexWithTermAtMost(7, 4)).toBe(5)
    expect(l.lastIndexWithTermAtMost(4, 1)).toBe(2)
    expect(l.lastIndexWithTermAtMost(99, 9)).toBe(7)
    expect(l.lastIndexWithTermAtMost(7, 0)).toBe(0)
  })

  it('judges candidates up to date by last term, then length (§5.4.1)', () => {
    const l = new RaftLog({ index: 0, term: 0 }, log(1, 2, 2))
    expect(l.isUpToDate(1, 3)).toBe(true)
    expect(l.isUpToDate(3, 2)).toBe(true)
    expect(l.isUpToDate(2, 2)).toBe(false)
    expect(l.isUpToDate(9, 1)).toBe(false)
  })

  it('refuses a recovered log with a gap', () => {
    expect(() => new RaftLog({ index: 0, term: 0 }, [at(1, 1), at(3, 1)])).toThrow(RangeError)
  })
})

describe('Progress', () => {
  it('pipelines within the window, and falls back to probing on a current rejection only', () => {
    const pr = new Progress(5, new Inflights(2, 1000))
    pr.acknowledge(4)
    pr.becomeReplicate()
    pr.inflights.add(5, 10)
    expect(pr.paused()).toBe(false)
    pr.inflights.add(6, 10)
    expect(pr.paused()).toBe(true)
    expect(pr.acknowledge(5)).toBe(true)
    expect(pr.paused()).toBe(false)
    expect(pr.reject(5, 0)).toBe(false) // already acknowledged: stale
    expect(pr.reject(6, 3)).toBe(true)
    expect([pr.state, pr.next]).toEqual(['probe', 6])
  })

  it('probes from the hint but never below the match', () => {
    const pr = new Progress(21, new Inflights(4, 1000))
    pr.acknowledge(3)
    pr.next = 21
    expect(pr.reject(19, 7)).toBe(false) // not the outstanding probe
    expect(pr.reject(20, 7)).toBe(true)
    expect(pr.next).toBe(8)
    expect(pr.reject(7, 1)).toBe(true)
    expect(pr.next).toBe(4)
  })

  it('presumes outstanding batches lost after the stall limit', () => {
    const pr = new Progress(1, new Inflights(4, 1000))
    pr.becomeReplicate()
    pr.inflights.add(3, 10)
    expect(pr.tickStalled(3)).toBe(false)
    expect(pr.tickStalled(3)).toBe(false)
    expect(pr.tickStalled(3)).toBe(true)
    expect(pr.state).toBe('probe')
  })

  it('caps the window by bytes as well as by count', () => {
    const inflights = new Inflights(100, 25)
    inflights.add(1, 10)
    inflights.add(2, 10)
    expect(inflights.full()).toBe(false)
    inflights.add(3, 10)
    expect(inflights.full()).toBe(true)
    inflights.freeTo(2)
    expect([inflights.count, inflights.full()]).toEqual([1, false])
  })
})

describe('configuration', () => {
  const s = (id: string) => ({ id, address: id })
  const abc: Configuration = { voters: [s('a'), s('b'), s('c')], learners: [s('l')] }

  it('applies single-server changes', () => {
    expect(applyChange(abc, { type: 'add-voter', server: s('l') })).toEqual({
      voters: [s('a'), s('b'), s('c'), s('l')],
      learners: [],
    })
    expect(applyChange(abc, { type: 'add-learner', server: s('c') })).toEqual({
      voters: [s('a'), s('b')],
      learners: [s('l'), s('c')],
    })
    expect(applyChange(abc, { type: 'add-voter', server: s('a') })).toBe('unchanged')
    expect(applyChange(abc, { type: 'remove', id: 'zz' })).toBe('unknown-server')
    expect(applyChange({ voters: [s('a')], learners: [] }, { type: 'remove', id: 'a' })).toBe(
      'last-voter',
    )
  })

  it('commits at the index a majority of voters holds; learners do not count', () => {
    const match: Record<string, number> = { a: 9, b: 5, c: 2, l: 100 }
    expect(quorumIndex(abc, (id) => match[id] ?? 0)).toBe(5)
  })

  it('tracks the latest configuration entry, rolls it back on truncation, compacts into the base', () => {
    const entry = (index: number, c: Configuration): LogEntry => ({
      index,
      term: 1,
      kind: 'configuration',
      data: encodeConfiguration(c),
    })
    const ab: Configuration = { voters: [s('a'), s('b')], learners: [] }
    const t = new ConfigurationTracker({ index: 0, configuration: abc }, [entry(2, ab)])
    expect([t.current, t.index]).toEqual([ab, 2])
    expect(t.onAppend([at(2, 2)])).toBe(true) // entry 2 truncated
    expect([t.current, t.index]).toEqual([abc, 0])
    t.onAppend([entry(3, ab), at(4, 2)])
    expect(t.at(2)).toEqual(abc)
    t.compact(4)
    expect([t.current, t.index, t.at(3)]).toEqual([ab, 4, ab])
  })
})
