import { formatWithOptions } from 'node:util'
import {
  type ComponentLogger,
  disabledLogger,
  type LogFunction,
  type Logger,
} from '@rony/interface'

export { disabledLogger }

/** Options of {@link consoleLogger}. */
export interface ConsoleLoggerInit {
  /**
   * Which debug and trace channels print, in the `debug` package's syntax: namespaces
   * separated by commas or spaces, `*` for any run of characters, a leading `-` to exclude
   * (`rony:*,-*:trace`). A namespace also enables everything under it (`rony:edge` covers
   * `rony:edge:n1` and `rony:edge:n1:trace`). Default: the `DEBUG` environment variable
   * when the logger is made; nothing when it is unset.
   */
  debug?: string
  /**
   * Error and warning channels (`<name>:error`, `<name>:warn`) print whatever `debug` says.
   * Default: true.
   */
  errors?: boolean
  /** Where lines go, one call per line ending in `\n`. Default: `process.stderr`. */
  write?: (line: string) => void
}

/**
 * The edge's default logger: warnings and errors always go to stderr; debug and trace
 * output only for the namespaces `DEBUG` names (`DEBUG=rony:edge`, `DEBUG=rony:*`). A
 * channel that does not print formats nothing: its `enabled` is false and a call returns
 * at once, so arguments are never turned into text for nothing.
 *
 * Lines read `<ISO time> <namespace> <message>`, the namespace ending in `:error`, `:warn`
 * or `:trace` on those channels; `%O` prints an error with its stack and `cause`.
 */
export function consoleLogger(init: ConsoleLoggerInit = {}): ComponentLogger {
  const matcher = debugMatcher(init.debug ?? process.env.DEBUG ?? '')
  const errors = init.errors ?? true
  const write = init.write ?? ((line: string) => void process.stderr.write(line))
  const channel = (name: string, enabled: boolean): LogFunction => {
    if (!enabled) return SILENT
    const log = (formatter: string, ...args: unknown[]): void => {
      try {
        const text = formatWithOptions({ colors: false, depth: 4 }, formatter, ...args)
        write(`${new Date().toISOString()} ${name} ${text}\n`)
      } catch {
        // A log call never throws: a failing sink (or argument) drops the line.
      }
    }
    return Object.assign(log, { enabled: true })
  }
  return {
    forComponent(name: string): Logger {
      return Object.assign(channel(name, matcher(name)), {
        error: channel(`${name}:error`, errors || matcher(`${name}:error`)),
        warn: channel(`${name}:warn`, errors || matcher(`${name}:warn`)),
        trace: channel(`${name}:trace`, matcher(`${name}:trace`)),
      })
    },
  }
}

/** A logger that prints nothing: `createEdge({ logger: silentLogger })`. */
export const silentLogger: ComponentLogger = { forComponent: () => disabledLogger }

const SILENT: LogFunction = disabledLogger.trace

/** A predicate over namespaces for a `DEBUG`-style list of patterns. */
export function debugMatcher(spec: string): (name: string) => boolean {
  const include: RegExp[] = []
  const exclude: RegExp[] = []
  for (const pattern of spec.split(/[\s,]+/)) {
    if (pattern === '') continue
    if (pattern.startsWith('-')) exclude.push(patternToRegExp(pattern.slice(1)))
    else include.push(patternToRegExp(pattern))
  }
  return (name) => include.some((re) => re.test(name)) && !exclude.some((re) => re.test(name))
}

/** `rony:*` → /^rony:.*?(:.*)?$/: a glob that also covers the namespaces under it. */
function patternToRegExp(pattern: string): RegExp {
  const glob = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*?')
  return new RegExp(`^${glob}(:.*)?$`)
}
