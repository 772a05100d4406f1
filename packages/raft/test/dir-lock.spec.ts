/** The data-dir lock: one owner per directory, in this process or another; stale locks are taken over. */
import { type ChildProcess, fork } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { raft } from '../src/index.js'
import { DataDirLockedError } from '../src/storage/errors.js'
import { fileStorage } from '../src/storage/file-storage.js'
import { KvMachine } from './node-harness.js'

const HOLDER = new URL('./fixtures/lock-holder.ts', import.meta.url).pathname
const root = mkdtempSync(join(tmpdir(), 'rony-raft-lock-'))
const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) child.kill('SIGKILL')
  rmSync(root, { recursive: true, force: true })
})

let dirs = 0
const freshDir = (): string => join(root, `d${++dirs}`)

/** Starts a process that opens `dir` and keeps it; resolves once it reports `open`. */
function holdInChild(dir: string): Promise<ChildProcess> {
  const child = fork(HOLDER, [dir], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  children.push(child)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the holder did not open')), 15_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      clearTimeout(timer)
      if (chunk.toString().trim() === 'open') resolve(child)
      else reject(new Error(`the holder failed: ${chunk}`))
    })
  })
}

describe('data dir lock', () => {
  it('a second storage in this process is refused, naming this pid; close() releases it', async () => {
    const dir = freshDir()
    const first = fileStorage(dir)
    await first.open()
    const second = fileStorage(dir)
    const err = await second.open().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DataDirLockedError)
    expect(err).toMatchObject({ code: 'RONY_ERR_DATA_DIR_LOCKED', pid: process.pid })
    expect((err as Error).message).toContain(`process ${process.pid}`)
    await first.close()
    await second.open()
    await second.close()
  })

  it('a process holding the dir makes open() fail with its pid; once it is killed, the lock is taken over', async () => {
    const dir = freshDir()
    const child = await holdInChild(dir)
    const storage = fileStorage(dir)
    const err = await storage.open().catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: 'RONY_ERR_DATA_DIR_LOCKED',
      pid: child.pid,
      hostname: hostname(),
    })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL') // no release: the lock file stays, naming a dead pid
    await exited
    await storage.open()
    expect(JSON.parse(readFileSync(join(dir, 'LOCK'), 'utf8'))).toMatchObject({ pid: process.pid })
    await storage.close()
  })

  it('a child process is refused while this process holds the dir', async () => {
    const dir = freshDir()
    const storage = fileStorage(dir)
    await storage.open()
    await expect(holdInChild(dir)).rejects.toThrow(/RONY_ERR_DATA_DIR_LOCKED/)
    await storage.close()
  })

  it('a lock naming a dead process, or torn by a crash, is taken over', async () => {
    for (const content of [
      JSON.stringify({ pid: 2 ** 22 + 12345, hostname: hostname() }),
      '{"pi',
    ]) {
      const dir = freshDir()
      const storage = fileStorage(dir)
      await storage.open()
      await storage.close()
      writeFileSync(join(dir, 'LOCK'), content)
      await storage.open()
      await storage.close()
    }
  })

  it('a second Raft node on the same dataDir fails to start; after the first stops, it starts', async () => {
    const dataDir = freshDir()
    const node = (id: string) =>
      raft({
        id,
        dataDir,
        transport: {
          address: `memory:${id}`,
          start: async () => {},
          send: () => {},
          stop: async () => {},
          stats: () => ({ queueDrops: 0, malformed: 0 }),
        },
        stateMachine: new KvMachine(),
      })
    const first = node('a')
    const second = node('b')
    await first.start()
    await expect(second.start()).rejects.toMatchObject({ code: 'RONY_ERR_DATA_DIR_LOCKED' })
    await first.stop()
    await second.start()
    await second.stop()
  })

  it('a lock held from another host is never taken over', async () => {
    const dir = freshDir()
    const storage = fileStorage(dir)
    await storage.open()
    await storage.close()
    writeFileSync(join(dir, 'LOCK'), JSON.stringify({ pid: 1, hostname: `not-${hostname()}` }))
    await expect(storage.open()).rejects.toMatchObject({ code: 'RONY_ERR_DATA_DIR_LOCKED', pid: 1 })
  })
})
