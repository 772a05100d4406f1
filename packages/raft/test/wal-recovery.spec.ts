import { isCodedError } from '@rony/interface'
import { describe, expect, it } from 'vitest'
import { fileStorage } from '../src/storage/file-storage.js'
import type { LogStorage } from '../src/storage/types.js'
import { allocRecord, RecordType, seal } from '../src/storage/wal-format.js'
import { type SimulatedDisk, simulatedDisk } from '../src/testing/sim-disk.js'
import { entries, entry, plain, snapshot } from './storage-helpers.js'

const DIR = '/wal'
const segmentBytes = 1024

function open(disk: SimulatedDisk): LogStorage {
  return fileStorage(DIR, { fs: disk, segmentBytes })
}

/** Appends entries `1..n` in term 1, one call each (segments roll between calls). */
async function appendEach(s: LogStorage, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await s.append([entry(i, 1)])
}

/** Runs `build` on a storage over `disk`, then closes it. */
async function write(disk: SimulatedDisk, build: (s: LogStorage) => Promise<void>): Promise<void> {
  const storage = open(disk)
  await storage.open()
  await build(storage)
  await storage.close()
}

async function files(disk: SimulatedDisk, suffix: string): Promise<string[]> {
  return (await disk.readdir(DIR)).filter((n) => n.endsWith(suffix)).sort()
}

async function size(disk: SimulatedDisk, name: string): Promise<number> {
  return (await disk.readFile(`${DIR}/${name}`)).length
}

/** Opens, expecting a rejection; returns the error. */
async function openFails(disk: SimulatedDisk): Promise<Error> {
  const storage = open(disk)
  const result = await storage.open().then(
    () => undefined,
    (err: unknown) => err as Error,
  )
  await storage.close()
  if (result === undefined) throw new Error('open() succeeded')
  return result
}

/** Opens, checks the log, appends one more entry, and checks that it survives a restart. */
async function expectRecovers(disk: SimulatedDisk, expected: number[]): Promise<void> {
  const storage = open(disk)
  const state = await storage.open()
  expect(state.entries.map((e) => e.index)).toEqual(expected)
  const next = entry((expected.at(-1) ?? 0) + 1, 9)
  await storage.append([next])
  await storage.close()
  const again = open(disk)
  expect(plain((await again.open()).entries)).toEqual(plain([...state.entries, next]))
  await again.close()
}

/** A one-segment log of entries 1..5; returns where the last record starts and ends. */
async function fiveEntries(
  disk: SimulatedDisk,
): Promise<{ segment: string; start: number; end: number }> {
  await write(disk, (s) => s.append(entries(1, 4, 1)))
  const [segment] = await files(disk, '.wal')
  const start = await size(disk, segment!)
  await write(disk, (s) => s.append(entries(5, 5, 1)))
  return { segment: segment!, start, end: await size(disk, segment!) }
}

describe('WAL recovery: torn tails are cut off', () => {
  it('a torn write at every byte offset of the last record loses only that record', async () => {
    const { start, end } = await fiveEntries(simulatedDisk())
    expect(end - start).toBeGreaterThan(13)
    for (let cut = start; cut < end; cut++) {
      const disk = simulatedDisk()
      const { segment } = await fiveEntries(disk)
      disk.truncate(`${DIR}/${segment}`, cut)
      await expectRecovers(disk, [1, 2, 3, 4])
    }
  })

  it('trailing zero bytes, torn or not, are cut off', async () => {
    for (const tornAt of [undefined, 3, 20]) {
      const disk = simulatedDisk()
      const { segment, start, end } = await fiveEntries(disk)
      if (tornAt !== undefined) disk.truncate(`${DIR}/${segment}`, start + tornAt)
      disk.truncate(`${DIR}/${segment}`, end + 4096)
      await expectRecovers(disk, tornAt === undefined ? [1, 2, 3, 4, 5] : [1, 2, 3, 4])
    }
  })

  it('a flipped bit anywhere in the last record is a torn tail', async () => {
    const { start, end } = await fiveEntries(simulatedDisk())
    for (let offset = start; offset < end; offset++) {
      const disk = simulatedDisk()
      const { segment } = await fiveEntries(disk)
      disk.flipBit(`${DIR}/${segment}`, offset, offset % 8)
      await expectRecovers(disk, [1, 2, 3, 4])
    }
  })

  it('an empty last segment (created, then a crash before its first record) gets a fresh start', async () => {
    const disk = simulatedDisk()
    await write(disk, (s) => appendEach(s, 40))
    const segments = await files(disk, '.wal')
    expect(segments.length).toBeGreaterThan(1)
    disk.truncate(`${DIR}/${segments.at(-1)}`, 0)
    const storage = open(disk)
    const recovered = (await storage.open()).entries.map((e) => e.index)
    await storage.close()
    expect(recovered.length).toBeGreaterThan(0)
    await expectRecovers(disk, recovered)
  })
})

