/**
 * Group commit: operations issued while a sync is in flight share the next one. The bounds
 * are structural (sync counts), never timings.
 */

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { fileStorage } from '../src/storage/file-storage.js'
import { nodeFs } from '../src/storage/fs.js'
import { simulatedDisk } from '../src/testing/sim-disk.js'
import { entry, plain, settle, syncGate } from './storage-helpers.js'

const hundred = Array.from({ length: 100 }, (_, i) => entry(i + 1, 1))

it('100 appends called together share one fdatasync', async () => {
  const disk = simulatedDisk()
  const storage = fileStorage('/n', { fs: disk })
  await storage.open()
  const before = disk.stats.fdatasyncs
  await Promise.all(hundred.map((e) => storage.append([e])))
  expect(disk.stats.fdatasyncs - before).toBeLessThanOrEqual(3)
  await storage.close()
  const again = fileStorage('/n', { fs: disk })
  expect(plain((await again.open()).entries)).toEqual(plain(hundred))
  await again.close()
})

it('appends issued while a sync is in flight wait for, and share, the next one', async () => {
  const disk = simulatedDisk()
  const gate = syncGate(disk, '.wal')
  const storage = fileStorage('/n', { fs: gate.fs })
  await storage.open()
  const syncsBefore = gate.syncs
  gate.hold()
  let firstDone = false
  const first = storage.append([hundred[0]!]).then(() => {
    firstDone = true
  })
  await settle()
  expect(gate.waiting).toBe(1) // the first append's sync is in flight
  const resolved: number[] = []
  const rest = hundred.slice(1).map((e) => storage.append([e]).then(() => resolved.push(e.index)))
  await settle()
  expect(gate.waiting).toBe(1) // nothing else syncs while that one is in flight
  gate.releaseOne()
  await first
  await settle()
  expect(firstDone).toBe(true)
  expect(resolved).toEqual([]) // not durable yet: their sync is the next one
  expect(gate.waiting).toBe(1)
  gate.release()
  await Promise.all(rest)
  expect(resolved).toEqual(hundred.slice(1).map((e) => e.index)) // in call order
  expect(gate.syncs - syncsBefore).toBe(2)
  await storage.close()
})

it('on a real disk, 100 concurrent appends cost at most a few fdatasyncs', async () => {
  const root = await mkdtemp(join(tmpdir(), 'rony-raft-group-'))
  try {
    const gate = syncGate(nodeFs(), '.wal')
    const storage = fileStorage(root, { fs: gate.fs })
    await storage.open()
    const before = gate.syncs
    await Promise.all(hundred.map((e) => storage.append([e])))
    expect(gate.syncs - before).toBeLessThanOrEqual(3)
    // Ten waves, each issued while the previous one syncs: about one sync per wave.
    const waves: Promise<void>[] = []
    for (let wave = 0; wave < 10; wave++) {
      const base = 101 + wave * 10
      for (let i = 0; i < 10; i++) waves.push(storage.append([entry(base + i, 1)]))
      await new Promise((resolve) => setImmediate(resolve))
    }
    await Promise.all(waves)
    expect(gate.syncs - before).toBeLessThanOrEqual(3 + 10)
    await storage.close()
    const again = fileStorage(root)
    expect((await again.open()).entries.length).toBe(200)
    await again.close()
  } finally {
    await rm(root, { recursive: true, force: true })
  }
})
