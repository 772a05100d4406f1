/**
 * A cluster of @rony/gossip nodes on real UDP + TCP sockets on 127.0.0.1, in worker
 * processes (`rony-node.ts`), `workers` of them, round-robin. Each node to be killed runs
 * alone in its own process, so a SIGKILL takes down that node and nothing else. Membership
 * events reach this process over IPC: one by one into `views` (timed when they arrive, as
 * serf's log lines are), or at large N counted by the workers into `tally` (timed there).
 */
import { type ChildProcess, fork } from 'node:child_process'
import { type Cluster, kill, readProc, type State, Tally, track, Views } from './cluster.ts'

const SCRIPT = new URL('./rony-node.ts', import.meta.url).pathname
const START_MS = 30_000

interface Reply {
  type: string
  req?: number
  id?: string
  address?: string
  node?: string
  member?: string
  state?: State
  message?: string
  bytesSent?: number
  packetsSent?: number
  probesFailed?: number
  heapUsed?: number
  members?: Record<string, string[]>
  sizes?: Record<string, number>
  counts?: [string, number, number][]
  failures?: [string, string, string, number][]
}

interface Worker {
  child: ChildProcess
  ready: Promise<void>
  /** RSS once ready, before any node (bytes). */
  emptyRss: number
}

export class RonyCluster implements Cluster {
  readonly views = new Views()
  readonly tally = new Tally()
  readonly #workers: Worker[] = []
  #pool: Worker[] = []
  #next = 0
  readonly #home = new Map<string, Worker>()
  readonly #addresses = new Map<string, string>()
  readonly #started = new Map<string, () => void>()
  #seed: string | undefined
  #req = 0

  readonly profile: 'lan' | 'local'
  readonly workers: number
  readonly victims: readonly string[]
  readonly report: 'events' | 'counts'

  /**
   * Each of `victims` runs alone in its process; the rest go round-robin over `workers`
   * processes. `report`: events one by one into `views`, or counted into `tally`.
   */
  constructor(
    profile: 'lan' | 'local',
    workers: number,
    victims: readonly string[],
    report: 'events' | 'counts' = 'events',
  ) {
    this.profile = profile
    this.workers = workers
    this.victims = victims
    this.report = report
  }

  #fork(): Worker {
    const child = fork(SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    track(child)
    const worker: Worker = { child, ready: Promise.resolve(), emptyRss: 0 }
    worker.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('rony worker: not ready in 15 s')), 15_000)
      child.once('exit', () => reject(new Error('rony worker exited')))
      child.on('message', (m: Reply) => {
        if (m.type === 'ready') {
          clearTimeout(timer)
          worker.emptyRss = (child.pid && readProc(child.pid)?.rss) || 0
          resolve()
        } else if (m.type === 'event' && m.node && m.member && m.state) {
          this.views.record(m.node, m.member, m.state)
        } else if (m.type === 'counts') {
          for (const [node, count, at] of m.counts ?? []) this.tally.count(node, count, at)
          for (const [node, member, state, at] of m.failures ?? []) {
            if (state === 'failed') this.tally.failed(node, member, at)
          }
        } else if (m.type === 'started' && m.id) {
          if (m.address) this.#addresses.set(m.id, m.address)
          this.#started.get(m.id)?.()
        } else if (m.type === 'error') {
          process.stderr.write(`  rony node ${m.id}: ${m.message}\n`)
        }
      })
    })
    worker.ready.catch(() => {})
    this.#workers.push(worker)
    return worker
  }

  /** The process for node `id`: its own for a victim, else the next of the pool. */
  #workerFor(id: string): Worker {
    if (this.victims.includes(id)) return this.#fork()
    if (this.#pool.length === 0) {
      this.#pool = Array.from({ length: this.workers }, () => this.#fork())
    }
    const worker = this.#pool[this.#next] as Worker
    this.#next = (this.#next + 1) % this.#pool.length
    return worker
  }

  /**
   * Starts node `id` joining through `seeds` (ids of running nodes; the first node started
   * becomes the seed of `join`); resolves with the time the start was sent, once it runs.
   */
  async start(id: string, seeds: readonly string[]): Promise<number> {
    const worker = this.#workerFor(id)
    await worker.ready
    this.#home.set(id, worker)
    this.#seed ??= id
    const running = new Promise<boolean>((resolve) => {
      this.#started.set(id, () => resolve(true))
      setTimeout(() => resolve(false), START_MS).unref()
    })
    const at = Date.now()
    worker.child.send({
      type: 'start',
      id,
      seeds: seeds.flatMap((s) => this.#addresses.get(s) ?? []),
      profile: this.profile,
      report: this.report,
    })
    if (!(await running)) throw new Error(`rony node ${id} did not start`)
    this.#started.delete(id)
    return at
  }

  async startInitial(ids: string[]): Promise<void> {
    const [seed, ...rest] = ids
    if (!seed) return
    await this.start(seed, [])
    await Promise.all(rest.map((id) => this.start(id, [seed])))
  }

  join(id: string): Promise<number> {
    return this.start(id, this.#seed ? [this.#seed] : [])
  }

  async kill(id: string): Promise<number> {
    const worker = this.#home.get(id)
    if (!worker || !this.victims.includes(id)) throw new Error(`${id} does not run alone`)
    const at = Date.now()
    worker.child.kill('SIGKILL')
    return at
  }

  /** PIDs of the running worker processes. */
  pids(): number[] {
    return this.#running().flatMap((w) => w.child.pid ?? [])
  }

  /** Summed RSS of the running workers when they were empty (bytes). */
  emptyRss(): number {
    return this.#running().reduce((n, w) => n + w.emptyRss, 0)
  }

  #running(): Worker[] {
    return this.#workers.filter((w) => w.child.exitCode === null && !w.child.signalCode)
  }

  async #ask(type: 'stats' | 'members' | 'sizes'): Promise<Reply[]> {
    return Promise.all(
      this.#running().map(
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

  /** V8 heap in use, summed over the running workers (bytes). */
  async heapUsed(): Promise<number> {
    const replies = await this.#ask('stats')
    return replies.reduce((n, r) => n + (r.heapUsed ?? 0), 0)
  }

  /** `probesFailed` of `stats()`: probes that ended in a suspicion, over the running nodes. */
  async suspicionsRaised(): Promise<number> {
    const replies = await this.#ask('stats')
    return replies.reduce((n, r) => n + (r.probesFailed ?? 0), 0)
  }

  /** `members()` (alive and suspect) of every node: their ids, or at large N their number. */
  async crossCheck(ids: string[]): Promise<string | undefined> {
    const problems: string[] = []
    const lengths: [string, number][] =
      this.report === 'counts'
        ? (await this.#ask('sizes')).flatMap((r) => Object.entries(r.sizes ?? {}))
        : (await this.#ask('members')).flatMap((r) =>
            Object.entries(r.members ?? {}).map(([id, m]): [string, number] => [id, m.length]),
          )
    for (const [id, length] of lengths) {
      if (length !== ids.length) problems.push(`${id} lists ${length} of ${ids.length}`)
    }
    return problems.length ? problems.slice(0, 3).join('; ') : undefined
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map(({ child }) => kill(child)))
    this.#workers.length = 0
    this.#pool = []
  }
}
