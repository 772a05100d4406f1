import { PassThrough } from 'node:stream'
import type { Supervisor } from '../src/cluster/supervisor.ts'
import { runRepl } from '../src/repl.ts'

const PROMPT = 'rony> '

/** The REPL on in-memory streams: `send` types a line and resolves with what it printed. */
export interface ReplDriver {
  send(line: string, timeoutMs?: number): Promise<string>
  /** Everything printed so far. */
  readonly transcript: string
  /** `runRepl`'s promise. */
  readonly finished: Promise<void>
  /** Types a line without waiting for anything. */
  type(line: string): void
  /** Types `lines` and ends the input at once, as a pipe does; waits for `runRepl` to return. */
  pipe(lines: readonly string[]): Promise<void>
  /** Types `quit` and waits for `runRepl` to return. */
  quit(): Promise<void>
  /** Ends the input and waits for `runRepl` to return. */
  close(): Promise<void>
}

export async function driveRepl(supervisor: Supervisor, signal?: AbortSignal): Promise<ReplDriver> {
  const input = new PassThrough()
  const output = new PassThrough()
  let transcript = ''
  let changed = () => {}
  output.setEncoding('utf8')
  output.on('data', (chunk: string) => {
    transcript += chunk
    changed()
  })
  const done = runRepl(supervisor, signal ? { input, output, signal } : { input, output })
  // The REPL is idle when what it printed last is its prompt.
  const idle = (from: number, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no prompt within ${timeoutMs} ms; printed:\n${transcript.slice(from)}`))
      }, timeoutMs)
      changed = () => {
        if (transcript.length > from && transcript.endsWith(PROMPT)) {
          clearTimeout(timer)
          changed = () => {}
          resolve(transcript.slice(from, -PROMPT.length))
        }
      }
      changed()
    })
  await idle(0, 5_000)
  return {
    async send(line, timeoutMs = 15_000) {
      const from = transcript.length
      const printed = idle(from, timeoutMs)
      input.write(`${line}\n`)
      return printed
    },
    finished: done,
    get transcript() {
      return transcript
    },
    type(line) {
      input.write(`${line}\n`)
    },
    async pipe(lines) {
      input.end(lines.map((line) => `${line}\n`).join(''))
      await done
    },
    async quit() {
      input.write('quit\n')
      await done
    },
    async close() {
      input.end()
      await done
    },
  }
}
