/**
 * The clustered edge as real processes on 127.0.0.1: three edges (ws gateway, gossip over
 * UDP, Raft over TCP with data directories, a tunnel over TCP; `fixtures/edge-node.ts`)
 * serve the replicated key-value service to `@rony/client` users on every edge while the
 * leader is SIGKILLed and restarted on its data directory (it catches up by a snapshot) and
 * another edge is SIGSTOPped and resumed; then a fourth edge joins by gossip. The clients'
 * history is linearizable and no acknowledged write is lost.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { type Client, createClient } from '@rony/client'
import {
  check,
  HistoryRecorder,
  type KvInput,
  type KvOutput,
  kv,
  kvModel,
} from '@rony/testing/linearizability'
import { afterAll, describe, expect, it } from 'vitest'
import type { EdgeNodeConfig, EdgeNodeState } from './fixtures/edge-node.js'
import { Get, Put, Value, type ValueMsg } from './replica-set.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/edge-node.ts', import.meta.url))
// The README examples' resolve hooks: `@rony/*` to the workspace's sources, no build needed.
const SOURCE_HOOKS = fileURLToPath(
  new URL('../../../scripts/readme-examples/source-hooks.ts', import.meta.url),
)
const NODE_FLAGS = [
  '--experimental-transform-types',
  '--disable-warning=ExperimentalWarning',
  '--import',
  SOURCE_HOOKS,
]
const SNAPSHOT_THRESHOLD = 64
const SHARED_KEYS = Array.from({ length: 8 }, (_, i) => `k${i}`)

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

/** Polls `probe` every 50 ms until it returns a value, for at most `ms`. */
async function until<T>(
  what: string | (() => string),
  ms: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = performance.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (performance.now() > deadline)
      throw new Error(`${typeof what === 'string' ? what : what()}: not within ${ms} ms`)
    await sleep(50)
  }
}

/**
 * One edge process, started with `process.execPath` (the node binary itself, never a wrapper
 * script, so SIGKILL and SIGSTOP reach the edge).
 */
class EdgeProcess {
  child: ChildProcess | undefined
  #req = 0

  constructor(readonly config: EdgeNodeConfig) {}

  get id(): string {
    return this.config.id
  }

  get url(): string {
    return `ws://127.0.0.1:${this.config.wsPort}/`
  }

