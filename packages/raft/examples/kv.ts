/**
 * A replicated key-value store: three Raft servers over TCP on 127.0.0.1, each with its own
 * durable WAL in a temporary directory.
 *
 *   pnpm raft:example          (from the repository root; builds, then runs this file)
 *
 * It writes a few keys through the leader, reads one linearizably on a follower, stops the
 * leader, writes again through the new leader, then restarts the old one, which catches
 * up from its WAL and the new leader. Bounded: every call has a timeout.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RaftNode, raft } from '@rony/raft'

const text = new TextEncoder()
const untext = new TextDecoder()

/** The state machine: commands are JSON `[key, value]`; apply returns the previous value. */
function kvMachine() {
  const data = new Map<string, string>()
  return {
    data,
    apply(command: Uint8Array) {
      const [key, value] = JSON.parse(untext.decode(command)) as [string, string]
      const previous = data.get(key)
      data.set(key, value)
      return previous
    },
    snapshot: () => text.encode(JSON.stringify([...data])),
    restore(bytes: Uint8Array) {
      data.clear()
      for (const [k, v] of JSON.parse(untext.decode(bytes)) as [string, string][]) data.set(k, v)
    },
  }
}

/** A free TCP port on 127.0.0.1 (the servers must know each other's address up front). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })

const dir = mkdtempSync(join(tmpdir(), 'rony-raft-kv-'))
const servers = await Promise.all(
  ['n1', 'n2', 'n3'].map(async (id) => ({ id, address: `127.0.0.1:${await freePort()}` })),
)
const start = async (id: string) => {
  const machine = kvMachine()
  const node = raft({
    id,
    bind: servers.find((s) => s.id === id)!.address,
    peers: servers.filter((s) => s.id !== id),
    bootstrap: true,
    dataDir: join(dir, id),
    stateMachine: machine,
  })
  node.on('raft:leader', (leader, term) =>
    console.log(`${id}: leader is ${leader ?? '(none)'} in term ${term}`),
  )
  await node.start()
  return { id, node, machine }
}
const leaderOf = async (nodes: Awaited<ReturnType<typeof start>>[]) => {
  for (let i = 0; i < 100; i++) {
    const leader = nodes.find((n) => n.node.role === 'leader')
    if (leader) return leader
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('no leader elected in 5 s')
}
const put = (n: { node: RaftNode }, key: string, value: string) =>
  n.node.propose(text.encode(JSON.stringify([key, value])))

try {
  let nodes = await Promise.all(servers.map((s) => start(s.id)))
  let leader = await leaderOf(nodes)
  for (const [k, v] of [
    ['greeting', 'hello'],
    ['lang', 'ts'],
    ['greeting', 'hi'],
  ]) {
    const { index, result } = await put(leader, k!, v!)
    console.log(`put ${k}=${v} at index ${index} (was ${result ?? 'unset'})`)
  }
  const follower = nodes.find((n) => n !== leader)!
  await follower.node.readIndex()
  console.log(
    `${follower.id} reads greeting=${follower.machine.data.get('greeting')} (linearizable)`,
  )

  console.log(`stopping the leader ${leader.id}`)
  await leader.node.stop()
  const stopped = leader.id
  nodes = nodes.filter((n) => n.id !== stopped)
  leader = await leaderOf(nodes)
  await put(leader, 'lang', 'typescript')
  console.log(`${leader.id} committed lang=typescript without ${stopped}`)

  const back = await start(stopped)
  nodes.push(back)
  // A follower reads through the leader; readIndex waits until it knows one.
  await back.node.readIndex()
  console.log(`${stopped} restarted and reads lang=${back.machine.data.get('lang')}`)
  await Promise.all(nodes.map((n) => n.node.stop()))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
