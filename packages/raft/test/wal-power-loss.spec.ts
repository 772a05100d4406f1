/**
 * Power-loss fuzzing: seeded random operation sequences on a file storage over the
 * simulated disk, crashed at random points (mid-write, mid-sync, mid-roll, mid-snapshot,
 * mid-cleanup), then recovered. The recovered state must be exactly one the issued
 * operations could have produced: a prefix of them (the last one possibly only partly
 * applied, for an append), and at least everything whose promise had resolved.
 */

import { describe, expect, it } from 'vitest'
import { fileStorage } from '../src/storage/file-storage.js'
import { LogState } from '../src/storage/log-state.js'
import type { HardState, LogEntry, RecoveredState, Snapshot } from '../src/storage/types.js'
import { simulatedDisk } from '../src/testing/sim-disk.js'
import { seeded } from './seeded.js'
import { snapshot } from './storage-helpers.js'

type Op =
  | { readonly kind: 'append'; readonly entries: LogEntry[] }
  | { readonly kind: 'hardState'; readonly state: HardState }
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot }

/** The reference: what the storage should hold after some operations. */
class Model {
  readonly log = new LogState()
  snapshot: Snapshot | undefined

  static of(state: RecoveredState): Model {
    const model = new Model()
    model.log.hardState = state.hardState
    model.snapshot = state.snapshot
    model.log.snapshotIndex = state.snapshot?.meta.index ?? 0
    model.log.snapshotTerm = state.snapshot?.meta.term ?? 0
    model.log.entries = [...state.entries]
    return model
  }

  clone(): Model {
    const copy = new Model()
    Object.assign(copy.log, { ...this.log, entries: [...this.log.entries] })
    copy.snapshot = this.snapshot
    return copy
  }

  apply(op: Op): void {
    if (op.kind === 'append') this.log.append(op.entries)
    else if (op.kind === 'hardState') this.log.hardState = op.state
    else {
      const { index, term } = op.snapshot.meta
      this.log.compact(index, term, this.log.holds(index, term))
      this.snapshot = op.snapshot
    }
  }

  get term(): number {
    const last = this.log.entries.at(-1)?.term ?? 0
    return Math.max(this.log.hardState.term, this.log.snapshotTerm, last)
  }

  /** A canonical description, to compare states. */
  key(): string {
    const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
    const { hardState, entries } = this.log
    return JSON.stringify([
      hardState.term,
      hardState.votedFor ?? null,
      this.snapshot && [this.snapshot.meta, text(this.snapshot.data)],
      entries.map((e) => [e.index, e.term, e.kind, text(e.data)]),
    ])
  }
}

/** A random valid operation on `model`; terms never decrease along the log. */
function randomOp(model: Model, random: () => number): Op {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!
  const { log } = model
  const first = log.entries[0]?.index
  const r = random()
  // Data of up to 200 bytes, so that 1 KiB segments roll every few operations.
  const run = (from: number, term: number): LogEntry[] =>
    Array.from({ length: 1 + Math.floor(random() * 3) }, (_, i) => ({
      index: from + i,
      term,
      kind: pick(['command', 'command', 'noop', 'configuration'] as const),
      data: Uint8Array.from({ length: Math.floor(random() * 200) }, () => random() * 256),
    }))
  if (r < 0.4) return { kind: 'append', entries: run(log.lastIndex + 1, model.term) }
  if (r < 0.5 && first !== undefined) {
    const from = first + Math.floor(random() * (log.lastIndex - first + 1))
    return { kind: 'append', entries: run(from, model.term + 1) }
  }
  if (r < 0.7) {
    const term = model.term + (random() < 0.5 ? 1 : 0)
    return { kind: 'hardState', state: { term, votedFor: pick(['a', 'b', undefined]) } }
  }
  if (r < 0.9 && first !== undefined) {
    const index = first + Math.floor(random() * (log.lastIndex - first + 1))
    const term = log.entries[index - first]!.term
    return { kind: 'snapshot', snapshot: snapshot(index, term, `s${random()}`) }
  }
  // A leader's snapshot the log does not hold: a newer term, anywhere up to past the end.
  const from = Math.max(1, log.snapshotIndex)
  const index = from + Math.floor(random() * (log.lastIndex + 3 - from))
  return { kind: 'snapshot', snapshot: snapshot(index, model.term + 1, `l${random()}`) }
}

const microtasks = async (n: number) => {
  for (let i = 0; i < n; i++) await Promise.resolve()
}

