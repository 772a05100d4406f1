import { expect, it } from 'vitest'
import { type FileStorageInit, fileStorage } from '../src/storage/file-storage.js'
import { memoryStorage } from '../src/storage/memory-storage.js'
import { simulatedDisk } from '../src/testing/sim-disk.js'

it('fileStorage validates its options, naming the one that is wrong', () => {
  const fs = simulatedDisk()
  const bad: [string, FileStorageInit | undefined, ErrorConstructor, RegExp][] = [
    ['', undefined, TypeError, /dir must be a non-empty string/],
    [5 as unknown as string, undefined, TypeError, /dir must be a non-empty string/],
    ['/n', null as unknown as FileStorageInit, TypeError, /init must be an object/],
    [
      '/n',
      { fs: {} as FileStorageInit['fs'] },
      TypeError,
      /fs must implement StorageFs \(no mkdir/,
    ],
    ['/n', { fs, segmentBytes: 1.5 }, TypeError, /segmentBytes must be an integer, got 1.5/],
    ['/n', { fs, segmentBytes: '4096' as unknown as number }, TypeError, /segmentBytes/],
    [
      '/n',
      { fs, segmentBytes: 1023 },
      RangeError,
      /segmentBytes must be between 1024 and .*got 1023/,
    ],
    ['/n', { fs, segmentBytes: 2 ** 31 }, RangeError, /segmentBytes/],
  ]
  for (const [dir, init, type, message] of bad) {
    expect(() => fileStorage(dir, init)).toThrow(type)
    expect(() => fileStorage(dir, init)).toThrow(message)
  }
  expect(() => fileStorage('/n', { fs, segmentBytes: 1024 })).not.toThrow()
  expect(() => fileStorage('/n', { fs, segmentBytes: undefined })).not.toThrow()
})

it('open() twice without close() rejects', async () => {
  const storage = memoryStorage()
  await storage.open()
  await expect(storage.open()).rejects.toThrow(/while open/)
  const files = fileStorage('/n', { fs: simulatedDisk() })
  await files.open()
  await expect(files.open()).rejects.toThrow(/while the storage is open/)
  await files.close()
})
