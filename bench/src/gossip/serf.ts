/**
 * A cluster of HashiCorp serf agents (the Debian package; memberlist underneath), one
 * process per node on 127.0.0.1, observed through the agents' own log: serf logs
 * `serf: EventMemberJoin|Failed|Leave: <node>` for every membership change it sees and
 * memberlist logs `Suspect <node> has failed, no acks received` when a probe it ran fails,
 * which is what `serf monitor` streams. Lines are timed when this process reads them, into
 * `views` and `tally`. Each agent runs under coreutils `timeout` (its own process group,
 * killed whole), so none outlives the bench even if this process is SIGKILLed.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { type Cluster, kill, readProc, Tally, track, Views } from './cluster.ts'

/** The serf binary's version line, or undefined when serf is not installed. */
export function serfVersion(): string | undefined {
  try {
    return execFileSync('serf', ['version'], { encoding: 'utf8', timeout: 5_000 })
      .split('\n')[0]
      ?.trim()
  } catch {
    return undefined
  }
}

/** A port free for both TCP and UDP on 127.0.0.1 (memberlist binds both on one port). */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer()
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        const address = server.address()
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
      })
    })
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4')
      socket.once('error', () => resolve(false))
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)))
    })
    if (port && udpFree) return port
  }
  throw new Error('no free port on 127.0.0.1')
}

interface Agent {
  id: string
  bind: string
  rpc: string
  /** `timeout`, the leader of the agent's process group. */
  child: ChildProcess
  /** serf itself (the child of `timeout`), once known. */
  pid?: number | undefined
}

const JOIN = /serf: EventMember(Join|Failed|Leave): (\S+)/
const SUSPECT = /memberlist: Suspect (\S+) has failed/
const READY_MS = 30_000
/** Attempts per agent when its ports were taken between `freePort` and its bind. */
const SPAWN_ATTEMPTS = 5

/** The first child of `pid` (/proc), if any yet. */
function childOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const first = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ')[0])
    return first > 0 ? first : undefined
  } catch {
    return undefined
  }
}

export class SerfCluster implements Cluster {
  readonly views = new Views()
  readonly tally = new Tally()
  readonly #agents = new Map<string, Agent>()
  readonly #others = new Set<ChildProcess>()
  #suspicions = 0
  #seed: Agent | undefined
  /** RSS of the first agent once it ran alone (bytes). */
  #aloneRss = 0

  readonly profile: 'lan' | 'local'
  /** Seconds after which `timeout` kills an agent whatever happens. */
  readonly lifetimeS: number

  /** GOMAXPROCS of every agent (Go's default: the number of cores). */
  readonly goMaxProcs: number | undefined

  constructor(profile: 'lan' | 'local', lifetimeS = 900, goMaxProcs?: number) {
    this.profile = profile
    this.lifetimeS = lifetimeS
    this.goMaxProcs = goMaxProcs
  }

