/**
 * Deleting what a snapshot covers is the one place the WAL destroys data, so it gets
 * targeted crash tests for the orderings a random fuzzer rarely hits: each holds WAL syncs
 * at a gate to freeze the writer at the dangerous moment, lets the cleanup run, makes its
 * deletions durable, then cuts the power.
 */

import { isCodedError } from '@rony/interface'
import { expect, it } from 'vitest'
import { fileStorage } from '../src/storage/file-storage.js'
import { simulatedDisk } from '../src/testing/sim-disk.js'
import { entry, plain, settle, snapshot, syncGate } from './storage-helpers.js'

it('a snapshot deletes only segments covered by a durable snapshot, not by a later pending one', async () => {
  const disk = simulatedDisk({ random: () => 0 }) // a crash keeps nothing unsynced
  const gate = syncGate(disk.mount(), '.wal')
  const storage = fileStorage('/n', { fs: gate.fs, segmentBytes: 1024 })
  await storage.open()
  for (let i = 1; i <= 100; i++)
    await storage.append([{ ...entry(i, 1), data: new Uint8Array(100) }])

  gate.hold()
  const first = storage.saveSnapshot(snapshot(30, 1))
  const second = storage.saveSnapshot(snapshot(90, 1))
  await settle() // both snapshot files are durable; the first one's WAL record waits at the gate
  expect(gate.waiting).toBe(1)
  gate.releaseOne() // the first snapshot becomes durable and cleans up; the second one waits
  await first
  await settle()
  expect(gate.waiting).toBe(1)

  await disk.syncDir('/n') // the deletions reached the disk
  disk.crash()
  gate.release() // the crashed storage's held sync now fails
  await second.catch(() => {})
  const recovered = fileStorage('/n', { fs: disk.mount(), segmentBytes: 1024 })
  const state = await recovered.open()
  expect(state.snapshot?.meta.index).toBe(30)
  expect(state.entries.map((e) => e.index)).toEqual(Array.from({ length: 70 }, (_, i) => 31 + i))
  await recovered.close()
})

it('a segment is not deleted before the start record of the next one is durable', async () => {
  const disk = simulatedDisk({ random: () => 0 })
  const gate = syncGate(disk.mount(), '.wal')
  const storage = fileStorage('/n', { fs: gate.fs, segmentBytes: 1024 })
  await storage.open()
  for (let i = 1; i <= 30; i++)
    await storage.append([{ ...entry(i, 1), data: new Uint8Array(100) }])

  gate.hold()
  const snapshotted = storage.saveSnapshot(snapshot(30, 1))
  await settle() // the snapshot's WAL record waits at the gate
  // A hard state large enough to roll the segment, in the next batch: no entry in it.
  const rolled = storage.setHardState({ term: 2, votedFor: 'x'.repeat(1100) })
  gate.releaseOne() // the snapshot is durable; the roll's first sync waits at the gate
  await snapshotted
  await settle()
  expect(gate.waiting).toBe(1)

  await disk.syncDir('/n')
  disk.crash()
  gate.release()
  await rolled.catch(() => {})
  const recovered = fileStorage('/n', { fs: disk.mount(), segmentBytes: 1024 })
  const state = await recovered
    .open()
    .catch((err: unknown) => expect.fail(`open failed: ${isCodedError(err) ? err.message : err}`))
  expect(state.snapshot?.meta.index).toBe(30)
  expect(plain(state.entries)).toEqual([])
  expect(state.hardState).toEqual({ term: 0, votedFor: undefined })
  await recovered.close()
})
