/**
 * The terminal REPL of `pnpm demo --cli`: node actions through the supervisor, data through
 * `@rony/client` and the playground's generated services, one client per node.
 */
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import type { Supervisor } from './cluster/supervisor.ts'
import { parseArgs, ReplInputError, splitWords } from './repl/args.ts'
import { NodeClients } from './repl/clients.ts'
import { COMMANDS, type CommandContext, describeError, expectWords } from './repl/commands.ts'

export interface ReplIo {
  /** Default: `process.stdin`. */
  input: Readable
  /** Default: `process.stdout`. Tab completion and line editing when it is a TTY. */
  output: Writable
  /** Aborting stops the running command and closes the REPL. */
  signal?: AbortSignal
}

const PROMPT = 'rony> '

/**
 * Reads commands until `quit`, Ctrl-D, the end of `input` or `signal`; Ctrl-C stops the
 * running command, or closes the REPL when none runs. Closes its clients, not the supervisor.
 */
export async function runRepl(
  supervisor: Supervisor,
  io: ReplIo = { input: process.stdin, output: process.stdout },
): Promise<void> {
  const { input, output, signal } = io
  if (signal?.aborted) return
  const clients = new NodeClients(supervisor)
  const terminal = (output as { isTTY?: boolean }).isTTY === true
  const lines = createInterface({
    input,
    output,
    terminal,
    prompt: PROMPT,
    completer: (line: string) => complete(supervisor, line),
  })
  const say = (text: string) => {
    output.write(`${text}\n`)
  }
  // The input can end while a command runs (piped stdin): the lines already read still run,
  // but a closed interface must not be prompted again.
  let closed = false
  lines.once('close', () => {
    closed = true
  })
  let running: AbortController | undefined
  const interrupt = () => running?.abort(new ReplInputError('interrupted'))
  lines.on('SIGINT', () => {
    if (running) interrupt()
    else lines.close()
  })
  const stop = () => {
    interrupt()
    lines.close()
  }
  signal?.addEventListener('abort', stop, { once: true })

  say(`REPL on ${supervisor.nodes().length} nodes: 'help' lists the commands, 'quit' leaves.`)
  try {
    lines.prompt()
    for await (const line of lines) {
      // Lines read before the signal aborted are dropped with the rest.
      if (signal?.aborted) break
      running = new AbortController()
      try {
        if (
          (await execute(line, { supervisor, clients, say, signal: running.signal })) === 'quit'
        ) {
          break
        }
      } catch (error) {
        say(`error: ${running.signal.aborted ? 'interrupted' : describeError(error)}`)
      } finally {
        running = undefined
      }
      if (!closed) lines.prompt()
    }
  } finally {
    signal?.removeEventListener('abort', stop)
    lines.close()
    await clients.close()
  }
}

async function execute(line: string, context: CommandContext): Promise<'quit' | undefined> {
  const [first, ...rest] = splitWords(line)
  if (first === undefined) return undefined
  const name = first.text.toLowerCase()
  if (name === 'quit' || name === 'exit') return 'quit'
  const command = COMMANDS.get(name)
  if (!command) throw new ReplInputError(`unknown command '${first.text}' (try 'help')`)
  const args = parseArgs(name, rest, command.args ?? {})
  expectWords(name, command, args)
  await command.run(args, context)
  return undefined
}

/** Tab completion: command names first, then node ids, `via` and the command's options. */
export function complete(supervisor: Supervisor, line: string): [string[], string] {
  const words = line.trimStart().split(/\s+/)
  const last = words.at(-1) ?? ''
  let candidates: string[]
  if (words.length <= 1) {
    candidates = [...COMMANDS.keys(), 'quit']
  } else {
    const spec = COMMANDS.get(words[0]!.toLowerCase())?.args
    candidates = [
      ...supervisor.nodes().map((node) => node.id),
      ...(spec?.via ? ['via'] : []),
      ...Object.keys(spec?.options ?? {}).map((option) => `--${option}`),
    ]
  }
  return [candidates.filter((candidate) => candidate.startsWith(last)), last]
}