  async #spawn(id: string, join: readonly string[]): Promise<Agent> {
    for (let attempt = 1; ; attempt++) {
      const { agent, ready, output } = await this.#spawnOnce(id, join)
      if (await ready) return agent
      const inUse = output.some((l) => l.includes('address already in use'))
      await kill(agent.child)
      if (!inUse || attempt >= SPAWN_ATTEMPTS) {
        throw new Error(`serf agent ${id} did not start (exit or timeout): ${output.at(-1) ?? ''}`)
      }
    }
  }

  async #spawnOnce(
    id: string,
    join: readonly string[],
  ): Promise<{ agent: Agent; ready: Promise<boolean>; output: string[] }> {
    const bind = `127.0.0.1:${await freePort()}`
    const rpc = `127.0.0.1:${await freePort()}`
    const args = ['agent', `-node=${id}`, `-bind=${bind}`, `-rpc-addr=${rpc}`]
    args.push(`-profile=${this.profile}`, '-log-level=info')
    for (const address of join) args.push(`-join=${address}`)
    // `timeout` (without --foreground) leads a new process group: killed whole.
    const child = spawn('timeout', ['--kill-after=5', String(this.lifetimeS), 'serf', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: this.goMaxProcs ? { ...process.env, GOMAXPROCS: String(this.goMaxProcs) } : process.env,
    })
    track(child, true)
    const agent: Agent = { id, bind, rpc, child }
    this.#agents.set(id, agent)
    /** Lines before the agent ran, for the error (an address in use is retried). */
    const output: string[] = []
    let onReady: (() => void) | undefined
    const ready = new Promise<boolean>((resolve) => {
      onReady = () => resolve(true)
      child.once('exit', () => resolve(false))
      setTimeout(() => resolve(false), READY_MS).unref()
    })
    const onLine = (line: string): void => {
      const event = JOIN.exec(line)
      if (event) {
        const state = event[1] === 'Join' ? 'alive' : event[1] === 'Failed' ? 'failed' : 'left'
        // The agent logs its own join once it runs (after its -join completed: serf holds
        // its log back until then).
        if (event[2] === id) onReady?.()
        else {
          this.views.record(id, event[2] as string, state)
          this.tally.event(id, event[2] as string, state)
        }
        return
      }
      if (SUSPECT.test(line)) this.#suspicions++
      else if (onReady && output.length < 50) output.push(line)
    }
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine)
    if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine)
    ready.then((ok) => {
      if (ok) onReady = undefined
    })
    return { agent, ready, output }
  }

  /**
   * Starts agent `id` joining through `seeds` (ids of running agents; the first agent
   * started becomes the seed of `join`); resolves with the spawn time, once it ran its join.
   */
  async start(id: string, seeds: readonly string[]): Promise<number> {
    const at = Date.now()
    const binds = seeds.flatMap((s) => this.#agents.get(s)?.bind ?? [])
    const agent = await this.#spawn(id, binds)
    if (!this.#seed) {
      this.#seed = agent
      agent.pid = childOf(agent.child.pid)
      this.#aloneRss = (agent.pid && readProc(agent.pid)?.rss) || 0
    }
    return at
  }

  /** What the running agents would hold alone: the first agent's RSS when it ran alone, each (bytes). */
  emptyRss(): number {
    return this.pids().length * this.#aloneRss
  }

  /** PIDs of the running serf agents (not their `timeout`). */
  pids(): number[] {
    const pids: number[] = []
    for (const agent of this.#agents.values()) {
      const { child } = agent
      if (child.exitCode !== null || child.signalCode !== null) continue
      agent.pid ??= childOf(child.pid)
      if (agent.pid !== undefined) pids.push(agent.pid)
    }
    return pids
  }

  async startInitial(ids: string[]): Promise<void> {
    const [seed, ...rest] = ids
    if (!seed) return
    await this.start(seed, [])
    // Ten at a time: a hundred Go processes starting at once on two cores time out joins.
    for (let i = 0; i < rest.length; i += 10) {
      await Promise.all(rest.slice(i, i + 10).map((id) => this.start(id, [seed])))
    }
  }

  async join(id: string): Promise<number> {
    const agent = await this.#spawn(id, [])
    const seed = this.#seed
    if (!seed) throw new Error('no seed')
    // `serf join` asks the running agent (over its RPC port) to join the seed: the start
    // of the join, with no agent start-up in it (the CLI's own start is, a few ms).
    const at = Date.now()
    const cli = execFile('serf', ['join', `-rpc-addr=${agent.rpc}`, seed.bind], {
      timeout: 10_000,
    })
    track(cli)
    this.#others.add(cli)
    cli.once('exit', () => this.#others.delete(cli))
    return at
  }

  async kill(id: string): Promise<number> {
    const agent = this.#agents.get(id)
    if (!agent) throw new Error(`no agent ${id}`)
    const at = Date.now()
    void kill(agent.child)
    return at
  }

  async suspicionsRaised(): Promise<number> {
    return this.#suspicions
  }

  /** `serf members -format=json` on the seed, the last agent and one in between. */
  async crossCheck(ids: string[]): Promise<string | undefined> {
    const sample = [...new Set([ids[0], ids[Math.floor(ids.length / 2)], ids.at(-1)])]
    const problems: string[] = []
    for (const id of sample) {
      const agent = id === undefined ? undefined : this.#agents.get(id)
      if (!agent) continue
      const out = await new Promise<string>((resolve) =>
        execFile(
          'serf',
          ['members', `-rpc-addr=${agent.rpc}`, '-format=json'],
          { timeout: 5_000 },
          (error, stdout) => resolve(error ? '' : stdout),
        ),
      )
      let alive = 0
      try {
        const parsed = JSON.parse(out) as { members: { status: string }[] }
        alive = parsed.members.filter((m) => m.status === 'alive').length
      } catch {}
      if (alive !== ids.length) problems.push(`${id} lists ${alive} alive of ${ids.length}`)
    }
    return problems.length ? problems.join('; ') : undefined
  }

  async close(): Promise<void> {
    const children = [...[...this.#agents.values()].map((a) => a.child), ...this.#others]
    await Promise.all(children.map(kill))
    this.#agents.clear()
  }
}
