/**
 * The playground's supervisor: starts the node processes (`node.ts`, with the current Node),
 * owns them and breaks them on request — kill (SIGKILL), pause (SIGSTOP, then SIGCONT),
 * restart (the same id, data directory and ports), stop (SIGTERM), isolate (the node drops
 * its gossip, Raft and tunnel traffic), add. It keeps the table of nodes (process states,
 * each node's Raft report) and fans it out to every node over IPC, with the events.
 *
 * Nodes exit when their IPC channel closes, so they die with the supervisor; `close()` and
 * the process's exit also kill them outright (a paused node cannot notice anything).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { EventEmitter } from 'node:events'
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { bundleForNode } from '../bundle.ts'
import { bundlePage } from '../page/bundle.ts'
import { demoPath } from '../paths.ts'
import {
  type ClusterEventInfo,
  type ControlAction,
  type NodeConfig,
  type NodeMessage,
  type NodeRow,
  PORT_TAKEN_EXIT,
  type RaftReport,
  type SupervisorMessage,
} from './ipc.ts'

export type ProcessState = 'starting' | 'running' | 'paused' | 'isolated' | 'killed' | 'stopped'

export interface NodeInfo {
  readonly id: string
  readonly process: ProcessState
  /** The node's WebSocket gateway, what `createClient` takes: `ws://127.0.0.1:<port>/ws`. */
  readonly ws: string
  /** The node's HTTP gateway and page: `http://127.0.0.1:<port>/`. */
  readonly http: string
  readonly pid: number | undefined
}

export interface SupervisorOptions {
  /** Nodes to start. Default 3; `bootstrapExpect` is min(nodes, 3), later ones join. */
  nodes?: number
  /** Where each node keeps its Raft data (`<dataDir>/<id>`) and log. Default `apps/demo/.data`. */
  dataDir?: string
  /** Keep what `dataDir` holds instead of wiping it at start. Default false. */
  keepData?: boolean
  /** Default '127.0.0.1'. */
  host?: string
  /**
   * Default 8080: node i (from 1) uses basePort + 10 × (i − 1) for its page, HTTP and
   * WebSocket gateways, and the next three ports for gossip, Raft and the tunnel. 0: free
   * ports, chosen at start (and kept across restarts).
   */
  basePort?: number
  /** Aborting it closes the supervisor. */
  signal?: AbortSignal
}

/**
 * For tests only: how free ports are picked (with `basePort: 0`), so that a test can hand
 * out a port it holds. Default: bind port 0, read the port, close.
 */
export interface SupervisorHooks {
  pickPort?: (host: string, udp: boolean) => Promise<number>
}

/** A node could not bind a port: another process holds it. */
export class PortTakenError extends Error {
  readonly code = 'RONY_ERR_PORT_TAKEN'
  readonly node: string
  /** The port taken; undefined if the node exited before it could say which. */
  readonly port: number | undefined

  constructor(
    node: string,
    host: string,
    port: number | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(
      `${node} cannot bind ${port === undefined ? 'one of its ports' : `${host}:${port}`}: ${message}`,
      options,
    )
    this.name = 'PortTakenError'
    this.node = node
    this.port = port
  }
}

export interface SupervisorEvents {
  node: [info: NodeInfo]
  event: [kind: string, node: string, text: string]
}

export interface Supervisor extends EventEmitter<SupervisorEvents> {
  /** The page URL to print (n1's HTTP gateway, as it is now). */
  readonly url: string
  nodes(): NodeInfo[]
  /** Resolves once every node runs and a leader is elected. Default timeout 30 000 ms. */
  ready(options?: { signal?: AbortSignal; timeout?: number }): Promise<void>
  kill(id: string): Promise<NodeInfo>
  /** SIGSTOP, and SIGCONT after `seconds` (1–30, default 5). */
  pause(id: string, seconds?: number): Promise<NodeInfo>
  /**
   * Starts a killed or stopped node again, with its data and ports (with `basePort: 0`, on
   * fresh ones if another process took one meanwhile).
   */
  restart(id: string): Promise<NodeInfo>
  /** Cuts (`on`) or restores the node's gossip, Raft and tunnel traffic. */
  isolate(id: string, on: boolean): Promise<NodeInfo>
  /** Graceful stop (SIGTERM): the node keeps its vote and its data for a restart. */
  stop(id: string): Promise<NodeInfo>
  /** Starts one more node, n<N+1>; the leader adds it to the group. */
  add(): Promise<NodeInfo>
  /** Stops every node; nothing is left running once it resolves. */
  close(): Promise<void>
}

