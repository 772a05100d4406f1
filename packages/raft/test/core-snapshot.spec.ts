import { describe, expect, it } from 'vitest'
import { RaftCore } from '../src/core/index.js'
import type { LogEntry } from '../src/storage/types.js'
import { Cluster } from './core-harness.js'

const three = ['a', 'b', 'c']

/** A cluster whose followers' crash lets the leader compact past them. */
function lagging(seed: number) {
  const c = new Cluster({
    voters: three,
    seed,
    snapshotEvery: 10,
    snapshotPadding: 400,
    core: { snapshotChunkBytes: 64 },
  })
  const leader = c.waitLeader()
  const lag = three.find((id) => id !== leader)!
  c.crash(lag)
  for (let i = 0; i < 40; i++) {
    c.propose(`cmd-${i}`, leader)
    c.tick()
  }
  c.waitApplied(
    c.core(leader).lastIndex,
    100,
    three.filter((id) => id !== lag),
  )
  expect(c.node(leader).snapshotIndex).toBeGreaterThan(c.node(lag).entries.length)
  return { c, leader, lag }
}

describe('RaftCore snapshots', () => {
  it('sends a lagging follower the snapshot in chunks, then the entries after it', () => {
    const { c, leader, lag } = lagging(41)
    const chunksBefore = c.delivered.get('install-snapshot') ?? 0
    c.restart(lag)
    c.waitApplied(c.core(leader).lastIndex)
    const chunks = (c.delivered.get('install-snapshot') ?? 0) - chunksBefore
    // About 430 bytes of snapshot in 64-byte chunks.
    expect(chunks).toBeGreaterThanOrEqual(7)
    expect(c.node(lag).snapshotIndex).toBeGreaterThan(0)
    expect(c.core(lag).commitIndex).toBe(c.core(leader).commitIndex)
    // Entries after the snapshot arrived as entries, and the follower keeps replicating.
    const r = c.propose('after the install', leader)
    if (!r.ok) throw new Error('rejected')
    c.waitApplied(r.index)
    expect(c.durableCommands(lag)).toContain('after the install')
  })

  it('completes the transfer when chunks and answers are lost, duplicated and reordered', () => {
    const { c, leader, lag } = lagging(42)
    let nth = 0
    c.filter = (m) =>
      !(m.type === 'install-snapshot' || m.type === 'install-snapshot-response') || ++nth % 3 !== 0
    c.duplicateRate = 0.3
    c.delay = [1, 4]
    c.restart(lag)
    c.waitApplied(c.core(leader).lastIndex, 1500)
    expect(c.node(lag).snapshotIndex).toBeGreaterThan(0)
  })

  it('restarts from its snapshot and replays only the entries after it', () => {
    const c = new Cluster({ voters: three, seed: 43, snapshotEvery: 7 })
    const leader = c.waitLeader()
    for (let i = 0; i < 20; i++) c.propose(`cmd-${i}`, leader)
    c.waitApplied(c.core(leader).lastIndex)
    const follower = three.find((id) => id !== leader)!
    const snapshot = c.node(follower).snapshotIndex
    expect(snapshot).toBeGreaterThan(0)
    c.crash(follower)
    c.restart(follower)
    expect(c.node(follower).smIndex).toBe(snapshot)
    expect(c.core(follower).commitIndex).toBe(snapshot)
    c.waitApplied(c.core(leader).lastIndex)
  })

  it('compacts only applied entries, ignores older snapshots and reports the configuration at an index', () => {
    const entries: LogEntry[] = [1, 2, 3].map((index) => ({
      index,
      term: 1,
      kind: 'command',
      data: new Uint8Array([index]),
    }))
    const core = new RaftCore({
      id: 'a',
      random: () => 0,
      recovered: { hardState: { term: 1, votedFor: 'a' }, snapshot: undefined, entries },
      bootstrap: { voters: [{ id: 'a', address: 'x' }], learners: [] },
    })
    // A restarted node's commit index is its snapshot's: nothing is applied yet.
    expect(() => core.snapshotMeta(1)).toThrow(RangeError)
    for (let i = 0; i < 20 && core.commitIndex < 3; i++) {
      core.tick()
      while (core.hasReady()) core.advance(core.ready())
    }
    expect(core.role).toBe('leader')
    const meta = core.snapshotMeta(2)
    expect(meta).toEqual({ index: 2, term: 1, configuration: core.configuration })
    core.compact({ meta, data: new Uint8Array([9]) })
    expect(() => core.compact({ meta: { ...meta, index: 9 }, data: new Uint8Array() })).toThrow(
      RangeError,
    )
    core.compact({ meta: { ...meta, index: 1 }, data: new Uint8Array() })
    expect(() => core.snapshotMeta(1)).toThrow(RangeError)
    expect(core.snapshotMeta(3).index).toBe(3)
  })
})