  get gossip(): string {
    return `127.0.0.1:${this.config.gossipPort}`
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [...NODE_FLAGS, FIXTURE, JSON.stringify(this.config)], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    })
    this.child = child
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.id} not ready in 30 s`)), 30_000)
      let out = ''
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('"ready":true')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`${this.id} exited (${code ?? signal})`))
      })
    })
  }

  signal(signal: NodeJS.Signals): void {
    const child = this.child
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, signal)
    }
  }

  kill(): void {
    this.signal('SIGCONT')
    this.signal('SIGKILL')
    this.child = undefined
  }

  /** Its state over IPC, or undefined when it is down or does not answer in time. */
  state(timeoutMs = 1_000): Promise<EdgeNodeState | undefined> {
    const child = this.child
    if (child === undefined || !child.connected) return Promise.resolve(undefined)
    const req = ++this.#req
    return new Promise((resolve) => {
      const done = (value: EdgeNodeState | undefined) => {
        clearTimeout(timer)
        child.off('message', onMessage)
        resolve(value)
      }
      const timer = setTimeout(() => done(undefined), timeoutMs)
      const onMessage = (m: EdgeNodeState & { req?: number }) => {
        if (m.req === req) done(m)
      }
      child.on('message', onMessage)
      child.send({ type: 'state', req })
    })
  }
}

const dir = mkdtempSync(join(tmpdir(), 'rony-edge-proc-'))
const edges: EdgeProcess[] = []
const clients: Client[] = []
afterAll(async () => {
  for (const edge of edges) edge.kill()
  await Promise.all(clients.map((c) => c.close().catch(() => {})))
  rmSync(dir, { recursive: true, force: true })
})

/** Ports handed out so far: no two edges (or two roles of one) get the same. */
const taken = new Set<number>()

async function distinctPort(): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const port = await freePort()
    if (!taken.has(port)) {
      taken.add(port)
      return port
    }
  }
  throw new Error('no distinct free port in 20 tries')
}

async function newEdge(id: string, seeds: string[]): Promise<EdgeProcess> {
  const wsPort = await distinctPort()
  const gossipPort = await distinctPort()
  const raftPort = await distinctPort()
  const tunnelPort = await distinctPort()
  const edge = new EdgeProcess({
    id,
    wsPort,
    gossipPort,
    raftPort,
    tunnelPort,
    seeds,
    dataDir: join(dir, id),
    bootstrapExpect: 3,
    snapshotThreshold: SNAPSHOT_THRESHOLD,
  })
  edges.push(edge)
  return edge
}

/** The edge that leads with every running edge following it, and its state. */
async function stableLeader(members: EdgeProcess[], ms = 15_000) {
  let seen = ''
  return until(
    () => `a leader followed by every running edge (last seen: ${seen})`,
    ms,
    async () => {
      const states = await Promise.all(members.map((e) => e.state()))
      seen = members
        .map(
          (e, i) =>
            `${e.id} ${states[i]?.role ?? 'down'} of term ${states[i]?.term}, leader ${states[i]?.leaderId}`,
        )
        .join('; ')
      const leaderAt = states.findIndex((s) => s?.role === 'leader')
      const leader = members[leaderAt]
      const state = states[leaderAt]
      if (leader === undefined || state === undefined) return undefined
      const following = states.every((s) => s === undefined || s.leaderId === leader.id)
      return following ? { leader, state } : undefined
    },
  )
}

function client(edge: EdgeProcess): Client {
  const c = createClient(edge.url, {
    reconnect: { initialDelay: 50, maxDelay: 300 },
    keepalive: false,
    timeout: 3_000,
    connectTimeout: 1_000,
  })
  c.on('error', () => {})
  clients.push(c)
  return c
}

/** A linearizable `Get`: the value, or null for a missing key. */
async function read(c: Client, key: string): Promise<string | null> {
  const answer = (await c.request(Get.create({ key }), Value)) as unknown as ValueMsg
  return answer.found ? answer.value : null
}

describe('three edge processes on 127.0.0.1', () => {
  it('stay linearizable and lose no acknowledged write through SIGKILL, restart, SIGSTOP and a join', {
    timeout: 90_000,
  }, async () => {
    const n1 = await newEdge('n1', [])
    const n2 = await newEdge('n2', [n1.gossip])
    const n3 = await newEdge('n3', [n1.gossip, n2.gossip])
    n1.config.seeds = [n2.gossip, n3.gossip]
    const set = [n1, n2, n3]
    await Promise.all(set.map((e) => e.start()))
    await until('three voters on every edge', 20_000, async () => {
      const states = await Promise.all(set.map((e) => e.state()))
      return states.every((s) => s?.voters.length === 3 && s.leaderId !== undefined)
        ? true
        : undefined
    })

    // Users on every edge: shared keys read and written by all (checked for
    // linearizability), and keys written once each (checked against every replica).
    const history = new HistoryRecorder<KvInput, KvOutput>(() => performance.now())
    const acknowledged = new Map<string, string>()
    let stop = false
    let acks = 0
    const user = async (c: Client, who: number): Promise<void> => {
      for (let seq = 0; !stop && seq < 20_000; seq++) {
        const dice = (who * 7919 + seq * 104_729) % 4
        const shared = SHARED_KEYS[(who + seq) % SHARED_KEYS.length] as string
        const value = `${who}-${seq}`
        const input = dice === 0 ? kv.get(shared) : kv.put(dice === 1 ? `u${value}` : shared, value)
        const op = history.invoke(who, input)
        try {
          if (input.op === 'get') {
            history.complete(op, await read(c, input.key))
          } else {
            await c.request(Put.create({ key: input.key, value }), Value, { idempotent: true })
            history.complete(op, true)
            acks++
            if (input.key.startsWith('u')) acknowledged.set(input.key, value)
          }
        } catch {
          history.unknown(op) // a timeout or a lost connection: it may have taken effect
          await sleep(30)
        }
      }
    }
    const users = set.flatMap((edge, e) => [0, 1, 2].map((k) => user(client(edge), e * 3 + k + 1)))
    const waitForAcks = (more: number, what: string) => {
      const target = acks + more
      return until(what, 10_000, async () => (acks >= target ? true : undefined))
    }

    try {
      await waitForAcks(100, 'writes before the crash')
      // SIGKILL the leader; the others elect a new one and go on past several snapshots.
      const { leader: killed } = await stableLeader(set)
      killed.kill()
      const alive = set.filter((e) => e !== killed)
      const { state: before } = await stableLeader(alive)
      await until('the log compacted past the killed edge', 15_000, async () => {
        const { state } = await stableLeader(alive)
        return state.commitIndex > before.commitIndex + 3 * SNAPSHOT_THRESHOLD ? true : undefined
      })

      // It restarts on its data directory and catches up by a snapshot from the leader.
      await killed.start()
      const caughtUp = await until('the restarted edge caught up', 15_000, async () => {
        const [mine, theirs] = await Promise.all([killed.state(), stableLeader(alive)])
        return mine !== undefined && mine.appliedIndex >= theirs.state.commitIndex
          ? mine
          : undefined
      })
      expect(caughtUp.restoresAfterStart).toBeGreaterThanOrEqual(1)

      // SIGSTOP the leader now, resume it after 2 s: it must step down, not serve stale data.
      await waitForAcks(50, 'writes after the restart')
      const { leader: paused } = await stableLeader(set)
      paused.signal('SIGSTOP')
      await sleep(2_000)
      await waitForAcks(50, 'writes while one edge is stopped')
      paused.signal('SIGCONT')
      await waitForAcks(50, 'writes after the resume')
    } finally {
      stop = true
      await Promise.all(users)
    }

    // Every replica converges on every acknowledged write.
    const states = await until('the replicas converged', 15_000, async () => {
      const all = await Promise.all(set.map((e) => e.state()))
      const applied = new Set(all.map((s) => s?.appliedIndex))
      return applied.size === 1 && !applied.has(undefined) ? (all as EdgeNodeState[]) : undefined
    })
    expect(acknowledged.size).toBeGreaterThan(50)
    for (const state of states) {
      const data = new Map(state.data)
      const lost = [...acknowledged].filter(([key, value]) => data.get(key) !== value)
      expect(lost).toEqual([])
    }

    // A fourth edge joins by gossip and serves linearizable reads of what came before it.
    const n4 = await newEdge('n4', [n1.gossip])
    await n4.start()
    await until('n4 in the group', 20_000, async () => {
      const s = await n4.state()
      return s?.voters.includes('n4') && s.leaderId !== undefined ? true : undefined
    })
    const reader = client(n4)
    const readerId = 100
    for (const key of [...SHARED_KEYS, ...[...acknowledged.keys()].slice(0, 50)]) {
      const op = history.invoke(readerId, kv.get(key))
      const value = await read(reader, key)
      history.complete(op, value)
      if (acknowledged.has(key)) expect(value).toBe(acknowledged.get(key))
    }

    const result = check(history.history(), kvModel)
    expect(result.result, result.message).toBe('ok')
  })
})
