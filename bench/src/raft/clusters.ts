/**
 * The two clusters of the Raft suite, each on 127.0.0.1 with durable storage in its own
 * fresh directory: @rony/raft servers (`server.ts`, one Node process each) and etcd members
 * (`/usr/bin/etcd`, one process each, default fsync settings) with their gRPC load client
 * (`etcd-client.ts`). Both expose the same `load()`: one phase run by a process next to the
 * leader, answered with its figures, plus the leader process's CPU time over the phase.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { LoadKind, LoadResult } from './loop.ts'
import { freePort, type NodeChild, sleep, spawnNode } from './proc.ts'

const SERVER = new URL('./server.ts', import.meta.url).pathname
const ETCD_CLIENT = new URL('./etcd-client.ts', import.meta.url).pathname
const KEEPER = new URL('./keeper.ts', import.meta.url).pathname

export interface Phase {
  kind: LoadKind
  inFlight: number
  count: number
  maxMs: number
  warmupMs: number
  /** Return every latency too (`LoadResult.latenciesUs`). */
  latencies?: boolean | undefined
}

/** A phase's figures, and the leader process's CPU time (user + system) per operation. */
export interface Measured extends LoadResult {
  leaderCpuUsPerOp: number
  /** Elections during the phase (warm-up included): how much the highest term grew. */
  termsGained: number
}

export interface Cluster {
  readonly impl: 'rony' | 'etcd'
  readonly size: number
  load(phase: Phase): Promise<Measured>
  close(): Promise<void>
}

const loadTimeout = (p: Phase): number => p.warmupMs + p.maxMs + 30_000

// ---------------------------------------------------------------------------------------
// @rony/raft

interface ServerState {
  role: string
  leaderId: string | undefined
  term: number
  commitIndex: number
  appliedIndex: number
}

const maxTerm = (terms: number[]): number => Math.max(0, ...terms)

export class RonyCluster implements Cluster {
  readonly impl = 'rony'
  readonly size: number
  readonly #servers: NodeChild[]

  private constructor(servers: NodeChild[]) {
    this.size = servers.length
    this.#servers = servers
  }

  /**
   * Starts `size` servers (all bootstrapped together) and waits until all follow one leader.
   * `script`: a server script with the same protocol instead of `server.ts` (experiments).
   */
  static async start(dir: string, size: number, script = SERVER): Promise<RonyCluster> {
    const members = await Promise.all(
      Array.from({ length: size }, async (_, i) => ({
        id: `r${i}`,
        address: `127.0.0.1:${await freePort()}`,
      })),
    )
    const servers: NodeChild[] = []
    try {
      for (const m of members) {
        const dataDir = join(dir, m.id)
        mkdirSync(dataDir, { recursive: true })
        const peers = JSON.stringify(members.filter((p) => p.id !== m.id))
        servers.push(
          await spawnNode(`rony ${m.id}`, script, [m.id, m.address, peers, dataDir], {
            profile: true,
          }),
        )
      }
      const deadline = Date.now() + 20_000
      while (Date.now() < deadline) {
        const states = await Promise.all(
          servers.map((s) => s.request<ServerState>({ type: 'state' }, 5_000)),
        )
        const leaderIndex = states.findIndex((s) => s.role === 'leader')
        const leader = states[leaderIndex]
        const leaderId = members[leaderIndex]?.id
        // Every server follows it, and its first entry (of its term) is applied everywhere.
        if (
          leader !== undefined &&
          leader.commitIndex > 0 &&
          states.every((s) => s.leaderId === leaderId && s.appliedIndex >= leader.commitIndex)
        ) {
          return new RonyCluster(servers)
        }
        await sleep(100)
      }
      throw new Error(`rony: no stable leader among ${size} servers within 20 s`)
    } catch (error) {
      await Promise.all(servers.map((s) => s.stop(2000)))
      throw error
    }
  }

  #states(): Promise<ServerState[]> {
    return Promise.all(this.#servers.map((s) => s.request<ServerState>({ type: 'state' }, 5_000)))
  }

