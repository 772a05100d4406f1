/**
 * The node's lifecycle (the shared `Lifecycle`): concurrent starts share one, a stopped node
 * does not restart, and a stop during a start undoes all of it, the TCP listener included.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { virtualClock } from '@rony/transport'
import { describe, expect, it } from 'vitest'
import { type LogStorage, memoryStorage, type RaftTransport, raft } from '../src/index.js'
import { KvMachine } from './node-harness.js'
import { settle } from './storage-helpers.js'

/** `memoryStorage()` whose `open()` waits until the test releases it. */
function heldOpen(): { storage: LogStorage; release(): void } {
  const inner = memoryStorage()
  let release = (): void => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  return { storage: { ...bound(inner), open: () => gate.then(() => inner.open()) }, release }
}

function bound(storage: LogStorage): LogStorage {
  return {
    open: () => storage.open(),
    setHardState: (s) => storage.setHardState(s),
    append: (e) => storage.append(e),
    saveSnapshot: (s) => storage.saveSnapshot(s),
    close: () => storage.close(),
  }
}

/** A transport that only records whether it is listening. */
function fakeTransport(): RaftTransport & { listening: boolean } {
  return {
    listening: false,
    address: 'memory:solo',
    async start() {
      this.listening = true
    },
    send: () => {},
    async stop() {
      this.listening = false
    },
    stats: () => ({ queueDrops: 0, malformed: 0 }),
  }
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })

/** Listens on `port` and closes at once: rejects with EADDRINUSE while something holds it. */
const canListen = (port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(port, '127.0.0.1', () => s.close(() => resolve()))
  })

describe('raft node lifecycle', () => {
  it('a second concurrent start() resolves only once the node is started', async () => {
    const { storage, release } = heldOpen()
    const transport = fakeTransport()
    const node = raft({
      id: 'solo',
      storage,
      transport,
      stateMachine: new KvMachine(),
      clock: virtualClock(),
    })
    const first = node.start()
    let secondDone = false
    const second = node.start().then(() => {
      secondDone = true
    })
    await settle()
    expect(secondDone).toBe(false)
    release()
    await second
    expect(transport.listening).toBe(true)
    await first
    await node.stop()
  })

  it('start() after stop() rejects with RONY_ERR_STOPPED', async () => {
    const node = raft({
      id: 'solo',
      storage: memoryStorage(),
      transport: fakeTransport(),
      stateMachine: new KvMachine(),
      clock: virtualClock(),
    })
    await node.start()
    await node.stop()
    await expect(node.start()).rejects.toMatchObject({ code: 'RONY_ERR_STOPPED' })
    await node.stop() // a second stop is still a no-op
  })

  it('stop() during start() leaves nothing listening on the TCP port', async () => {
    const port = await freePort()
    const { storage, release } = heldOpen()
    const node = raft({
      id: 'solo',
      bind: `127.0.0.1:${port}`,
      storage,
      stateMachine: new KvMachine(),
    })
    const starting = node.start().catch(() => {})
    await settle()
    const stopping = node.stop()
    release()
    await Promise.all([starting, stopping])
    await canListen(port)
    await expect(node.start()).rejects.toMatchObject({ code: 'RONY_ERR_STOPPED' })
  })

  it('a start that fails (the port is taken) closes the storage and its lock, so it can be retried', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const { port } = blocker.address() as { port: number }
    const dataDir = mkdtempSync(join(tmpdir(), 'rony-raft-life-'))
    try {
      const node = raft({
        id: 'solo',
        bind: `127.0.0.1:${port}`,
        dataDir,
        stateMachine: new KvMachine(),
      })
      await expect(node.start()).rejects.toMatchObject({ code: 'EADDRINUSE' })
      await new Promise<void>((resolve) => blocker.close(() => resolve()))
      await node.start() // the data dir's lock was released: this would be RONY_ERR_DATA_DIR_LOCKED
      await node.stop()
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
