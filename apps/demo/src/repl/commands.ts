import type { NodeInfo, Supervisor } from '../cluster/supervisor.ts'
import type { demo } from '../gen/playground.js'
import { type ArgSpec, type Args, integerIn, ReplInputError } from './args.ts'
import { bench, benchSummary } from './bench.ts'
import type { NodeClients } from './clients.ts'
import { clockTime, ms, table, toNumber } from './table.ts'

/** What a command works with. */
export interface CommandContext {
  readonly supervisor: Supervisor
  readonly clients: NodeClients
  /** Prints one line (or several) to the REPL's output. */
  readonly say: (text: string) => void
  /** Aborted by Ctrl-C while the command runs, or when the REPL closes. */
  readonly signal: AbortSignal
}

export interface Command {
  readonly usage: string
  readonly help: string
  readonly args?: ArgSpec
  /** How many plain words it takes (`via` and options apart); checked before `run`. */
  readonly words?: { readonly min: number; readonly max: number }
  run(args: Args, context: CommandContext): Promise<void>
}

/** Bench bounds: the default count, the most puts and the longest run. */
export const BENCH_DEFAULT_COUNT = 1_000
export const BENCH_MAX_COUNT = 100_000
export const BENCH_MAX_SECONDS = 30
const BENCH_DEFAULT_CONCURRENCY = 16
const BENCH_MAX_CONCURRENCY = 256
/** Keys a bench cycles through (`bench/0` …), so it leaves this many behind at most. */
const BENCH_KEYS = 100
/** How long `nodes` waits for a node's view before showing the supervisor's alone. */
const VIEW_TIMEOUT_MS = 3_000

/** Refuses too few or too many plain words for `command`, naming its usage. */
export function expectWords(name: string, command: Command, args: Args): void {
  if (!command.words) return
  const { usage, words } = command
  if (args.words.length < words.min)
    throw new ReplInputError(`${name}: missing arguments; usage: ${usage}`)
  if (args.words.length > words.max) {
    throw new ReplInputError(`${name}: too many arguments; usage: ${usage}`)
  }
}

/** `n2`, or `n2 (forwarded to leader n1)` when the write went through another node. */
function served(from: demo.Served.$Properties | null | undefined): string {
  if (!from) return '?'
  const node = from.Node ?? '?'
  return from.Forwarded ? `${node} (forwarded to leader ${from.Leader ?? '?'})` : node
}

function elapsed(started: number): string {
  return ms(performance.now() - started)
}

function describeNode(node: NodeInfo): string {
  const pid = node.pid === undefined ? '' : `, pid ${node.pid}`
  return `${node.id}: ${node.process}${pid}`
}

/** `stop`, `kill`, `restart`, …: one node id, one supervisor action, the node's state after. */
function nodeAction(
  usage: string,
  help: string,
  act: (supervisor: Supervisor, id: string, extra: readonly string[]) => Promise<NodeInfo>,
  maxWords = 1,
): Command {
  return {
    usage,
    help,
    words: { min: 1, max: maxWords },
    async run(args, { supervisor, clients, say }) {
      const [id, ...extra] = args.words as [string, ...string[]]
      clients.node(id)
      const started = performance.now()
      const node = await act(supervisor, id, extra)
      say(`${describeNode(node)} (${elapsed(started)})`)
    },
  }
}

function nodesTable(nodes: readonly NodeInfo[], view: demo.ClusterView | undefined): string {
  const rows = nodes.map((node) => {
    const status = view?.Nodes.find((candidate) => candidate.ID === node.id)
    const live = node.process === 'running' || node.process === 'isolated'
    // A stopped process's Raft state is what it last reported: shown in parentheses.
    const role = status ? (live ? (status.Role ?? '') : `(${status.Role ?? ''})`) : '-'
    return [
      node.id,
      node.process,
      status?.Gossip || '-',
      role,
      status ? String(toNumber(status.Term)) : '-',
      status ? String(toNumber(status.Commit)) : '-',
      status ? String(toNumber(status.Applied)) : '-',
      `${node.ws} ${node.http}`,
    ]
  })
  return table(
    ['node', 'process', 'gossip', 'role', 'term', 'commit', 'applied', 'gateways (ws, http)'],
    rows,
  )
}