/** Port offsets within a node's block of ten. */
const GOSSIP = 1
const RAFT = 2
const TUNNEL = 3
/** How long a graceful stop may take before the node is killed, in ms. */
const STOP_GRACE_MS = 3_000
/** Table fan-outs to the nodes: at most one per this many ms. */
const FANOUT_MS = 100
/** What a run writes into the data directory: node directories and logs, the page script. */
const PREVIOUS_RUN = /^(n\d+(\.log)?|page\.js)$/
/** Events kept to replay to a node that (re)starts, so its watchers see the history. */
const EVENTS_KEPT = 200
/** How long the supervisor waits for a started node to say it is ready, in ms. */
const START_TIMEOUT_MS = 20_000
/**
 * Launches of a node whose picked port another process took in between (`basePort: 0`),
 * each on freshly picked ports, before the supervisor gives up.
 */
const PORT_ATTEMPTS = 5

interface Ports {
  readonly http: number
  readonly gossip: number
  readonly raft: number
  readonly tunnel: number
}

interface Settings {
  readonly host: string
  readonly dataDir: string
  readonly basePort: number
  readonly bootstrapExpect: number
  /** This cluster's gossip key, base64 (see NodeConfig). */
  readonly gossipKey: string
  readonly publicDir: string
  readonly pageScript: string
  /** node.ts, bundled with the workspace packages' sources. */
  readonly nodeScript: string
}

class NodeProcess {
  child: ChildProcess | undefined
  state: ProcessState = 'starting'
  isolated = false
  raft: RaftReport | undefined
  private pauseTimer: NodeJS.Timeout | undefined
  private waker: ChildProcess | undefined
  /** Replaced when the node moves to other ports (one of its own was taken). */
  config: NodeConfig

  constructor(config: NodeConfig) {
    this.config = config
  }

  get info(): NodeInfo {
    const origin = `${this.config.host}:${this.config.httpPort}`
    return {
      id: this.config.id,
      process: this.state,
      ws: `ws://${origin}/ws`,
      http: `http://${origin}/`,
      pid: this.child?.pid,
    }
  }

  get alive(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    )
  }

  get paused(): boolean {
    return this.pauseTimer !== undefined
  }

  /**
   * SIGSTOP now, SIGCONT and `resumed()` after `seconds`. A detached waker process sends
   * the SIGCONT too: should the supervisor die meanwhile, the node still wakes, sees its
   * IPC channel closed and exits, instead of staying stopped forever.
   */
  pause(seconds: number, resumed: () => void): void {
    const pid = this.child!.pid!
    this.child!.kill('SIGSTOP')
    this.waker = spawn(
      process.execPath,
      [
        '-e',
        `setTimeout(() => { try { process.kill(${pid}, 'SIGCONT') } catch {} }, ${seconds * 1_000})`,
      ],
      { detached: true, stdio: 'ignore' },
    )
    this.waker.unref()
    this.pauseTimer = setTimeout(() => {
      this.endPause()
      if (!this.alive) return
      this.child!.kill('SIGCONT')
      resumed()
    }, seconds * 1_000)
    this.pauseTimer.unref()
  }

  /** Forgets a pause (the node resumed, exited or is being stopped); the waker goes. */
  endPause(): void {
    clearTimeout(this.pauseTimer)
    this.pauseTimer = undefined
    this.waker?.kill()
    this.waker = undefined
  }

  tell(message: SupervisorMessage): void {
    if (this.child?.connected) this.child.send(message, () => {})
  }
}

class SupervisorImpl extends EventEmitter<SupervisorEvents> implements Supervisor {
  private readonly first: NodeProcess
  private readonly procs = new Map<string, NodeProcess>()
  private fanoutTimer: NodeJS.Timeout | undefined
  private closed = false
  private readonly history: ClusterEventInfo[] = []
  private readonly killAll = (): void => {
    for (const proc of this.procs.values()) {
      proc.endPause()
      if (proc.alive) {
        proc.child?.kill('SIGCONT')
        proc.child?.kill('SIGKILL')
      }
    }
  }

