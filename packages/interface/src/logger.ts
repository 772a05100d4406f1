/**
 * Scoped, debug-style logging, injected into components rather than imported by them, in the
 * manner of js-libp2p's `ComponentLogger`. Gossip and Raft take a {@link ComponentLogger} in
 * their options, so they log through whatever the host application uses.
 *
 * @module
 */

/**
 * One log channel: a function that writes a line when the channel is enabled, and does
 * nothing otherwise.
 *
 * The `formatter` uses `debug`/`util.format` specifiers: `%s` string, `%d` number, `%o` /
 * `%O` object, `%j` JSON, `%%` a literal percent sign. Implementations may add specifiers
 * (for example for bytes), but components should use only these so that any implementation
 * prints them. Extra arguments without a specifier are appended, separated by spaces.
 *
 * A log call never throws and never blocks on I/O for long; a failing sink drops the line.
 */
export interface LogFunction {
  /**
   * Writes one line when {@link LogFunction.enabled | enabled}; otherwise returns at once.
   *
   * @param formatter - Format string with `%s`, `%d`, `%o`, `%O`, `%j`, `%%` specifiers.
   * @param args - Values for the specifiers, formatted lazily (only when enabled).
   */
  (formatter: string, ...args: unknown[]): void

  /**
   * Whether this channel prints anything. May change at runtime (for example when the
   * `DEBUG` pattern is changed), so read it at each use instead of caching it.
   *
   * On hot paths (per message, per packet, per log entry), check it before doing any work
   * to build the arguments:
   *
   * ```ts
   * if (log.enabled) log('frame %d bytes from %s: %s', data.byteLength, from, toHex(data))
   * ```
   */
  readonly enabled: boolean
}

/**
 * A scoped logger: the callable itself logs at debug level, and it carries three sibling
 * channels of the same shape.
 *
 * - `log(...)`: what the component does (connections, elections, membership changes).
 *   Enabled by the namespace itself, for example `DEBUG=rony:gateway-ws`.
 * - `log.error(...)`: failures the component reports (a handler threw, a peer sent garbage,
 *   a dial failed). Implementations conventionally enable it under `<name>:error`, and may
 *   enable it by default.
 * - `log.warn(...)`: something an operator should know that was repaired or worked around
 *   (a torn WAL tail cut off, handlers cut short by a stop). Enabled under `<name>:warn`,
 *   and by default wherever errors are.
 * - `log.trace(...)`: very verbose per-message detail (every packet, every append). Enabled
 *   under `<name>:trace`, so it can be switched off on its own: `DEBUG=rony:*,-*:trace`.
 *
 * Each channel has its own `enabled`, so `log.trace.enabled` can be false while `log.enabled`
 * is true.
 *
 * A disabled logger must be free: calling it costs one function call and one boolean test,
 * with no formatting, allocation of the output line, or I/O. Components still guard
 * expensive arguments with `enabled` (see {@link LogFunction.enabled}) because JavaScript
 * evaluates the arguments before the call.
 *
 * The shape is compatible with a `debug` instance extended with `error` and `trace`, and
 * with js-libp2p's `Logger`.
 */
export interface Logger extends LogFunction {
  /**
   * Error channel of the same shape as the logger; typically enabled under `<name>:error`.
   * Pass the `Error` itself as an argument (`log.error('dial %s failed: %o', addr, err)`) so
   * that implementations can print its stack and `cause`.
   */
  readonly error: LogFunction

  /**
   * Warning channel of the same shape as the logger; typically enabled under `<name>:warn`
   * and wherever the error channel is.
   */
  readonly warn: LogFunction

  /**
   * Trace channel of the same shape as the logger, for per-message detail; typically enabled
   * under `<name>:trace`. Always guard argument construction with `log.trace.enabled`.
   */
  readonly trace: LogFunction
}

/**
 * Factory of scoped loggers, injected into every component (the edge passes one to each
 * gateway, to gossip and to raft; standalone users pass their own).
 *
 * Names are colon-separated debug namespaces, starting with `rony:` and then the component,
 * then optionally an instance: `rony:edge`, `rony:gateway-ws`, `rony:gateway-http`,
 * `rony:gossip:n1`, `rony:raft:n1`. A component asks for its logger once, at construction or
 * start, and keeps it; `forComponent` is not meant to be called per message.
 *
 * Implementations must be cheap to call and may return the same `Logger` for the same name.
 *
 * @example
 * ```ts
 * import type { ComponentLogger, Logger, LogFunction } from '@rony/interface'
 *
 * // A console-backed logger that prints only names matching a prefix.
 * function consoleLogger(prefix: string): ComponentLogger {
 *   const channel = (name: string): LogFunction => {
 *     const enabled = name.startsWith(prefix)
 *     const fn = (formatter: string, ...args: unknown[]): void => {
 *       if (enabled) console.error(`${name} ${formatter}`, ...args)
 *     }
 *     return Object.assign(fn, { enabled })
 *   }
 *   return {
 *     forComponent(name: string): Logger {
 *       return Object.assign(channel(name), {
 *         error: channel(`${name}:error`),
 *         warn: channel(`${name}:warn`),
 *         trace: channel(`${name}:trace`),
 *       })
 *     },
 *   }
 * }
 *
 * const log = consoleLogger('rony:').forComponent('rony:gateway-ws')
 * log('listening on %s', 'ws://127.0.0.1:8080/')
 * ```
 */
export interface ComponentLogger {
  /**
   * Returns the logger for one component.
   *
   * @param name - Debug namespace, such as `rony:gateway-ws` or `rony:raft:n1`.
   * @returns A logger whose channels are named `name`, `name:error`, `name:warn` and
   *   `name:trace`.
   */
  forComponent(name: string): Logger
}

const silent: LogFunction = Object.assign(() => {}, { enabled: false })

/**
 * A logger that prints nothing and costs one call: every channel's `enabled` is false, so
 * hot paths that check it skip their work. The default of every component without one.
 */
export const disabledLogger: Logger = Object.assign(() => {}, {
  enabled: false,
  error: silent,
  warn: silent,
  trace: silent,
})
