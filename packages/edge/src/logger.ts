import { type ComponentLogger, disabledLogger, type Logger } from '@rony/interface'

export { disabledLogger }

export function loggerFor(logger: ComponentLogger | undefined, name: string): Logger {
  return logger?.forComponent(name) ?? disabledLogger
}