  private readonly settings: Settings
  private readonly portsOf: (index: number) => Promise<Ports>

  constructor(settings: Settings, portsOf: (index: number) => Promise<Ports>, first: NodeProcess) {
    super()
    this.settings = settings
    this.portsOf = portsOf
    this.first = first
    process.once('exit', this.killAll)
  }

  get url(): string {
    return this.first.info.http
  }

  nodes(): NodeInfo[] {
    return [...this.procs.values()].map((proc) => proc.info)
  }

  /**
   * Starts `proc` and resolves once it is ready. A port of its taken by another process
   * meanwhile: with picked ports (`basePort: 0`), it starts again on fresh ones, up to
   * PORT_ATTEMPTS times; with ports the user chose, a PortTakenError that says so.
   */
  async launch(proc: NodeProcess): Promise<NodeInfo> {
    this.procs.set(proc.config.id, proc)
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.spawn(proc)
      } catch (error) {
        if (!(error instanceof PortTakenError) || this.closed) throw error
        const failure =
          this.settings.basePort !== 0
            ? 'another process holds it (choose other ports with --port, or --port 0 for free ones)'
            : attempt === PORT_ATTEMPTS
              ? `taken again on each of ${PORT_ATTEMPTS} sets of free ports`
              : undefined
        if (failure !== undefined) {
          throw new PortTakenError(error.node, this.settings.host, error.port, failure, {
            cause: error,
          })
        }
        await this.move(proc, error.port)
      }
    }
  }

  /** Gives `proc` fresh ports, and the others' current gossip addresses as seeds. */
  private async move(proc: NodeProcess, taken: number | undefined): Promise<void> {
    const { id } = proc.config
    // Node ids are n<index>.
    const ports = await this.portsOf(Number(id.slice(1)))
    const seeds = [...this.procs.values()]
      .filter((other) => other !== proc)
      .map((other) => `${other.config.host}:${other.config.gossipPort}`)
    proc.config = nodeConfig(this.settings, id, ports, seeds, proc.config.bootstrapExpect)
    this.event(
      'moved',
      id,
      `${id} moves to port ${ports.http}: ${taken === undefined ? 'a port' : `port ${taken}`} was taken`,
    )
  }

  /** One start of `proc`'s process, on its configured ports. */
  private async spawn(proc: NodeProcess): Promise<NodeInfo> {
    const { id } = proc.config
    mkdirSync(proc.config.dataDir, { recursive: true })
    const log = openSync(join(this.settings.dataDir, `${id}.log`), 'a')
    const child = fork(this.settings.nodeScript, [JSON.stringify(proc.config)], {
      execPath: process.execPath,
      execArgv: ['--disable-warning=ExperimentalWarning'],
      stdio: ['ignore', log, log, 'ipc'],
    })
    closeSync(log)
    proc.child = child
    proc.state = 'starting'
    proc.isolated = false
    proc.raft = undefined
    this.changed(proc)
    const ready = new Promise<void>((resolve, reject) => {
      let taken: number | undefined
      const timer = setTimeout(
        () => reject(new Error(`${id} did not start in ${START_TIMEOUT_MS} ms (see ${id}.log)`)),
        START_TIMEOUT_MS,
      )
      child.on('message', (message: NodeMessage) => {
        if (message.type === 'ready') {
          clearTimeout(timer)
          resolve()
        }
        if (message.type === 'port-taken') taken = message.port
        this.onMessage(proc, message)
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(
          code === PORT_TAKEN_EXIT
            ? new PortTakenError(id, this.settings.host, taken, `see ${id}.log`)
            : new Error(`${id} exited while starting (${signal ?? code}; see ${id}.log)`),
        )
      })
    })
    child.once('exit', (code, signal) => this.onExit(proc, child, code, signal))
    await ready
    return proc.info
  }

  private onMessage(proc: NodeProcess, message: NodeMessage): void {
    switch (message.type) {
      case 'ready':
        for (const event of this.history) proc.tell({ type: 'event', event })
        if (proc.state === 'starting') {
          proc.state = 'running'
          this.changed(proc)
        }
        break
      case 'raft':
        proc.raft = message.report
        this.scheduleFanout()
        break
      case 'event':
        this.publish(message.event)
        break
      case 'control':
        void this.control(proc, message.ref, message.control)
        break
      case 'port-taken':
        // The launch that started it handles it.
        break
    }
  }

  private onExit(
    proc: NodeProcess,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (proc.child !== child) return
    proc.endPause()
    const expected = proc.state === 'killed' || proc.state === 'stopped'
    if (!expected) {
      proc.state = signal === 'SIGKILL' ? 'killed' : 'stopped'
      // A port taken is the launch's to report (it moves the node, or fails).
      if (!this.closed && code !== PORT_TAKEN_EXIT)
        this.event('exited', proc.config.id, `${proc.config.id} exited (${signal ?? code})`)
    }
    proc.raft = undefined
    this.changed(proc)
  }

  /** A Control request from a node: act, then answer it (first, when it hits the asker). */
  private async control(asker: NodeProcess, ref: number, action: ControlAction): Promise<void> {
    const done = (process: string, error?: string): void =>
      asker.tell({
        type: 'control:done',
        ref,
        node: action.node,
        process,
        ...(error === undefined ? {} : { error }),
      })
    const target = this.procs.get(action.node)
    if (target === undefined) return done('', `no node ${action.node}`)
    const act = (): Promise<NodeInfo> => {
      switch (action.action) {
        case 'kill':
          return this.kill(action.node)
        case 'restart':
          return this.restart(action.node)
        case 'pause':
          return this.pause(action.node, action.seconds)
        case 'isolate':
          return this.isolate(action.node, action.on)
      }
    }
    // The asker would not be there (or able) to answer afterwards: answer with the state
    // the action leads to, then act once the answer is on its way.
    if (target === asker && (action.action === 'kill' || action.action === 'pause')) {
      const failure = this.refusal(target, action)
      if (failure !== undefined) return done(target.state, failure)
      done(action.action === 'kill' ? 'killed' : 'paused')
      setTimeout(() => void act().catch(() => {}), 100)
      return
    }
    try {
      done((await act()).process)
    } catch (error) {
      done(target.state, (error as Error).message)
    }
  }

  /** Why `action` cannot be done to `proc` now, if it cannot. */
  private refusal(proc: NodeProcess, action: ControlAction): string | undefined {
    if (action.action === 'restart') {
      return proc.alive ? `${proc.config.id} is ${proc.state}: kill or stop it first` : undefined
    }
    if (!proc.alive) return `${proc.config.id} is ${proc.state}: restart it first`
    if (action.action === 'pause' && proc.paused) {
      return `${proc.config.id} is paused already`
    }
    return undefined
  }

  private get(id: string): NodeProcess {
    const proc = this.procs.get(id)
    if (proc === undefined) throw new Error(`no node ${id}`)
    return proc
  }

  private check(proc: NodeProcess, action: ControlAction): void {
    const failure = this.refusal(proc, action)
    if (failure !== undefined) throw new Error(failure)
  }

  async kill(id: string): Promise<NodeInfo> {
    const proc = this.get(id)
    this.check(proc, { action: 'kill', node: id })
    const exited = exitOf(proc.child!)
    proc.state = 'killed'
    proc.child!.kill('SIGKILL')
    await exited
    this.event('killed', id, `${id} was killed (SIGKILL)`)
    return proc.info
  }

  async pause(id: string, seconds = 5): Promise<NodeInfo> {
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 30) {
      throw new RangeError(`pause: seconds must be an integer in [1, 30], got ${seconds}`)
    }
    const proc = this.get(id)
    this.check(proc, { action: 'pause', node: id, seconds })
    proc.pause(seconds, () => {
      proc.state = proc.isolated ? 'isolated' : 'running'
      this.changed(proc)
      this.event('resumed', id, `${id} resumed (SIGCONT)`)
    })
    proc.state = 'paused'
    this.changed(proc)
    this.event('paused', id, `${id} was paused (SIGSTOP) for ${seconds} s`)
    return proc.info
  }

  async restart(id: string): Promise<NodeInfo> {
    const proc = this.get(id)
    this.check(proc, { action: 'restart', node: id })
    const info = await this.launch(proc)
    this.event('restarted', id, `${id} was restarted with its data`)
    return info
  }

  async isolate(id: string, on: boolean): Promise<NodeInfo> {
    const proc = this.get(id)
    this.check(proc, { action: 'isolate', node: id, on })
    proc.isolated = on
    proc.tell({ type: 'isolate', on })
    if (!proc.paused) proc.state = on ? 'isolated' : 'running'
    this.changed(proc)
    this.event(
      on ? 'isolated' : 'healed',
      id,
      on ? `${id} was isolated: no gossip, Raft or tunnel traffic` : `${id} was reconnected`,
    )
    return proc.info
  }

  async stop(id: string): Promise<NodeInfo> {
    const proc = this.get(id)
    this.check(proc, { action: 'kill', node: id })
    await this.terminate(proc)
    this.event('stopped', id, `${id} was stopped (SIGTERM)`)
    return proc.info
  }

  async add(): Promise<NodeInfo> {
    const index = this.procs.size + 1
    const id = `n${index}`
    const ports = await this.portsOf(index)
    const seeds = [...this.procs.values()].map(
      (proc) => `${proc.config.host}:${proc.config.gossipPort}`,
    )
    const proc = new NodeProcess(
      nodeConfig(this.settings, id, ports, seeds, this.settings.bootstrapExpect),
    )
    const info = await this.launch(proc)
    this.event('added', id, `${id} was added`)
    return info
  }

  ready(options: { signal?: AbortSignal; timeout?: number } = {}): Promise<void> {
    const { signal, timeout = 30_000 } = options
    const done = (): boolean => {
      const procs = [...this.procs.values()]
      return (
        procs.every((proc) => proc.state === 'running') &&
        procs.some((proc) => proc.raft?.role === 'leader')
      )
    }
    return new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        if (!done()) return
        finish()
        resolve()
      }, 50)
      const timer = setTimeout(() => {
        finish()
        reject(new Error(`the cluster was not ready in ${timeout} ms: ${this.describe()}`))
      }, timeout)
      const aborted = (): void => {
        finish()
        reject(signal?.reason)
      }
      const finish = (): void => {
        clearInterval(poll)
        clearTimeout(timer)
        signal?.removeEventListener('abort', aborted)
      }
      signal?.addEventListener('abort', aborted, { once: true })
      if (signal?.aborted) aborted()
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.fanoutTimer)
    await Promise.all(
      [...this.procs.values()].filter((proc) => proc.alive).map((proc) => this.terminate(proc)),
    )
    process.off('exit', this.killAll)
  }

  /** SIGTERM (SIGCONT first, if paused), SIGKILL after STOP_GRACE_MS. */
  private async terminate(proc: NodeProcess): Promise<void> {
    const child = proc.child!
    const exited = exitOf(child)
    proc.endPause()
    proc.state = 'stopped'
    child.kill('SIGTERM')
    child.kill('SIGCONT')
    const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
    await exited
    clearTimeout(grace)
  }

  private describe(): string {
    return [...this.procs.values()]
      .map((proc) => `${proc.config.id} ${proc.state} ${proc.raft?.role ?? '-'}`)
      .join(', ')
  }

  private changed(proc: NodeProcess): void {
    if (!this.closed) this.emit('node', proc.info)
    this.scheduleFanout()
  }

  private event(kind: string, node: string, text: string): void {
    this.publish({ at: Date.now(), kind, node, text })
  }

  /** An event for every node's watchers and the supervisor's listeners. */
  private publish(event: ClusterEventInfo): void {
    if (this.closed) return
    this.history.push(event)
    if (this.history.length > EVENTS_KEPT) this.history.shift()
    this.emit('event', event.kind, event.node, event.text)
    for (const proc of this.procs.values()) proc.tell({ type: 'event', event })
  }

  private scheduleFanout(): void {
    if (this.fanoutTimer !== undefined || this.closed) return
    this.fanoutTimer = setTimeout(() => {
      this.fanoutTimer = undefined
      const nodes: NodeRow[] = [...this.procs.values()].map((proc) => ({
        id: proc.config.id,
        process: proc.state,
        gateways: [proc.info.ws, proc.info.http],
        raft: proc.raft,
      }))
      for (const proc of this.procs.values()) proc.tell({ type: 'table', nodes })
    }, FANOUT_MS)
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

function nodeConfig(
  settings: Settings,
  id: string,
  ports: Ports,
  seeds: readonly string[],
  bootstrapExpect: number,
): NodeConfig {
  return {
    id,
    host: settings.host,
    httpPort: ports.http,
    gossipPort: ports.gossip,
    raftPort: ports.raft,
    tunnelPort: ports.tunnel,
    seeds,
    gossipKey: settings.gossipKey,
    bootstrapExpect,
    dataDir: join(settings.dataDir, id),
    publicDir: settings.publicDir,
    pageScript: settings.pageScript,
  }
}

/** A TCP port free on `host` (and, with `udp`, free for UDP too). */
export async function freePort(host: string, udp: boolean): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer()
      server.once('error', reject)
      server.listen(0, host, () => {
        const { port } = server.address() as { port: number }
        server.close(() => resolve(port))
      })
    })
    if (!udp) return port
    const free = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4')
      socket.once('error', () => resolve(false))
      socket.bind(port, host, () => socket.close(() => resolve(true)))
    })
    if (free) return port
  }
}

