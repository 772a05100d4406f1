import { EventEmitter } from 'node:events'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import type {
  NodeInfo,
  ProcessState,
  Supervisor,
  SupervisorEvents,
} from '../src/cluster/supervisor.ts'
import { complete } from '../src/repl.ts'
import { driveRepl } from './repl-driver.ts'

/** A port nothing listens on: requests to it fail at once. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A supervisor without processes: it records the actions asked of it. */
function fakeSupervisor(port: number, states: ProcessState[]) {
  const nodes: NodeInfo[] = states.map((process, i) => ({
    id: `n${i + 1}`,
    process,
    ws: `ws://127.0.0.1:${port}/rpc`,
    http: `http://127.0.0.1:${port}/`,
    pid: undefined,
  }))
  const calls: string[] = []
  const act = (name: string, id: string, process: ProcessState, ...extra: unknown[]) => {
    calls.push([name, id, ...extra].join(' '))
    const index = nodes.findIndex((node) => node.id === id)
    nodes[index] = { ...nodes[index]!, process }
    // An action takes a while, as a real one does.
    return new Promise<NodeInfo>((resolve) => setTimeout(() => resolve(nodes[index]!), 20))
  }
  const supervisor = Object.assign(new EventEmitter<SupervisorEvents>(), {
    url: `http://127.0.0.1:${port}/`,
    nodes: () => [...nodes],
    ready: () => Promise.resolve(),
    kill: (id: string) => act('kill', id, 'killed'),
    pause: (id: string, seconds?: number) => act('pause', id, 'paused', seconds),
    restart: (id: string) => act('restart', id, 'running'),
    isolate: (id: string, on: boolean) => act('isolate', id, on ? 'isolated' : 'running', on),
    stop: (id: string) => act('stop', id, 'stopped'),
    add: () => {
      throw new Error('add is not supported here')
    },
    close: () => Promise.resolve(),
  }) satisfies Supervisor
  return { supervisor, calls }
}

describe('REPL input', () => {
  it('answers bad input with a clear message and carries on', async () => {
    const { supervisor, calls } = fakeSupervisor(await closedPort(), ['running', 'killed'])
    const repl = await driveRepl(supervisor)
    expect(await repl.send('frobnicate')).toContain("unknown command 'frobnicate' (try 'help')")
    expect(await repl.send('put onlykey')).toContain(
      'put: missing arguments; usage: put <key> <value>',
    )
    expect(await repl.send('get k via')).toContain("get: 'via' needs a node id")
    expect(await repl.send('get k via n9')).toContain("unknown node 'n9' (nodes: n1, n2)")
    expect(await repl.send('get k via n2')).toContain('node n2 is killed: it cannot answer')
    expect(await repl.send('get k --fast')).toContain('get: unknown option --fast')
    expect(await repl.send('kill')).toContain('kill: missing arguments; usage: kill <node>')
    expect(await repl.send('kill n7')).toContain("unknown node 'n7'")
    expect(await repl.send('pause n1 99')).toContain(
      'pause: seconds must be a whole number from 1 to 30',
    )
    expect(await repl.send('bench 0')).toContain(
      'bench: count must be a whole number from 1 to 100000',
    )
    expect(await repl.send('bench 10 --concurrency x')).toContain(
      '--concurrency must be a whole number',
    )
    expect(await repl.send('put "unclosed')).toContain('unclosed " quote')
    expect(await repl.send('add')).toContain('error: add is not supported here')
    // The node's port is closed: the request fails, the REPL does not.
    expect(await repl.send('get k')).toMatch(/error: .*(connect|RONY_ERR)/)
    expect(await repl.send('nodes')).toContain('no cluster view:')
    expect(calls).toEqual([])
    await repl.close()
  })

  it('hands node actions to the supervisor', async () => {
    const { supervisor, calls } = fakeSupervisor(await closedPort(), ['running', 'running'])
    const repl = await driveRepl(supervisor)
    expect(await repl.send('kill n2')).toMatch(/^n2: killed/)
    expect(await repl.send('restart n2')).toMatch(/^n2: running/)
    expect(await repl.send('pause n1 3')).toMatch(/^n1: paused/)
    await repl.send('isolate n2')
    await repl.send('heal n2')
    await repl.send('stop n1')
    await repl.send('stop n2')
    expect(await repl.send('get k')).toContain(
      'error: no node is running (restart one, or add one)',
    )
    expect(calls).toEqual([
      'kill n2',
      'restart n2',
      'pause n1 3',
      'isolate n2 true',
      'isolate n2 false',
      'stop n1',
      'stop n2',
    ])
    await repl.quit()
  })

  it('lists every command in help, and a quoted word is a plain word', async () => {
    const { supervisor } = fakeSupervisor(await closedPort(), ['killed'])
    const repl = await driveRepl(supervisor)
    const help = await repl.send('help')
    for (const command of ['nodes', 'add', 'stop', 'kill', 'pause', 'restart', 'isolate', 'heal']) {
      expect(help).toContain(`${command} `)
    }
    for (const command of ['put', 'get', 'del', 'list', 'echo', 'bench', 'events', 'quit']) {
      expect(help).toContain(command)
    }
    // `via` in quotes is the value, so the command gets as far as picking a node.
    expect(await repl.send('put k "via" n1')).toContain('no node is running')
    await repl.close()
  })

  it('runs every line of a piped input that ends while a command runs', async () => {
    const { supervisor, calls } = fakeSupervisor(await closedPort(), ['running', 'running'])
    const repl = await driveRepl(supervisor)
    await repl.pipe(['kill n1', 'kill n2', 'frobnicate'])
    expect(calls).toEqual(['kill n1', 'kill n2'])
    expect(repl.transcript).toMatch(/n1: killed.*n2: killed.*unknown command 'frobnicate'/s)
  })

  it('completes commands, node ids, via and options', () => {
    const { supervisor } = fakeSupervisor(1, ['running', 'running'])
    expect(complete(supervisor, 'is')).toEqual([['isolate'], 'is'])
    expect(complete(supervisor, 'kill n')).toEqual([['n1', 'n2'], 'n'])
    expect(complete(supervisor, 'get k v')).toEqual([['via'], 'v'])
    expect(complete(supervisor, 'bench 10 --c')).toEqual([['--concurrency'], '--c'])
  })

  it('closes when its signal aborts, running no further line', async () => {
    const { supervisor, calls } = fakeSupervisor(1, ['running'])
    const controller = new AbortController()
    const repl = await driveRepl(supervisor, controller.signal)
    // The signal aborts while the first line runs; the second, already read, never runs.
    const kill = supervisor.kill
    supervisor.kill = (id) => {
      controller.abort()
      return kill(id)
    }
    repl.type('kill n1\nkill n1')
    await repl.finished
    expect(calls).toEqual(['kill n1'])
  })
})