describe('WAL recovery: corruption refuses to open', () => {
  it('a flipped bit in an earlier record, with valid records after it, names file and offset', async () => {
    const disk = simulatedDisk()
    await write(disk, (s) => s.append(entries(1, 1, 1)))
    const [segment] = await files(disk, '.wal')
    const start = await size(disk, segment!)
    await write(disk, (s) => s.append(entries(2, 5, 1)))
    const { end } = { end: start + 40 }
    for (let offset = start; offset < end; offset += 3) {
      disk.flipBit(`${DIR}/${segment}`, offset, offset % 8)
      const err = await openFails(disk)
      expect(isCodedError(err, 'RONY_ERR_WAL_CORRUPT'), String(err)).toBe(true)
      expect(err.message).toContain(`${segment} at byte ${start}:`)
      disk.flipBit(`${DIR}/${segment}`, offset, offset % 8) // repair, for the next offset
    }
    await expectRecovers(disk, [1, 2, 3, 4, 5])
  })

  it('damage in a segment before the last is corruption, even at its end', async () => {
    const disk = simulatedDisk()
    await write(disk, (s) => appendEach(s, 60))
    const [first] = await files(disk, '.wal')
    const length = await size(disk, first!)
    disk.truncate(`${DIR}/${first}`, length - 1)
    const torn = await openFails(disk)
    expect(isCodedError(torn, 'RONY_ERR_WAL_CORRUPT')).toBe(true)
    expect(torn.message).toContain(first)

    disk.truncate(`${DIR}/${first}`, length + 8) // zeros after the segment's last record
    expect(isCodedError(await openFails(disk), 'RONY_ERR_WAL_CORRUPT')).toBe(true)
  })

  it('a missing middle segment is corruption naming it', async () => {
    const disk = simulatedDisk()
    await write(disk, (s) => appendEach(s, 80))
    const segments = await files(disk, '.wal')
    expect(segments.length).toBeGreaterThan(2)
    await disk.unlink(`${DIR}/${segments[1]}`)
    const err = await openFails(disk)
    expect(isCodedError(err, 'RONY_ERR_WAL_CORRUPT')).toBe(true)
    expect(err.message).toContain(`${segments[1]} at byte 0: missing`)
  })

  it('a missing first segment is corruption: the log no longer starts after the snapshot', async () => {
    const disk = simulatedDisk()
    await write(disk, (s) => appendEach(s, 80))
    const [first, second] = await files(disk, '.wal')
    await disk.unlink(`${DIR}/${first}`)
    const err = await openFails(disk)
    expect(isCodedError(err, 'RONY_ERR_WAL_CORRUPT')).toBe(true)
    expect(err.message).toContain(`${second} at byte 0: entries 1..`)
  })

  it('a record with valid checksums but an index above 2^53 - 1 is corruption', async () => {
    const disk = simulatedDisk()
    await write(disk, (s) => s.append(entries(1, 2, 1)))
    const [segment] = await files(disk, '.wal')
    const record = allocRecord(17)
    new DataView(record.buffer).setUint32(13 + 4, 0x0020_0000, true) // high word: 2^53
    record[13 + 16] = 1
    const file = await disk.open(`${DIR}/${segment}`, 'append')
    await file.append(seal(record, RecordType.Entry))
    await file.close()
    const err = await openFails(disk)
    expect(isCodedError(err, 'RONY_ERR_WAL_CORRUPT')).toBe(true)
    expect(err.message).toMatch(/exceeds 2\^53 - 1/)
  })
})

describe('WAL recovery: snapshot files', () => {
  async function withSnapshot(disk: SimulatedDisk): Promise<string> {
    await write(disk, async (s) => {
      await s.append(entries(1, 10, 1))
      await s.saveSnapshot(snapshot(6, 1))
    })
    const [file] = await files(disk, '.snap')
    return `${DIR}/${file}`
  }

  it('a leftover temp file from a crash is deleted', async () => {
    const disk = simulatedDisk()
    await withSnapshot(disk)
    const temp = await disk.open(
      `${DIR}/snapshot-0000000000000009-0000000000000001.snap.tmp`,
      'truncate',
    )
    await temp.append(new Uint8Array([1, 2, 3]))
    await temp.close()
    await expectRecovers(disk, [7, 8, 9, 10])
    expect(await files(disk, '.tmp')).toEqual([])
  })

  it('a damaged snapshot file refuses to open with RONY_ERR_SNAPSHOT_CORRUPT', async () => {
    const probe = simulatedDisk()
    const length = await size(probe, (await withSnapshot(probe)).slice(DIR.length + 1))
    for (let offset = 0; offset < length; offset += 7) {
      const disk = simulatedDisk()
      const path = await withSnapshot(disk)
      disk.flipBit(path, offset, offset % 8)
      const err = await openFails(disk)
      expect(isCodedError(err, 'RONY_ERR_SNAPSHOT_CORRUPT'), String(err)).toBe(true)
      expect(err.message).toContain('snapshot-0000000000000006-0000000000000001.snap')
    }
    for (const damage of ['truncated', 'missing'] as const) {
      const disk = simulatedDisk()
      const path = await withSnapshot(disk)
      if (damage === 'missing') await disk.unlink(path)
      else disk.truncate(path, length - 1)
      const err = await openFails(disk)
      expect(isCodedError(err, 'RONY_ERR_SNAPSHOT_CORRUPT')).toBe(true)
    }
  })

  it('a snapshot file whose WAL record never became durable is discarded', async () => {
    const donor = simulatedDisk()
    const path = await withSnapshot(donor)
    const bytes = await donor.readFile(path)
    const disk = simulatedDisk()
    await write(disk, (s) => s.append(entries(1, 10, 1)))
    const orphan = await disk.open(path, 'truncate')
    await orphan.append(bytes)
    await orphan.close()
    const storage = open(disk)
    const state = await storage.open()
    await storage.close()
    expect(state.snapshot).toBeUndefined()
    expect(state.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(await files(disk, '.snap')).toEqual([])
  })
})
