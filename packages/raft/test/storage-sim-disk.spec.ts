import { describe, expect, it } from 'vitest'
import { simulatedDisk } from '../src/testing/sim-disk.js'
import { seeded } from './seeded.js'

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

/** A disk whose crashes draw `draws` in turn (then 0). */
function scripted(...draws: number[]) {
  return simulatedDisk({ random: () => draws.shift() ?? 0 })
}

/** Creates /d/name holding `content`, synced, with its directory entry durable. */
async function durableFile(disk: ReturnType<typeof simulatedDisk>, name: string, content: string) {
  await disk.mkdir('/d')
  const file = await disk.open(`/d/${name}`, 'truncate')
  await file.append(bytes(content))
  await file.datasync()
  await file.close()
  await disk.syncDir('/d')
}

describe('simulatedDisk', () => {
  it('keeps synced data and a random prefix of the unsynced tail', async () => {
    const seen = new Set<string>()
    for (let seed = 1; seed <= 60; seed++) {
      const disk = simulatedDisk({ random: seeded(seed) })
      await durableFile(disk, 'f', 'abc')
      const file = await disk.open('/d/f', 'append')
      await file.append(bytes('def'))
      disk.crash()
      const content = text(await disk.readFile('/d/f'))
      expect('abcdef'.startsWith(content) && content.startsWith('abc'), content).toBe(true)
      seen.add(content)
    }
    expect([...seen].sort()).toEqual(['abc', 'abcd', 'abcde', 'abcdef'])
  })

  it('undoes a truncation that was not synced', async () => {
    const disk = scripted()
    await durableFile(disk, 'f', 'abcdef')
    const file = await disk.open('/d/f', 'append')
    await file.truncate(2)
    await file.append(bytes('XY'))
    expect(text(await disk.readFile('/d/f'))).toBe('abXY')
    disk.crash()
    expect(text(await disk.readFile('/d/f'))).toBe('abcdef')
  })

  it('loses a created file whose directory was not synced, even if its data was', async () => {
    const disk = scripted(0)
    await disk.mkdir('/d')
    const file = await disk.open('/d/new', 'append')
    await file.append(bytes('x'))
    await file.datasync()
    disk.crash()
    expect(await disk.readdir('/d')).toEqual([])
    await expect(disk.readFile('/d/new')).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('keeps an ordered prefix of unsynced directory changes, each one atomic', async () => {
    const outcomes = new Set<string>()
    for (const draw of [0, 0.3, 0.6, 0.99]) {
      const disk = scripted(draw)
      await durableFile(disk, 'old', 'old')
      const temp = await disk.open('/d/tmp', 'truncate')
      await temp.append(bytes('new'))
      await temp.datasync()
      await disk.rename('/d/tmp', '/d/cur') // change 2
      await disk.unlink('/d/old') // change 3
      disk.crash()
      const names = (await disk.readdir('/d')).sort().join(',')
      outcomes.add(names)
    }
    expect([...outcomes]).toEqual(['old', 'old,tmp', 'cur,old', 'cur'])
  })

  it('kills the crashed process: its handles and its mounted views reject, the disk works on', async () => {
    const disk = simulatedDisk()
    await durableFile(disk, 'f', 'a')
    const view = disk.mount()
    const file = await view.open('/d/f', 'append')
    disk.crash()
    await expect(file.append(bytes('b'))).rejects.toThrow(/crashed/)
    await expect(view.readdir('/d')).rejects.toThrow(/crashed/)
    await expect(disk.mount().readdir('/d')).resolves.toEqual(['f'])
    await expect(disk.readdir('/d')).resolves.toEqual(['f'])
  })

  it('fails the next call of an operation on request, once', async () => {
    const disk = simulatedDisk()
    await durableFile(disk, 'f', 'a')
    const file = await disk.open('/d/f', 'append')
    const error = new Error('EIO')
    disk.failNext('datasync', error)
    await expect(file.datasync()).rejects.toBe(error)
    await file.datasync()
    disk.failNext('rename')
    await expect(disk.rename('/d/f', '/d/g')).rejects.toThrow('simulated rename failure')
    expect(await disk.readdir('/d')).toEqual(['f'])
  })

  it('flips bits and truncates files on the medium, and counts', async () => {
    const disk = scripted()
    await durableFile(disk, 'f', 'abc')
    expect(disk.stats).toMatchObject({ fdatasyncs: 1, dirSyncs: 1, bytesWritten: 3 })
    disk.flipBit('/d/f', 1, 0) // 'b' (0x62) -> 'c' (0x63)
    disk.truncate('/d/f', 5)
    disk.crash()
    expect([...(await disk.readFile('/d/f'))]).toEqual([0x61, 0x63, 0x63, 0, 0])
    expect(() => disk.flipBit('/d/f', 5, 0)).toThrow(RangeError)
    expect(() => disk.flipBit('/d/f', 0, 8)).toThrow(RangeError)
    expect(() => disk.truncate('/d/missing', 1)).toThrow(/ENOENT/)
    expect(disk.stats.crashes).toBe(1)
  })

  it('reports missing files and directories like Node does', async () => {
    const disk = simulatedDisk()
    await expect(disk.readdir('/nope')).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(disk.open('/nope/f', 'append')).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(disk.unlink('/f')).rejects.toMatchObject({ code: 'ENOENT' })
    await disk.mkdir('/a/b')
    expect(await disk.readdir('/a')).toEqual(['b'])
    await durableFile(disk, 'f', 'x')
    await expect(disk.rename('/d/f', '/a/f')).rejects.toMatchObject({ code: 'EXDEV' })
    expect(() => simulatedDisk({ random: 5 as unknown as () => number })).toThrow(TypeError)
  })
})
