/**
 * Three Raft servers as child processes over real TCP with durable WALs: SIGKILL the
 * leader under load, restart it from its data directory, and check that no acknowledged
 * write was lost and that every server applied the same commands in the same order.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const SCRIPT = new URL('./fixtures/raft-server.ts', import.meta.url).pathname

interface State {
  role: string
  leaderId: string | undefined
  term: number
  appliedIndex: number
  applied: string[]
  data: [string, string][]
}

interface PutAnswer {
  ok: boolean
  index?: number
  code?: string
  leaderId?: string
}

class Server {
  child: ChildProcess | undefined
  #req = 0
  readonly #waiting = new Map<number, (m: unknown) => void>()

  constructor(
    readonly id: string,
    readonly address: string,
    readonly peers: { id: string; address: string }[],
    readonly dataDir: string,
  ) {}

  async start(): Promise<void> {
    const child = fork(SCRIPT, [this.id, this.address, JSON.stringify(this.peers), this.dataDir], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    })
    this.child = child
    child.on('message', (m: { req: number }) => this.#waiting.get(m.req)?.(m))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.id} did not start`)), 15_000)
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code) => reject(new Error(`${this.id} exited (${code})`)))
    })
  }

  kill(): void {
    this.child?.kill('SIGKILL')
    this.child = undefined
  }

  #ask<T>(message: Record<string, unknown>): Promise<T> {
    const child = this.child
    if (child === undefined || !child.connected)
      return Promise.reject(new Error(`${this.id} is down`))
    const req = ++this.#req
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(req)
        reject(new Error(`${this.id}: no answer`))
      }, 5_000)
      this.#waiting.set(req, (m) => {
        clearTimeout(timer)
        this.#waiting.delete(req)
        resolve(m as T)
      })
      child.send({ ...message, req })
    })
  }

  put(key: string, value: string): Promise<PutAnswer> {
    return this.#ask({ type: 'put', key, value })
  }

  state(): Promise<State> {
    return this.#ask({ type: 'state' })
  }
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const dir = mkdtempSync(join(tmpdir(), 'rony-raft-proc-'))
const servers: Server[] = []
afterAll(() => {
  for (const s of servers) s.kill()
  rmSync(dir, { recursive: true, force: true })
})

async function leader(): Promise<Server> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    for (const s of servers) {
      const state = await s.state().catch(() => undefined)
      if (state?.role === 'leader') return s
    }
    await sleep(50)
  }
  throw new Error('no leader within 10 s')
}

describe('three server processes over TCP', () => {
  it('loses no acknowledged write when the leader is SIGKILLed under load', async () => {
    const infos = await Promise.all(
      ['n1', 'n2', 'n3'].map(async (id) => ({ id, address: `127.0.0.1:${await freePort()}` })),
    )
    for (const info of infos) {
      const peers = infos.filter((p) => p.id !== info.id)
      servers.push(new Server(info.id, info.address, peers, join(dir, info.id)))
    }
    await Promise.all(servers.map((s) => s.start()))

    let target = await leader()
    const acknowledged = new Map<string, string>()
    let written = 0
    let stop = false
    // Eight writers, each key written once: an acknowledged key must survive with its value.
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !stop && i < 2_000; i++) {
        const key = `w${w}-${i}`
        const answer = await target.put(key, `${i}`).catch(() => undefined)
        if (answer?.ok) {
          acknowledged.set(key, `${i}`)
          written++
        } else {
          const next = servers.find((s) => s.id === answer?.leaderId && s.child !== undefined)
          if (next) target = next
          else await sleep(20)
        }
      }
    }
    const writers = Array.from({ length: 8 }, (_, w) => writer(w))
    while (written < 200) await sleep(10)

    const victim = target
    victim.kill()
    const before = written
    target = await leader()
    while (written < before + 200) await sleep(10)
    await victim.start() // the same data directory: it recovers its WAL, then catches up
    await sleep(300)
    stop = true
    await Promise.all(writers)

    // Every server converges to the same applied sequence, holding every acknowledged write.
    const deadline = Date.now() + 10_000
    let states: State[] = []
    for (;;) {
      states = await Promise.all(servers.map((s) => s.state()))
      const indexes = new Set(states.map((s) => s.appliedIndex))
      if (indexes.size === 1 && states[0]!.applied.length >= acknowledged.size) break
      if (Date.now() > deadline) throw new Error(`not converged: ${[...indexes].join(', ')}`)
      await sleep(50)
    }
    expect(acknowledged.size).toBeGreaterThan(400)
    const [first, ...rest] = states
    for (const s of rest) expect(s.applied).toEqual(first!.applied)
    const data = new Map(first!.data)
    for (const [key, value] of acknowledged) expect(data.get(key)).toBe(value)
  })
})