export const COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([
  [
    'help',
    {
      usage: 'help',
      help: 'this list',
      async run(_args, { say }) {
        const lines = [...COMMANDS.values()].map(({ usage, help }) => [usage, help])
        lines.push(['quit', 'close the REPL (Ctrl-D too; Ctrl-C stops a running command)'])
        say(table(['command', 'what it does'], lines))
        say("'via <node>' picks the node that answers (default: any running node).")
      },
    },
  ],
  [
    'nodes',
    {
      usage: 'nodes [via <node>]',
      help: "every node: process, gossip state, Raft role/term/commit/applied (a node's view), gateways",
      args: { via: true },
      words: { min: 0, max: 0 },
      async run(args, { supervisor, clients, say, signal }) {
        let view: demo.ClusterView | undefined
        let missing = ''
        try {
          const target = clients.pick(args.via)
          view = await target.cluster.watch({ Watch: false }, { signal, timeout: VIEW_TIMEOUT_MS })
        } catch (error) {
          if (signal.aborted) throw error
          missing = `no cluster view: ${describeError(error)}`
        }
        const nodes = supervisor.nodes()
        say(nodesTable(nodes, view))
        if (view) {
          // Right after a leader dies, the others still name it until they elect another.
          const process = nodes.find((node) => node.id === view.Leader)?.process
          const stale = process && process !== 'running' ? `; its process is ${process}` : ''
          say(`leader: ${view.Leader || 'none'} (as ${view.Node} sees it${stale})`)
        } else {
          say(missing)
        }
      },
    },
  ],
  [
    'add',
    {
      usage: 'add',
      help: 'start one more node; it joins the replica set',
      words: { min: 0, max: 0 },
      async run(_args, { supervisor, say }) {
        const started = performance.now()
        const node = await supervisor.add()
        say(`${describeNode(node)} (${elapsed(started)})  ${node.ws} ${node.http}`)
      },
    },
  ],
  ['stop', nodeAction('stop <node>', 'stop a node gracefully (SIGTERM)', (s, id) => s.stop(id))],
  ['kill', nodeAction('kill <node>', 'kill a node (SIGKILL)', (s, id) => s.kill(id))],
  [
    'pause',
    nodeAction(
      'pause <node> [seconds]',
      'freeze a node (SIGSTOP), resumed after 1–30 s (default 5)',
      (s, id, [seconds]) =>
        seconds === undefined
          ? s.pause(id)
          : s.pause(id, integerIn('pause', 'seconds', seconds, 1, 30)),
      2,
    ),
  ],
  [
    'restart',
    nodeAction('restart <node>', 'start a killed or stopped node again, with its data', (s, id) =>
      s.restart(id),
    ),
  ],
  [
    'isolate',
    nodeAction('isolate <node>', "cut a node's gossip, Raft and tunnel traffic", (s, id) =>
      s.isolate(id, true),
    ),
  ],
  ['heal', nodeAction('heal <node>', 'restore an isolated node', (s, id) => s.isolate(id, false))],
  [
    'put',
    {
      usage: 'put <key> <value> [via <node>]',
      help: 'replicated write (through the Raft log)',
      args: { via: true },
      words: { min: 2, max: Number.POSITIVE_INFINITY },
      async run(args, { clients, say, signal }) {
        const [key, ...value] = args.words as [string, ...string[]]
        const target = clients.pick(args.via)
        const started = performance.now()
        const reply = await target.kv.put(
          { Key: key, Value: value.join(' ') },
          { signal, idempotent: true },
        )
        const before = reply.Existed ? `was ${JSON.stringify(reply.Previous)}` : 'new key'
        say(
          `ok ${key} (${before}), index ${toNumber(reply.Index)}, by ${served(reply.Served)} in ${elapsed(started)}`,
        )
      },
    },
  ],
  [
    'get',
    {
      usage: 'get <key> [via <node>] [--local]',
      help: 'read: linearizable, or --local for what that node has applied',
      args: { via: true, options: { local: 'flag' } },
      words: { min: 1, max: 1 },
      async run(args, { clients, say, signal }) {
        const key = args.words[0]!
        const local = args.options.has('local')
        const target = clients.pick(args.via)
        const started = performance.now()
        const reply = local
          ? await target.kv.getLocal({ Key: key }, { signal })
          : await target.kv.get({ Key: key }, { signal })
        const writtenAt = toNumber(reply.WrittenAt)
        const written = writtenAt > 0 ? ` (written ${clockTime(writtenAt)})` : ''
        const value = reply.Found ? `${JSON.stringify(reply.Value)}${written}` : '(not found)'
        const how = local ? 'local read' : 'linearizable read'
        say(
          `${key} = ${value}, applied ${toNumber(reply.Applied)}, ${how} by ${served(reply.Served)} in ${elapsed(started)}`,
        )
      },
    },
  ],
  [
    'del',
    {
      usage: 'del <key> [via <node>]',
      help: 'replicated delete',
      args: { via: true },
      words: { min: 1, max: 1 },
      async run(args, { clients, say, signal }) {
        const key = args.words[0]!
        const target = clients.pick(args.via)
        const started = performance.now()
        const reply = await target.kv.delete({ Key: key }, { signal, idempotent: true })
        const what = reply.Existed ? `deleted ${key}` : `${key} was not there`
        say(
          `${what}, index ${toNumber(reply.Index)}, by ${served(reply.Served)} in ${elapsed(started)}`,
        )
      },
    },
  ],
  [
    'list',
    {
      usage: 'list [via <node>]',
      help: 'the keys and values (linearizable read)',
      args: { via: true },
      words: { min: 0, max: 0 },
      async run(args, { clients, say, signal }) {
        const target = clients.pick(args.via)
        const reply = await target.kv.list({ Limit: 1_000 }, { signal })
        if (reply.Entries.length === 0) {
          say(`(no keys) by ${served(reply.Served)}`)
          return
        }
        const rows = reply.Entries.map((entry) => [
          entry.Key ?? '',
          JSON.stringify(entry.Value ?? ''),
          clockTime(toNumber(entry.WrittenAt)),
        ])
        say(table(['key', 'value', 'written'], rows))
        const keys = reply.Entries.length === 1 ? '1 key' : `${reply.Entries.length} keys`
        say(`${keys}, by ${served(reply.Served)}`)
      },
    },
  ],
  [
    'echo',
    {
      usage: 'echo <text> [via <node>]',
      help: 'round trip to a local handler (Cluster.Ping): which node answered, how long',
      args: { via: true },
      async run(args, { clients, say, signal }) {
        const target = clients.pick(args.via)
        const started = performance.now()
        const reply = await target.cluster.ping({}, { signal })
        say(`${JSON.stringify(args.words.join(' '))} from ${reply.Node} in ${elapsed(started)}`)
      },
    },
  ],
  [
    'bench',
    {
      usage: 'bench [count] [via <node>] [--concurrency N]',
      help: `replicated puts (default ${BENCH_DEFAULT_COUNT}, at most ${BENCH_MAX_COUNT} or ${BENCH_MAX_SECONDS} s): ops/s, p50, p99`,
      args: { via: true, options: { concurrency: 'value' } },
      words: { min: 0, max: 1 },
      async run(args, { clients, say, signal }) {
        const count =
          args.words[0] === undefined
            ? BENCH_DEFAULT_COUNT
            : integerIn('bench', 'count', args.words[0], 1, BENCH_MAX_COUNT)
        const concurrencyText = args.options.get('concurrency')
        const concurrency =
          typeof concurrencyText === 'string'
            ? integerIn('bench', '--concurrency', concurrencyText, 1, BENCH_MAX_CONCURRENCY)
            : BENCH_DEFAULT_CONCURRENCY
        const target = clients.pick(args.via)
        say(`bench: ${count} puts via ${target.node.id}, ${concurrency} in flight…`)
        const result = await bench(target, {
          count,
          concurrency,
          maxMs: BENCH_MAX_SECONDS * 1000,
          keys: BENCH_KEYS,
          signal,
        })
        say(`bench: ${benchSummary(result)}`)
        if (result.cut)
          say(
            `bench: stopped before ${count} (${signal.aborted ? 'interrupted' : `${BENCH_MAX_SECONDS} s bound`})`,
          )
        if (result.failed > 0) say(`bench: first error: ${describeError(result.firstError)}`)
      },
    },
  ],
  [
    'events',
    {
      usage: 'events [count] [via <node>]',
      help: 'recent cluster events (default the last 20)',
      args: { via: true },
      words: { min: 0, max: 1 },
      async run(args, { clients, say, signal }) {
        const limit =
          args.words[0] === undefined ? 20 : integerIn('events', 'count', args.words[0], 1, 1_000)
        const target = clients.pick(args.via)
        const reply = await target.cluster.events({ Limit: limit }, { signal })
        if (reply.Events.length === 0) {
          say('(no events yet)')
          return
        }
        const rows = reply.Events.map((event) => [
          clockTime(toNumber(event.At)),
          event.Kind ?? '',
          event.Node ?? '',
          event.Text ?? '',
        ])
        say(table(['time (UTC)', 'event', 'node', 'detail'], rows))
      },
    },
  ],
])

/** An error as one line: what was typed wrong, or the server's or client's error with its code. */
export function describeError(error: unknown): string {
  if (error instanceof ReplInputError) return error.message
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return typeof code === 'string' && !error.message.includes(code)
      ? `${error.message} [${code}]`
      : error.message
  }
  return String(error)
}
