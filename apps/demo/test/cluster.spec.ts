/**
 * The playground cluster for real: the supervisor, three node processes on free ports, and
 * clients that reach them only through @rony/client and the generated services. One cluster
 * for the whole file (the steps build on each other: a kill, a restart, an isolation).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Client, createClient, serviceClient } from '@rony/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Supervisor, startSupervisor } from '../src/cluster/supervisor.ts'
import { Chat, Cluster, Control, demo, Kv } from '../src/gen/playground.js'
import { viewUntil as pollView } from './views.ts'

const CALL = { timeout: 8_000 }

describe('the playground cluster (3 processes)', { timeout: 60_000 }, () => {
  let supervisor: Supervisor
  let dataDir: string
  const clients: Client[] = []

  /** A client of node `id`'s WebSocket gateway, with the four services. */
  function connect(id: string) {
    const node = supervisor.nodes().find((info) => info.id === id)!
    const client = createClient(node.ws)
    clients.push(client)
    return {
      client,
      kv: serviceClient(Kv, client),
      chat: serviceClient(Chat, client),
      cluster: serviceClient(Cluster, client),
      control: serviceClient(Control, client),
    }
  }

  /** Polls `node`'s Cluster.Watch view until `done` holds (or `timeout` ms pass). */
  function viewUntil(
    id: string,
    done: (view: demo.ClusterView) => boolean,
    timeout: number,
  ): Promise<demo.ClusterView> {
    return pollView(connect(id).cluster, id, done, timeout, CALL)
  }

  const status = (view: demo.ClusterView, id: string) => view.Nodes.find((n) => n.ID === id)

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rony-playground-'))
    supervisor = await startSupervisor({ basePort: 0, dataDir })
    await supervisor.ready({ timeout: 20_000 })
  }, 60_000)

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()))
    const pids = supervisor.nodes().flatMap((node) => (node.pid === undefined ? [] : [node.pid]))
    await supervisor.close()
    // Nothing left running: every node process is gone.
    expect(pids.filter(isRunning)).toEqual([])
    rmSync(dataDir, { recursive: true, force: true })
  }, 20_000)

  let leader: string
  let followers: string[]

  it('serves the page and the bundled page script on every node', async () => {
    expect(supervisor.url).toBe(supervisor.nodes()[0]!.http)
    for (const node of supervisor.nodes()) {
      expect(node.process).toBe('running')
      const script = await fetch(new URL('/page.js', node.http))
      expect(script.status).toBe(200)
      expect(script.headers.get('content-type')).toContain('javascript')
    }
  })

  it('writes through a follower (forwarded), reads linearizable and local on another node', async () => {
    const view = await viewUntil('n1', (v) => v.Leader !== '', 5_000)
    leader = view.Leader
    followers = ['n1', 'n2', 'n3'].filter((id) => id !== leader)
    const put = await connect(followers[0]!).kv.put({ Key: 'colour', Value: 'teal' }, CALL)
    expect(put.Served).toMatchObject({ Node: followers[0], Leader: leader, Forwarded: true })
    expect(put.Existed).toBe(false)
    expect(Number(put.Index)).toBeGreaterThan(0)
    const direct = await connect(leader).kv.put({ Key: 'shape', Value: 'round' }, CALL)
    expect(direct.Served).toMatchObject({ Node: leader, Forwarded: false })

    const other = connect(followers[1]!)
    const got = await other.kv.get({ Key: 'colour' }, CALL)
    expect([got.Value, got.Found, got.Served?.Node]).toEqual(['teal', true, followers[1]])
    // A linearizable read saw the write: the local copy has applied it too by now.
    const local = await other.kv.getLocal({ Key: 'colour' }, CALL)
    expect([local.Value, local.Found]).toEqual(['teal', true])
    expect(Number(local.WrittenAt)).toBeGreaterThan(Date.UTC(2020, 0))
    const list = await other.kv.list({}, CALL)
    expect(list.Entries.map((e) => e.Key)).toEqual(['colour', 'shape'])
  })

  it('pushes a chat message posted on one node to a client joined on another', async () => {
    const listener = connect(followers[1]!)
    listener.client.registry.register(demo.ChatMessage)
    const pushed = new Promise<demo.ChatMessage>((resolve) => {
      listener.client.on('update', (update) => {
        if (update.message instanceof demo.ChatMessage) resolve(update.message)
      })
    })
    expect((await listener.chat.join({}, CALL)).Node).toBe(followers[1])
    const posted = await connect(followers[0]!).chat.post({ From: 'ada', Text: 'hello' }, CALL)
    expect(posted.Served?.Forwarded).toBe(true)
    const message = await pushed
    expect([message.From, message.Text, message.Via]).toEqual(['ada', 'hello', followers[0]])
    const history = await listener.chat.history({}, CALL)
    expect(history.Messages.map((m) => m.Text)).toEqual(['hello'])
  })

  it('refuses a Restart of a running node and any control of an unknown one: E01/NODE', async () => {
    const { control } = connect('n1')
    await expect(control.restart({ Node: 'n2' }, CALL)).rejects.toMatchObject({
      items: 'NODE',
      message: expect.stringContaining('n2 is running'),
    })
    await expect(control.kill({ Node: 'n9' }, CALL)).rejects.toMatchObject({ items: 'NODE' })
    expect(supervisor.nodes().every((node) => node.process === 'running')).toBe(true)
  })

  it('Control.Kill of the leader: a new leader within 5 s, the key still there', async () => {
    const asker = connect(followers[0]!)
    // A watcher on the other follower: view pushes and event pushes.
    const watcher = connect(followers[1]!)
    watcher.client.registry.register(demo.ClusterView)
    watcher.client.registry.register(demo.ClusterEvent)
    const pushedEvents: demo.ClusterEvent[] = []
    const newLeaderPushed = new Promise<demo.ClusterView>((resolve) => {
      watcher.client.on('update', ({ message }) => {
        if (message instanceof demo.ClusterEvent) pushedEvents.push(message)
        if (message instanceof demo.ClusterView && message.Leader && message.Leader !== leader) {
          resolve(message)
        }
      })
    })
    expect((await watcher.cluster.watch({ Watch: true }, CALL)).Node).toBe(followers[1])

    const killed = await asker.control.kill({ Node: leader }, CALL)
    expect([killed.Node, killed.Process]).toEqual([leader, 'killed'])
    const pushedView = await newLeaderPushed
    expect(status(pushedView, leader)?.Process).toBe('killed')
    // Both pushes, in whichever order they come: the supervisor sends `killed` once it has
    // reaped the process, the new leader `leader` once elected; under load either is first.
    const pushed = (kind: string) => pushedEvents.find((e) => e.Kind === kind)
    await waitFor(() => pushed('leader') !== undefined && pushed('killed') !== undefined, 5_000)
    expect(pushed('killed')?.Node).toBe(leader)
    const events = await watcher.cluster.events({}, CALL)
    expect(events.Events.map((e) => e.Kind)).toEqual(expect.arrayContaining(['leader', 'killed']))
    const view = await viewUntil(
      followers[0]!,
      (v) => v.Leader !== '' && v.Leader !== leader,
      5_000,
    )
    expect(followers).toContain(view.Leader)
    expect(status(view, leader)?.Process).toBe('killed')
    const got = await connect(followers[1]!).kv.get({ Key: 'colour' }, CALL)
    expect(got.Value).toBe('teal')
    // Writes go on with two of three.
    await asker.kv.put({ Key: 'after-kill', Value: 'yes' }, CALL)
  })

  it('Control.Restart: the old leader is back as a follower and has caught up', async () => {
    const restarted = await connect(followers[0]!).control.restart({ Node: leader }, CALL)
    expect(restarted.Process).toBe('running')
    const view = await viewUntil(
      followers[0]!,
      (v) => status(v, leader)?.Role === 'follower',
      10_000,
    )
    expect(view.Leader).not.toBe(leader)
    const back = connect(leader)
    const deadline = Date.now() + 10_000
    let local = await back.kv.getLocal({ Key: 'after-kill' }, CALL)
    while (!local.Found && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      local = await back.kv.getLocal({ Key: 'after-kill' }, CALL)
    }
    expect([local.Value, (await back.kv.getLocal({ Key: 'colour' }, CALL)).Value]).toEqual([
      'yes',
      'teal',
    ])
  })

  it('Control.Isolate: the others see the node suspect or dead, writes go on, and it catches up once healed', async () => {
    const view = await viewUntil('n1', (v) => v.Leader !== '', 5_000)
    const target = ['n1', 'n2', 'n3'].find((id) => id !== view.Leader)!
    const observer = ['n1', 'n2', 'n3'].find((id) => id !== view.Leader && id !== target)!
    const cut = await connect(observer).control.isolate({ Node: target, On: true }, CALL)
    expect(cut.Process).toBe('isolated')
    await viewUntil(
      observer,
      (v) => ['suspect', 'dead'].includes(status(v, target)?.Gossip ?? ''),
      10_000,
    )
    await connect(observer).kv.put({ Key: 'while-isolated', Value: 'written' }, CALL)
    const isolatedNode = connect(target)
    expect((await isolatedNode.kv.getLocal({ Key: 'while-isolated' }, CALL)).Found).toBe(false)

    const healed = await connect(observer).control.isolate({ Node: target, On: false }, CALL)
    expect(healed.Process).toBe('running')
    const deadline = Date.now() + 15_000
    let local = await isolatedNode.kv.getLocal({ Key: 'while-isolated' }, CALL)
    while (!local.Found && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      local = await isolatedNode.kv.getLocal({ Key: 'while-isolated' }, CALL)
    }
    expect(local.Value).toBe('written')
  })

  it('Control.Pause of the node asked: answered first, paused, then running again', async () => {
    const { control } = connect('n1')
    const paused = await control.pause({ Node: 'n1', Seconds: 1 }, CALL)
    expect(paused.Process).toBe('paused')
    await waitFor(() => supervisor.nodes()[0]!.process === 'paused', 5_000)
    await waitFor(() => supervisor.nodes()[0]!.process === 'running', 5_000)
    // It answers again once continued.
    const ping = await serviceClient(Cluster, connect('n1').client).ping({}, CALL)
    expect(ping.Node).toBe('n1')
  })

  it('stop and restart a follower, add a node: it joins the group', async () => {
    const view = await viewUntil('n1', (v) => v.Leader !== '', 5_000)
    const id = ['n1', 'n2', 'n3'].find((node) => node !== view.Leader)!
    expect((await supervisor.stop(id)).process).toBe('stopped')
    expect((await supervisor.restart(id)).process).toBe('running')
    const added = await supervisor.add()
    expect([added.id, added.process]).toEqual(['n4', 'running'])
    const joined = await viewUntil(
      'n4',
      (v) => status(v, 'n4')?.Role === 'follower' && status(v, id)?.Gossip === 'alive',
      10_000,
    )
    expect(joined.Nodes.map((n) => n.ID)).toEqual(['n1', 'n2', 'n3', 'n4'])
    expect((await connect('n4').kv.get({ Key: 'colour' }, CALL)).Value).toBe('teal')
  })
})

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitFor(done: () => boolean, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeout} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