  /** The server that leads now (leadership may move under load), waiting ≤ 10 s for one. */
  async #leader(): Promise<{ leader: NodeChild; term: number }> {
    const deadline = Date.now() + 10_000
    for (;;) {
      const states = await this.#states()
      const index = states.findIndex((s) => s.role === 'leader')
      const leader = this.#servers[index]
      if (leader !== undefined) return { leader, term: maxTerm(states.map((s) => s.term)) }
      if (Date.now() > deadline) throw new Error('rony: no leader for 10 s')
      await sleep(50)
    }
  }

  async load(phase: Phase): Promise<Measured> {
    const { leader, term } = await this.#leader()
    const r = await leader.request<LoadResult>({ type: 'load', ...phase }, loadTimeout(phase))
    const after = maxTerm((await this.#states()).map((s) => s.term))
    // The leader process runs the load loop itself: its CPU includes the client's work.
    return {
      ...r,
      leaderCpuUsPerOp: r.completed > 0 ? r.cpuUs / r.completed : Number.NaN,
      termsGained: after - term,
    }
  }

  /** The servers' process ids (for their CPU time, from /proc). */
  get pids(): number[] {
    return this.#servers.map((s) => s.pid)
  }

  async close(): Promise<void> {
    await Promise.all(this.#servers.map((s) => s.stop()))
  }
}

// ---------------------------------------------------------------------------------------
// etcd

/** `etcd --version`'s first line, or undefined when etcd is not installed. */
export function etcdVersion(): string | undefined {
  try {
    return execFileSync('etcd', ['--version'], { encoding: 'utf8', timeout: 5_000 })
      .split('\n')[0]
      ?.replace(/^etcd Version:\s*/, '')
      .trim()
  } catch {
    return undefined
  }
}

interface Member {
  name: string
  client: string
  peer: string
  /** `keeper.ts` running the member. */
  keeper: NodeChild
  /** The etcd process's own PID. */
  pid: number | undefined
}

/** A hard bound on each member's life (the whole suite takes ~5 minutes). */
const ETCD_LIFETIME_S = 900

async function postJson<T>(url: string, body: unknown, timeoutMs = 2_000): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  })
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`)
  return (await response.json()) as T
}

export class EtcdCluster implements Cluster {
  readonly impl = 'etcd'
  readonly size: number
  readonly #members: Member[]
  readonly #client: NodeChild

  private constructor(members: Member[], client: NodeChild) {
    this.size = members.length
    this.#members = members
    this.#client = client
  }

  /**
   * Starts `size` members with a static `--initial-cluster`, waits until each reports
   * healthy and all agree on a leader, then starts the gRPC client (`channels` connections)
   * on the leader's client URL, so no request is forwarded.
   */
  static async start(dir: string, size: number, channels: number): Promise<EtcdCluster> {
    const ports = await Promise.all(
      Array.from({ length: size }, async (_, i) => ({
        name: `e${i}`,
        client: `127.0.0.1:${await freePort()}`,
        peer: `127.0.0.1:${await freePort()}`,
      })),
    )
    const initial = ports.map((p) => `${p.name}=http://${p.peer}`).join(',')
    const token = `rony-bench-${process.pid}-${Date.now()}`
    const members: Member[] = []
    let client: NodeChild | undefined
    try {
      for (const p of ports) {
        const keeper = await spawnNode(
          `etcd ${p.name}`,
          KEEPER,
          [
            String(ETCD_LIFETIME_S),
            'etcd',
            `--name=${p.name}`,
            `--data-dir=${join(dir, p.name)}`,
            `--listen-client-urls=http://${p.client}`,
            `--advertise-client-urls=http://${p.client}`,
            `--listen-peer-urls=http://${p.peer}`,
            `--initial-advertise-peer-urls=http://${p.peer}`,
            `--initial-cluster=${initial}`,
            '--initial-cluster-state=new',
            `--initial-cluster-token=${token}`,
            '--logger=zap',
            '--log-outputs=stderr',
            '--log-level=error',
          ],
          { captureStderr: true },
        )
        members.push({ ...p, keeper, pid: (keeper.hello.pid as number | null) ?? undefined })
      }
      const leader = await EtcdCluster.#awaitLeader(members)
      client = await spawnNode(
        'etcd client',
        ETCD_CLIENT,
        [leader.client, String(channels), String(leader.pid ?? '')],
        { readyMs: 15_000 },
      )
      return new EtcdCluster(members, client)
    } catch (error) {
      await client?.stop(2000)
      await Promise.all(members.map((m) => m.keeper.stop(8000)))
      const tails = members.map((m) => `${m.name}: ${m.keeper.tail()}`).join('\n')
      throw new Error(`${(error as Error).message}\n${tails}`)
    }
  }

  static async #awaitLeader(members: Member[]): Promise<Member> {
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      for (const m of members) {
        if (!m.keeper.alive()) throw new Error(`etcd ${m.name} exited during start-up`)
      }
      try {
        const health = await Promise.all(
          members.map(async (m) => {
            const r = await fetch(`http://${m.client}/health`, {
              signal: AbortSignal.timeout(2_000),
            })
            return ((await r.json()) as { health?: string }).health === 'true'
          }),
        )
        if (health.every(Boolean)) {
          const statuses = await Promise.all(
            members.map((m) =>
              postJson<{ header: { member_id: string }; leader: string }>(
                `http://${m.client}/v3/maintenance/status`,
                {},
              ),
            ),
          )
          const leaderId = statuses[0]?.leader
          const index = statuses.findIndex((s) => s.header.member_id === leaderId)
          if (leaderId && index >= 0 && statuses.every((s) => s.leader === leaderId)) {
            return members[index] as Member
          }
        }
      } catch {
        // not up yet
      }
      await sleep(200)
    }
    throw new Error(`etcd: ${members.length} members not healthy with one leader within 30 s`)
  }

  /** The highest raft term any member reports. */
  async #term(): Promise<number> {
    const statuses = await Promise.all(
      this.#members.map((m) =>
        postJson<{ header: { raft_term: string } }>(
          `http://${m.client}/v3/maintenance/status`,
          {},
          5_000,
        ).catch(() => undefined),
      ),
    )
    return maxTerm(statuses.map((s) => Number(s?.header.raft_term ?? 0)))
  }

  async load(phase: Phase): Promise<Measured> {
    const term = await this.#term()
    const r = await this.#client.request<LoadResult>({ type: 'load', ...phase }, loadTimeout(phase))
    const cpu = r.otherCpuUs
    return {
      ...r,
      leaderCpuUsPerOp: cpu === undefined || r.completed === 0 ? Number.NaN : cpu / r.completed,
      termsGained: (await this.#term()) - term,
    }
  }

  async close(): Promise<void> {
    await this.#client.stop(2000)
    await Promise.all(this.#members.map((m) => m.keeper.stop(8000)))
  }
}
