/** I/O failures: the storage breaks loudly and stays broken; the files stay recoverable. */

import { isCodedError } from '@rony/interface'
import { expect, it } from 'vitest'
import { fileStorage } from '../src/storage/file-storage.js'
import { simulatedDisk } from '../src/testing/sim-disk.js'
import { entries, plain, snapshot } from './storage-helpers.js'

it('a failed fdatasync rejects the batch, every later call and close, with one coded error', async () => {
  const disk = simulatedDisk()
  const storage = fileStorage('/n', { fs: disk })
  await storage.open()
  await storage.append(entries(1, 2, 1))
  const eio = new Error('EIO: i/o error')
  disk.failNext('datasync', eio)
  const failed = await storage.append(entries(3, 3, 1)).catch((e: unknown) => e)
  expect(isCodedError(failed, 'RONY_ERR_STORAGE_FAILED')).toBe(true)
  expect((failed as Error).cause).toBe(eio)
  await expect(storage.setHardState({ term: 1, votedFor: 'a' })).rejects.toBe(failed)
  await expect(storage.append(entries(4, 4, 1))).rejects.toBe(failed)
  await expect(storage.close()).rejects.toBe(failed)

  const again = fileStorage('/n', { fs: disk })
  const state = await again.open()
  expect(state.entries.map((e) => e.index)).toEqual([1, 2, 3]) // written, though not synced
  await again.close()
})

it('a failed snapshot write rejects it and the calls queued behind it; earlier ones complete', async () => {
  const disk = simulatedDisk()
  const storage = fileStorage('/n', { fs: disk })
  await storage.open()
  disk.failNext('rename')
  const before = storage.append(entries(1, 5, 1))
  const snap = storage.saveSnapshot(snapshot(3, 1))
  const after = storage.append(entries(6, 6, 1))
  await before
  await expect(snap).rejects.toMatchObject({ code: 'RONY_ERR_STORAGE_FAILED' })
  await expect(after).rejects.toMatchObject({ code: 'RONY_ERR_STORAGE_FAILED' })
  await storage.close().catch(() => {})

  const again = fileStorage('/n', { fs: disk })
  const state = await again.open()
  expect(state.snapshot).toBeUndefined()
  expect(plain(state.entries)).toEqual(plain(entries(1, 5, 1)))
  expect((await disk.readdir('/n')).filter((n) => n.includes('snap'))).toEqual([])
  await again.close()
})

it('an I/O error while opening rejects with a coded error; opening again works', async () => {
  const disk = simulatedDisk()
  const storage = fileStorage('/n', { fs: disk })
  disk.failNext('readdir', new Error('EACCES'))
  const err = await storage.open().catch((e: unknown) => e)
  expect(isCodedError(err, 'RONY_ERR_STORAGE_FAILED')).toBe(true)
  expect((await storage.open()).entries).toEqual([])
  await expect(storage.open()).rejects.toThrow(/while the storage is open/)
  await storage.close()
})
