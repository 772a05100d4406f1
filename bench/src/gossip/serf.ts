/**
 * A cluster of HashiCorp serf agents (the Debian package; memberlist underneath), one
 * process per node on 127.0.0.1, observed through the agents' own log: serf logs
 * `serf: EventMemberJoin|Failed|Leave: <node>` for every membership change it sees and
 * memberlist logs `Suspect <node> has failed, no acks received` when a probe it ran fails,
 * which is what `serf monitor` streams. Lines are timed when this process reads them.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { type Cluster, sleep, Views } from './cluster.ts'

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
  child: ChildProcess
}

const JOIN = /serf: EventMember(Join|Failed|Leave): (\S+)/
const SUSPECT = /memberlist: Suspect (\S+) has failed/
const READY_MS = 30_000
const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

export class SerfCluster implements Cluster {
  readonly views = new Views()
  readonly #agents = new Map<string, Agent>()
  readonly #others = new Set<ChildProcess>()
  #suspicions = 0
  #seed: Agent | undefined

  readonly profile: 'lan' | 'local'

  constructor(profile: 'lan' | 'local') {
    this.profile = profile
  }

  async #spawn(id: string, join: string | undefined): Promise<Agent> {
    const bind = `127.0.0.1:${await freePort()}`
    const rpc = `127.0.0.1:${await freePort()}`
    const args = ['agent', `-node=${id}`, `-bind=${bind}`, `-rpc-addr=${rpc}`]
    args.push(`-profile=${this.profile}`, '-log-level=info')
    if (join) args.push(`-join=${join}`)
    const child = spawn('serf', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    live.add(child)
    child.once('exit', () => live.delete(child))
    const agent: Agent = { id, bind, rpc, child }
    this.#agents.set(id, agent)
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
        else this.views.record(id, event[2] as string, state)
        return
      }
      if (SUSPECT.test(line)) this.#suspicions++
    }
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine)
    if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine)
    if (!(await ready)) throw new Error(`serf agent ${id} did not start (exit or timeout)`)
    return agent
  }

  async startInitial(ids: string[]): Promise<void> {
    const [seed, ...rest] = ids
    if (!seed) return
    this.#seed = await this.#spawn(seed, undefined)
    // Ten at a time: a hundred Go processes starting at once on two cores time out joins.
    for (let i = 0; i < rest.length; i += 10) {
      await Promise.all(rest.slice(i, i + 10).map((id) => this.#spawn(id, this.#seed?.bind)))
    }
  }

  async join(id: string): Promise<number> {
    const agent = await this.#spawn(id, undefined)
    const seed = this.#seed
    if (!seed) throw new Error('no seed')
    // `serf join` asks the running agent (over its RPC port) to join the seed: the start
    // of the join, with no agent start-up in it (the CLI's own start is, a few ms).
    const at = Date.now()
    const cli = execFile('serf', ['join', `-rpc-addr=${agent.rpc}`, seed.bind], {
      timeout: 10_000,
    })
    this.#others.add(cli)
    cli.once('exit', () => this.#others.delete(cli))
    return at
  }

  async kill(id: string): Promise<number> {
    const agent = this.#agents.get(id)
    if (!agent) throw new Error(`no agent ${id}`)
    const at = Date.now()
    agent.child.kill('SIGKILL')
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
    const exits = children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          child.once('exit', () => resolve())
          child.kill('SIGKILL')
        }),
    )
    await Promise.race([Promise.all(exits), sleep(5_000)])
    this.#agents.clear()
  }
}
