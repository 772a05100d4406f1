import { format } from 'node:util'
import { type ComponentLogger, isCodedError, type LogFunction } from '@rony/interface'
import { describe, expect, it } from 'vitest'
import { WalCorruptError } from '../src/storage/errors.js'
import { fileStorage } from '../src/storage/file-storage.js'
import type { LogStorage } from '../src/storage/types.js'
import { allocRecord, RecordType, seal } from '../src/storage/wal-format.js'
import { writeWalHead } from '../src/storage/wal-head.js'
import { type SimulatedDisk, simulatedDisk } from '../src/testing/sim-disk.js'
import { entries, entry, plain, snapshot } from './storage-helpers.js'

const DIR = '/wal'
const segmentBytes = 1024

function open(disk: SimulatedDisk): LogStorage {
  return fileStorage(DIR, { fs: disk, segmentBytes })
}

/** A logger whose enabled channels append formatted lines to `lines`. */
function capture(lines: string[]): ComponentLogger {
  const channel = (name: string): LogFunction =>
    Object.assign((f: string, ...args: unknown[]) => lines.push(`${name} ${format(f, ...args)}`), {
      enabled: true,
    })
  return {
    forComponent: (name) =>
      Object.assign(channel(name), {
        error: channel(`${name}:error`),
        warn: channel(`${name}:warn`),
        trace: channel(`${name}:trace`),
      }),
  }
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

  it('a torn tail is logged on the warning channel with the bytes dropped', async () => {
    const disk = simulatedDisk()
    const { segment, start, end } = await fiveEntries(disk)
    disk.truncate(`${DIR}/${segment}`, end - 3)
    const lines: string[] = []
    const storage = fileStorage(DIR, { fs: disk, segmentBytes, logger: capture(lines) })
    await storage.open()
    await storage.close()
    expect(lines).toEqual([
      `rony:raft:wal:warn WAL ${segment}: cut a torn tail of ${end - 3 - start} bytes at byte ${start} (a write cut short by a crash)`,
    ])
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

  it('an empty last segment newer than wal.head (a roll cut short by a crash) gets a fresh start', async () => {
    const disk = simulatedDisk()
    await write(disk, (s) => appendEach(s, 40))
    const segments = await files(disk, '.wal')
    expect(segments.length).toBeGreaterThan(1)
    // What a crash after creating the segment leaves: no start record, the head one behind.
    disk.truncate(`${DIR}/${segments.at(-1)}`, 0)
    await writeWalHead(disk, DIR, segments.length - 1)
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

  it('a deleted newest segment is a missing tail: refused, naming it, term and vote included', async () => {
    const disk = simulatedDisk()
    await write(disk, async (s) => {
      await appendEach(s, 80)
      await s.setHardState({ term: 7, votedFor: 'b' }) // kept only in the newest segment
    })
    const segments = await files(disk, '.wal')
    expect(segments.length).toBeGreaterThan(2)
    await disk.unlink(`${DIR}/${segments.at(-1)}`)
    const err = await openFails(disk)
    expect(err).toBeInstanceOf(WalCorruptError)
    expect(err).toMatchObject({ code: 'RONY_ERR_WAL_CORRUPT', file: segments.at(-1) })
    expect(err.message).toContain(`${segments.at(-1)} at byte 0: missing: wal.head names it`)
  })

  it('an emptied newest segment is a missing tail', async () => {
    const disk = simulatedDisk()
    await write(disk, (s) => appendEach(s, 80))
    const newest = (await files(disk, '.wal')).at(-1)!
    disk.truncate(`${DIR}/${newest}`, 0)
    const err = await openFails(disk)
    expect(err).toMatchObject({ code: 'RONY_ERR_WAL_CORRUPT', file: newest })
    expect(err.message).toContain('empty, but wal.head records its start as durable')
  })

  it('a deleted only segment is a missing tail, not a new directory', async () => {
    const disk = simulatedDisk()
    await write(disk, async (s) => {
      await s.setHardState({ term: 3, votedFor: 'a' })
      await s.append(entries(1, 3, 3))
    })
    const segments = await files(disk, '.wal')
    expect(segments).toEqual(['0000000000000001.wal'])
    await disk.unlink(`${DIR}/${segments[0]}`)
    const err = await openFails(disk)
    expect(err).toMatchObject({ code: 'RONY_ERR_WAL_CORRUPT', file: segments[0] })
  })

  it('a deleted oldest segment after compaction is corruption when it held live entries', async () => {
    const disk = simulatedDisk()
    await write(disk, async (s) => {
      await appendEach(s, 80)
      await s.saveSnapshot(snapshot(30, 1))
    })
    const [oldest, next] = await files(disk, '.wal')
    expect(oldest).not.toBe('0000000000000001.wal') // compaction deleted the first ones
    await disk.unlink(`${DIR}/${oldest}`)
    const err = await openFails(disk)
    expect(err).toMatchObject({ code: 'RONY_ERR_WAL_CORRUPT', file: next })
    expect(err.message).toMatch(/entries 31\.\.\d+ are in no segment and no snapshot/)
  })

  it('a damaged wal.head is corruption', async () => {
    const disk = simulatedDisk()
    await write(disk, (s) => appendEach(s, 10))
    disk.flipBit(`${DIR}/wal.head`, 5, 1)
    expect(await openFails(disk)).toMatchObject({ code: 'RONY_ERR_WAL_CORRUPT', file: 'wal.head' })
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