export async function startSupervisor(
  options: SupervisorOptions = {},
  hooks: SupervisorHooks = {},
): Promise<Supervisor> {
  const {
    nodes = 3,
    dataDir = demoPath('.data'),
    keepData = false,
    host = '127.0.0.1',
    basePort = 8080,
    signal,
  } = options
  const { pickPort = freePort } = hooks
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) {
    throw new RangeError(`nodes must be an integer in [1, 9], got ${nodes}`)
  }
  if (!Number.isInteger(basePort) || basePort < 0 || basePort > 65_000) {
    throw new RangeError(`basePort must be 0 or a port up to 65000, got ${basePort}`)
  }
  mkdirSync(dataDir, { recursive: true })
  // Only what a previous run wrote: `--data` may name a directory that holds more.
  if (!keepData) {
    for (const name of readdirSync(dataDir)) {
      if (PREVIOUS_RUN.test(name)) rmSync(join(dataDir, name), { recursive: true, force: true })
    }
  }
  // Both bundled from sources, once, here: nothing needs a build first.
  const script = join(dataDir, 'page.js')
  const [page, nodeScript] = await Promise.all([
    bundlePage().then(({ js }) => js),
    bundleForNode(demoPath('src/cluster/node.ts'), 'node'),
  ])
  writeFileSync(script, page)

  const portsOf = async (index: number): Promise<Ports> => {
    if (basePort !== 0) {
      const base = basePort + 10 * (index - 1)
      return { http: base, gossip: base + GOSSIP, raft: base + RAFT, tunnel: base + TUNNEL }
    }
    return {
      http: await pickPort(host, false),
      gossip: await pickPort(host, true),
      raft: await pickPort(host, false),
      tunnel: await pickPort(host, false),
    }
  }
  const settings = {
    host,
    dataDir,
    basePort,
    bootstrapExpect: Math.min(nodes, 3),
    gossipKey: randomBytes(32).toString('base64'),
    publicDir: demoPath('public'),
    pageScript: script,
    nodeScript,
  }
  const allPorts: Ports[] = []
  for (let i = 1; i <= nodes; i++) allPorts.push(await portsOf(i))
  const seeds = allPorts.map((ports) => `${host}:${ports.gossip}`)
  const procs = allPorts.map(
    (ports, i) =>
      new NodeProcess(
        nodeConfig(
          settings,
          `n${i + 1}`,
          ports,
          seeds.filter((_, j) => j !== i),
          settings.bootstrapExpect,
        ),
      ),
  )
  const supervisor = new SupervisorImpl(settings, portsOf, procs[0]!)
  signal?.addEventListener('abort', () => void supervisor.close(), { once: true })
  try {
    await Promise.all(procs.map((proc) => supervisor.launch(proc)))
  } catch (error) {
    await supervisor.close()
    throw error
  }
  return supervisor
}
