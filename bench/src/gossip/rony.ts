/**
 * A cluster of @rony/gossip nodes on real UDP + TCP sockets on 127.0.0.1, in worker
 * processes (`rony-node.ts`), `workers` of them (the suite: N − 2 up to N = 10, else 10),
 * round-robin. Each node to be killed runs alone in its own process, so a SIGKILL takes
 * down that node and nothing else. Membership events reach this process over
 * IPC and are timed when they arrive, as serf's log lines are.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { type Cluster, sleep, Views } from './cluster.ts'

const SCRIPT = new URL('./rony-node.ts', import.meta.url).pathname
const START_MS = 30_000
const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

interface Reply {
  type: string
  req?: number
  id?: string
  address?: string
  node?: string
  member?: string
  state?: 'alive' | 'failed' | 'left'
  message?: string
  bytesSent?: number
  packetsSent?: number
  probesFailed?: number
  members?: Record<string, string[]>
}

interface Worker {
  child: ChildProcess
  ready: Promise<void>
}

export class RonyCluster implements Cluster {
  readonly views = new Views()
  readonly #workers: Worker[] = []
  readonly #home = new Map<string, Worker>()
  readonly #addresses = new Map<string, string>()
  readonly #started = new Map<string, () => void>()
  #seed: string | undefined
  #req = 0

  /** Each of `victims` runs alone in its process; the rest go round-robin over `workers` processes. */
  readonly profile: 'lan' | 'local'
  readonly workers: number
  readonly victims: readonly string[]

  constructor(profile: 'lan' | 'local', workers: number, victims: readonly string[]) {
    this.profile = profile
    this.workers = workers
    this.victims = victims
  }

  #fork(): Worker {
    const child = fork(SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    live.add(child)
    child.once('exit', () => live.delete(child))
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('rony worker: not ready in 15 s')), 15_000)
      child.once('exit', () => reject(new Error('rony worker exited')))
      child.on('message', (m: Reply) => {
        if (m.type === 'ready') {
          clearTimeout(timer)
          resolve()
        } else if (m.type === 'event' && m.node && m.member && m.state) {
          this.views.record(m.node, m.member, m.state)
        } else if (m.type === 'started' && m.id) {
          if (m.address) this.#addresses.set(m.id, m.address)
          this.#started.get(m.id)?.()
        } else if (m.type === 'error') {
          process.stderr.write(`  rony node ${m.id}: ${m.message}\n`)
        }
      })
    })
    ready.catch(() => {})
    const worker = { child, ready }
    this.#workers.push(worker)
    return worker
  }

  /** Starts `id` in `worker`; resolves with the time the start was sent, once it runs. */
  async #start(worker: Worker, id: string): Promise<number> {
    await worker.ready
    this.#home.set(id, worker)
    const seedAddress = this.#seed ? this.#addresses.get(this.#seed) : undefined
    const running = new Promise<boolean>((resolve) => {
      this.#started.set(id, () => resolve(true))
      setTimeout(() => resolve(false), START_MS).unref()
    })
    const at = Date.now()
    worker.child.send({
      type: 'start',
      id,
      seeds: seedAddress && id !== this.#seed ? [seedAddress] : [],
      profile: this.profile,
    })
    if (!(await running)) throw new Error(`rony node ${id} did not start`)
    return at
  }

  async startInitial(ids: string[]): Promise<void> {
    const pool = Array.from({ length: this.workers }, () => this.#fork())
    const [seed, ...rest] = ids
    if (!seed) return
    this.#seed = seed
    await this.#start(pool[0] as Worker, seed)
    let next = 1 % pool.length // the seed's worker got one already
    await Promise.all(
      rest.map((id) => {
        if (this.victims.includes(id)) return this.#start(this.#fork(), id)
        const worker = pool[next] as Worker
        next = (next + 1) % pool.length
        return this.#start(worker, id)
      }),
    )
  }

  join(id: string): Promise<number> {
    return this.#start(this.#workers[0] as Worker, id)
  }

  async kill(id: string): Promise<number> {
    const worker = this.#home.get(id)
    if (!worker || !this.victims.includes(id)) throw new Error(`${id} does not run alone`)
    const at = Date.now()
    worker.child.kill('SIGKILL')
    return at
  }

  async #ask(type: 'stats' | 'members'): Promise<Reply[]> {
    const running = this.#workers.filter((w) => w.child.exitCode === null && !w.child.signalCode)
    return Promise.all(
      running.map(
        (w) =>
          new Promise<Reply>((resolve, reject) => {
            const req = ++this.#req
            const timer = setTimeout(() => reject(new Error(`rony worker: no ${type}`)), 10_000)
            const onMessage = (m: Reply): void => {
              if (m.type !== type || m.req !== req) return
              clearTimeout(timer)
              w.child.off('message', onMessage)
              resolve(m)
            }
            w.child.on('message', onMessage)
            w.child.send({ type, req })
          }),
      ),
    )
  }

  async counters(): Promise<{ bytesSent: number; packetsSent: number }> {
    const replies = await this.#ask('stats')
    return {
      bytesSent: replies.reduce((n, r) => n + (r.bytesSent ?? 0), 0),
      packetsSent: replies.reduce((n, r) => n + (r.packetsSent ?? 0), 0),
    }
  }

  /** `probesFailed` of `stats()`: probes that ended in a suspicion, over the running nodes. */
  async suspicionsRaised(): Promise<number> {
    const replies = await this.#ask('stats')
    return replies.reduce((n, r) => n + (r.probesFailed ?? 0), 0)
  }

  /** `members()` (alive and suspect) of every node. */
  async crossCheck(ids: string[]): Promise<string | undefined> {
    const problems: string[] = []
    for (const reply of await this.#ask('members')) {
      for (const [id, members] of Object.entries(reply.members ?? {})) {
        if (members.length !== ids.length) {
          problems.push(`${id} lists ${members.length} of ${ids.length}`)
        }
      }
    }
    return problems.length ? problems.slice(0, 3).join('; ') : undefined
  }

  async close(): Promise<void> {
    const exits = this.#workers.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          child.once('exit', () => resolve())
          child.kill('SIGKILL')
        }),
    )
    await Promise.race([Promise.all(exits), sleep(5_000)])
    this.#workers.length = 0
  }
}
