import { CodedError } from '@rony/interface'

/**
 * Small helpers shared by every transport in this package: the coded errors the contracts
 * name, and a disabled logger so that no component needs a `logger?.` check on a hot path.
 */

/** `RONY_ERR_STREAM_CLOSED`: `send` on a closed stream, or iteration of an aborted one. */
export function streamClosed(message = 'stream closed', cause?: unknown): CodedError {
  return new CodedError(message, 'RONY_ERR_STREAM_CLOSED', cause === undefined ? {} : { cause })
}

/** `RONY_ERR_DIAL_FAILED`, with the underlying network error (if any) as `cause`. */
export function dialFailed(to: string, reason: string, cause?: unknown): CodedError {
  return new CodedError(
    `dial ${to} failed: ${reason}`,
    'RONY_ERR_DIAL_FAILED',
    cause === undefined ? {} : { cause },
  )
}

/** `RONY_ERR_MESSAGE_TOO_LARGE` for a message over the transport's `maxMessageSize`. */
export function messageTooLarge(size: number, max: number): CodedError {
  return new CodedError(
    `message of ${size} bytes exceeds maxMessageSize (${max})`,
    'RONY_ERR_MESSAGE_TOO_LARGE',
  )
}

/** `RONY_ERR_NOT_STARTED`: the transport was used before `start()`. */
export function notStarted(what: string): CodedError {
  return new CodedError(`${what} is not started`, 'RONY_ERR_NOT_STARTED')
}

/** `RONY_ERR_STOPPED`: the transport was stopped while the call was pending. */
export function stopped(what: string): CodedError {
  return new CodedError(`${what} stopped`, 'RONY_ERR_STOPPED')
}

/** `RONY_ERR_TIMEOUT`: an operation's default timeout elapsed. */
export function timedOut(what: string, ms: number): CodedError {
  return new CodedError(`${what} timed out after ${ms} ms`, 'RONY_ERR_TIMEOUT')
}

/** Rejects at once when `signal` has already fired, with its reason, as `fetch` does. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw signal.reason
}