/** Runs crash/recover cycles for one seed; returns how many cycles it ran. */
async function fuzz(seed: number, cycles: number): Promise<void> {
  const random = seeded(seed)
  const disk = simulatedDisk({ random })
  /** The states recovery may return: their keys. Empty until the first cycle. */
  let allowed = new Set<string>([new Model().key()])
  for (let cycle = 0; cycle <= cycles; cycle++) {
    const where = `seed ${seed}, cycle ${cycle}`
    const storage = fileStorage('/node', { fs: disk.mount(), segmentBytes: 1024 })
    const recovered = await storage.open().catch((err: unknown) => {
      throw new Error(`${where}: open failed: ${String(err)}`)
    })
    const base = Model.of(recovered)
    expect(allowed.has(base.key()), `${where}: recovered a state no prefix produces`).toBe(true)
    const { entries } = recovered
    entries.forEach((e, i) => {
      expect(e.index, where).toBe((recovered.snapshot?.meta.index ?? 0) + 1 + i)
      expect(e.term, where).toBeGreaterThanOrEqual(entries[i - 1]?.term ?? 0)
    })
    if (cycle === cycles) return storage.close()

    // Issue operations, some awaited, with random pauses so the crash lands anywhere.
    const states = [base]
    const ops: Op[] = []
    const settled: Promise<unknown>[] = []
    let resolved = -1
    const count = 1 + Math.floor(random() * 12)
    for (let i = 0; i < count; i++) {
      const model = states.at(-1)!.clone()
      const op = randomOp(model, random)
      model.apply(op)
      ops.push(op)
      states.push(model)
      const call =
        op.kind === 'append'
          ? storage.append(op.entries)
          : op.kind === 'hardState'
            ? storage.setHardState(op.state)
            : storage.saveSnapshot(op.snapshot)
      const done = call.then(() => {
        resolved = Math.max(resolved, i)
      })
      settled.push(done.catch(() => {}))
      if (random() < 0.3) await done
      else await microtasks(Math.floor(random() * 8))
    }
    await microtasks(Math.floor(random() * 40))
    const durable = resolved + 1
    disk.crash()
    await Promise.all(settled) // the crashed storage's calls all settle (most reject)

    allowed = new Set()
    for (let k = durable; k < states.length; k++) {
      allowed.add(states[k]!.key())
      const op = ops[k]
      if (op?.kind !== 'append') continue
      for (let n = 1; n < op.entries.length; n++) {
        const partial = states[k]!.clone()
        partial.apply({ kind: 'append', entries: op.entries.slice(0, n) })
        allowed.add(partial.key())
      }
    }
  }
}

/**
 * A power loss at every step of a segment roll (the segment's creation, its start record,
 * the directory sync, the head's temp file, rename and sync): recovery never takes the
 * roll cut short for a missing tail, and keeps every acknowledged entry.
 */
async function crashMidRoll(seed: number, steps: number): Promise<void> {
  const disk = simulatedDisk({ random: seeded(seed) })
  const storage = fileStorage('/node', { fs: disk.mount(), segmentBytes: 1024 })
  await storage.open()
  const data = new Uint8Array(100)
  let acknowledged = 0
  let index = 0
  // Fill the first segment to just below a roll, then one more append rolls.
  while (index < 7) {
    await storage.append([{ index: ++index, term: 1, kind: 'command', data }])
    acknowledged = index
  }
  const rolling = storage.append([{ index: ++index, term: 1, kind: 'command', data }])
  rolling.then(
    () => (acknowledged = index),
    () => {},
  )
  await microtasks(steps)
  disk.crash()
  await rolling.catch(() => {})
  const again = fileStorage('/node', { fs: disk.mount(), segmentBytes: 1024 })
  const recovered = await again.open().catch((err: unknown) => {
    throw new Error(`seed ${seed}, crash after ${steps} microtasks: ${String(err)}`)
  })
  expect(recovered.entries.length).toBeGreaterThanOrEqual(acknowledged)
  await again.close()
}

describe('WAL power loss (simulated disk)', () => {
  it('a power loss anywhere in a segment roll is not taken for a missing tail', async () => {
    const probe = simulatedDisk()
    const storage = fileStorage('/node', { fs: probe, segmentBytes: 1024 })
    await storage.open()
    const data = new Uint8Array(100)
    const segments = async () => (await probe.readdir('/node')).filter((n) => n.endsWith('.wal'))
    for (let i = 1; i <= 7; i++)
      await storage.append([{ index: i, term: 1, kind: 'command', data }])
    expect(await segments()).toHaveLength(1)
    await storage.append([{ index: 8, term: 1, kind: 'command', data }]) // the one that rolls
    expect(await segments()).toHaveLength(2)
    await storage.close()
    for (let seed = 1; seed <= 8; seed++) {
      for (let steps = 0; steps <= 60; steps++) await crashMidRoll(seed, steps)
    }
  })

  it('recovers, after every crash, a state the issued operations produce, with everything acknowledged', async () => {
    for (let seed = 1; seed <= 120; seed++) await fuzz(seed, 10)
  })

  it('survives long runs of crashes on one disk', async () => {
    for (let seed = 1000; seed < 1004; seed++) await fuzz(seed, 120)
  })
})
