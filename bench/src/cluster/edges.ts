/**
 * The cluster suite's three clustered edges (`edge-server.ts`), each its own Node process on
 * 127.0.0.1 with its own data directory, formed by gossip with `bootstrapExpect`.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, type NodeChild, sleep, spawnNode } from '../raft/proc.ts'
import type { EdgeServerConfig } from './edge-server.ts'

const SERVER = new URL('./edge-server.ts', import.meta.url).pathname

interface EdgeState {
  role: string | undefined
  leaderId: string | undefined
  term: number
  commitIndex: number
  voters: number
}

export interface EdgeProcess {
  readonly id: string
  readonly url: string
  readonly child: NodeChild
  /** User + system CPU time of the process so far, µs. */
  cpuUs(): Promise<number>
}

export class EdgeCluster {
  readonly edges: EdgeProcess[]

  private constructor(edges: EdgeProcess[]) {
    this.edges = edges
  }

  /**
   * Starts `size` edges and waits until they formed one group with a leader. A port taken by
   * another process between the probe and the listen fails a start: up to 3 tries, each with
   * fresh ports and data directories.
   */
  static async start(dir: string, size = 3): Promise<EdgeCluster> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await EdgeCluster.#start(join(dir, `try-${attempt}`), size)
      } catch (error) {
        if (attempt === 3) throw error
        process.stderr.write(
          `  cluster: edges did not start (${(error as Error).message}); again\n`,
        )
      }
    }
  }

  static async #start(dir: string, size: number): Promise<EdgeCluster> {
    const ports = await distinctFreePorts(3 * size)
    const configs: EdgeServerConfig[] = []
    for (let i = 0; i < size; i++) {
      const id = `e${i + 1}`
      const dataDir = join(dir, id)
      mkdirSync(dataDir, { recursive: true })
      configs.push({
        id,
        gossipPort: ports[3 * i] as number,
        raftPort: ports[3 * i + 1] as number,
        tunnelPort: ports[3 * i + 2] as number,
        seeds: [],
        dataDir,
        bootstrapExpect: size,
      })
    }
    for (const config of configs) {
      config.seeds = configs.filter((c) => c !== config).map((c) => `127.0.0.1:${c.gossipPort}`)
    }
    const edges: EdgeProcess[] = []
    const spawned = await Promise.allSettled(
      configs.map((config) =>
        spawnNode(`edge ${config.id}`, SERVER, [JSON.stringify(config)], {
          profile: true,
          readyMs: 30_000,
        }),
      ),
    )
    const children = spawned.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
    try {
      const failed = spawned.find((s) => s.status === 'rejected')
      if (failed) throw failed.reason
      for (const [i, child] of children.entries()) {
        const id = configs[i]?.id as string
        edges.push({
          id,
          url: `ws://127.0.0.1:${child.hello.port}/`,
          child,
          cpuUs: async () =>
            (await child.request<{ cpuUs: number }>({ type: 'stats' }, 5_000)).cpuUs,
        })
      }
      const cluster = new EdgeCluster(edges)
      const deadline = Date.now() + 30_000
      for (;;) {
        const states = await cluster.states()
        const leader = states.find((s) => s.role === 'leader')
        if (
          leader !== undefined &&
          leader.commitIndex > 0 &&
          states.every((s) => s.voters === size && s.leaderId === leader.leaderId)
        ) {
          return cluster
        }
        if (Date.now() > deadline) {
          throw new Error(`edges: no group of ${size} with a leader within 30 s`)
        }
        await sleep(100)
      }
    } catch (error) {
      await Promise.all(children.map((child) => child.stop(2000)))
      throw error
    }
  }

  states(): Promise<EdgeState[]> {
    return Promise.all(this.edges.map((e) => e.child.request<EdgeState>({ type: 'state' }, 5_000)))
  }

  /** The leader and a follower now (waiting ≤ 10 s for a leader), and the term. */
  async roles(): Promise<{ leader: EdgeProcess; follower: EdgeProcess; term: number }> {
    const deadline = Date.now() + 10_000
    for (;;) {
      const states = await this.states()
      const at = states.findIndex((s) => s.role === 'leader')
      const leader = this.edges[at]
      const follower = this.edges.find((_, i) => i !== at && states[i]?.role === 'follower')
      if (leader !== undefined && follower !== undefined) {
        return { leader, follower, term: Math.max(...states.map((s) => s.term)) }
      }
      if (Date.now() > deadline) throw new Error('edges: no leader for 10 s')
      await sleep(50)
    }
  }

  /** User + system CPU time of every edge process so far, µs. */
  async cpuUs(): Promise<number> {
    const each = await Promise.all(this.edges.map((e) => e.cpuUs()))
    return each.reduce((a, b) => a + b, 0)
  }

  close(): Promise<void> {
    return Promise.all(this.edges.map((e) => e.child.stop())).then(() => {})
  }
}

/** `count` free TCP ports on 127.0.0.1, no two the same. */
export async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>()
  for (let tries = 0; ports.size < count && tries < count * 10; tries++) ports.add(await freePort())
  if (ports.size < count) throw new Error(`no ${count} distinct free ports`)
  return [...ports]
}
