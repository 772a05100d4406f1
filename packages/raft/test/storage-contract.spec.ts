import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { storageContract } from '@rony/testing/storage'
import { afterAll } from 'vitest'
import { fileStorage } from '../src/storage/file-storage.js'
import { memoryStorage } from '../src/storage/memory-storage.js'
import { simulatedDisk } from '../src/testing/sim-disk.js'

/** Small segments, so the contract tests roll and delete segments too. */
const segmentBytes = 1024

const segmentsOf = (list: string[]) => list.filter((n) => n.endsWith('.wal')).sort()

storageContract('memoryStorage', {
  segmented: false,
  async create() {
    const storage = memoryStorage()
    return { storage, restart: () => storage }
  },
})

const temps: string[] = []
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })))
})

storageContract('fileStorage on a real directory', {
  segmented: true,
  async create() {
    const root = await mkdtemp(join(tmpdir(), 'rony-raft-storage-'))
    temps.push(root)
    const dir = join(root, 'data', 'node') // missing parents are created
    return {
      storage: fileStorage(dir, { segmentBytes }),
      restart: () => fileStorage(dir, { segmentBytes }),
      segments: async () => segmentsOf(await readdir(dir)),
    }
  },
})

storageContract('fileStorage on a simulated disk', {
  segmented: true,
  async create() {
    const disk = simulatedDisk()
    return {
      storage: fileStorage('/data', { fs: disk, segmentBytes }),
      restart: () => fileStorage('/data', { fs: disk, segmentBytes }),
      segments: async () => segmentsOf(await disk.readdir('/data')),
    }
  },
})
