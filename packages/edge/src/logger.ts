import type { ComponentLogger, LogFunction, Logger } from '@rony/interface'

const noop = Object.assign(() => {}, { enabled: false }) as LogFunction

/** A logger that prints nothing and costs nothing: `enabled` is false everywhere. */
export const disabledLogger: Logger = Object.assign(() => {}, {
  enabled: false,
  error: noop,
  trace: noop,
}) as Logger

export function loggerFor(logger: ComponentLogger | undefined, name: string): Logger {
  return logger?.forComponent(name) ?? disabledLogger
}
