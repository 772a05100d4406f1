import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Supervisor, startSupervisor } from '../src/cluster/supervisor.ts'
import { driveRepl, type ReplDriver } from './repl-driver.ts'

/** One row of the `nodes` table by node id: its columns. */
function row(printed: string, id: string): string[] | undefined {
  return printed
    .split('\n')
    .find((line) => line.startsWith(`${id} `))
    ?.split(/\s+/)
}

function leaderOf(printed: string): string | undefined {
  const leader = /^leader: (\S+)/m.exec(printed)?.[1]
  return leader === 'none' ? undefined : leader
}

describe('REPL on a real 3-node cluster', () => {
  let dataDir: string
  let supervisor: Supervisor | undefined
  let repl: ReplDriver | undefined
  /** Stops a command still running when a test failed, so the cluster is closed at once. */
  const stopRepl = new AbortController()

  /** Sends `line` until `done` holds for what it printed (bounded). */
  async function sendUntil(line: string, done: (printed: string) => boolean, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs
    let printed = ''
    while (Date.now() < deadline) {
      printed = await repl!.send(line)
      if (done(printed)) return printed
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    throw new Error(`${line} never showed what was expected:\n${printed}`)
  }

  const nodesUntil = (done: (printed: string) => boolean) => sendUntil('nodes', done)

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rony-repl-'))
    supervisor = await startSupervisor({ nodes: 3, basePort: 0, dataDir })
    await supervisor.ready({ timeout: 20_000 })
    repl = await driveRepl(supervisor, stopRepl.signal)
  }, 60_000)

  afterAll(async () => {
    if (process.env.REPL_TRANSCRIPT) console.log(repl?.transcript)
    stopRepl.abort()
    try {
      await repl?.finished
    } finally {
      await supervisor?.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  let leader: string
  /** The leader elected after `leader` was killed. */
  let survivor: string
  it('shows three running nodes and a leader', async () => {
    const printed = await nodesUntil((text) => leaderOf(text) !== undefined)
    for (const id of ['n1', 'n2', 'n3']) expect(row(printed, id)?.[1]).toBe('running')
    leader = leaderOf(printed)!
    expect(row(printed, leader)?.[3]).toBe('leader')
  })

  it('writes through one node and reads it back through another', async () => {
    expect(await repl!.send('put colour deep blue via n1')).toMatch(
      /^ok colour \(new key\), index \d+, by n1/,
    )
    expect(await repl!.send('get colour via n2')).toMatch(
      /^colour = "deep blue" \(written .*\), applied \d+, linearizable read by n2/,
    )
    expect(await repl!.send('echo hello via n3')).toMatch(/^"hello" from n3 in [\d.]+ ms/)
    expect(await repl!.send('list via n3')).toContain('colour  "deep blue"')
    expect(await repl!.send('del colour via n2')).toMatch(/^deleted colour, index \d+, by n2/)
    // A local read shows what n1 has applied: a follower may apply the delete a moment after
    // the leader answered it.
    await sendUntil('get colour --local via n1', (printed) =>
      /^colour = \(not found\)/.test(printed),
    )
    await repl!.send('put colour red')
  })

  it('shows a new leader after the leader is killed, and the old one back after restart', async () => {
    expect(await repl!.send(`kill ${leader}`)).toMatch(new RegExp(`^${leader}: killed`))
    const after = await nodesUntil((text) => {
      const next = leaderOf(text)
      return next !== undefined && next !== leader && row(text, next)?.[3] === 'leader'
    })
    expect(row(after, leader)?.[1]).toBe('killed')
    survivor = leaderOf(after)!
    expect(await repl!.send(`get colour via ${survivor}`)).toContain('"red"')
    expect(await repl!.send(`get colour via ${leader}`)).toContain(`node ${leader} is killed`)

    expect(await repl!.send(`restart ${leader}`)).toMatch(
      new RegExp(`^${leader}: (starting|running)`),
    )
    // Back as a follower in the new term: it has heard from the new leader.
    await nodesUntil((text) => {
      const back = row(text, leader)
      return (
        back?.[1] === 'running' && back[3] === 'follower' && back[4] === row(text, survivor)?.[4]
      )
    })
    // A read through the restarted node sees the write made while it was down.
    expect(await repl!.send(`get colour via ${leader}`)).toContain('"red"')
  }, 60_000)

  it('benches 200 replicated puts', async () => {
    const printed = await repl!.send('bench 200 --concurrency 8', 30_000)
    expect(printed).toContain('bench: 200 puts via')
    expect(printed).toMatch(
      /bench: 200 puts in [\d.]+ s: \d+ ops\/s, p50 [\d.]+ ms, p99 [\d.]+ ms\n/,
    )
    // The survivor saw the old leader killed and itself elected.
    const events = await repl!.send(`events 200 via ${survivor}`)
    expect(events).toMatch(new RegExp(`killed +${leader}`))
    expect(events).toMatch(new RegExp(`leader +${survivor}`))
  }, 35_000)

  it('answers bad commands clearly', async () => {
    expect(await repl!.send('launch n1')).toContain("unknown command 'launch'")
    expect(await repl!.send('kill n9')).toContain("unknown node 'n9' (nodes: n1, n2, n3)")
    expect(await repl!.send('get')).toContain('get: missing arguments')
  })
})
