import { RonyError } from '@rony/envelope'

/**
 * The errors the client raises itself (the server's own errors arrive as `rony.Error` and
 * become `RonyError.fromWire`). Every one is a `RonyError` with a stable `code`; the table
 * is in the README.
 */

export const CLIENT_ERROR_CODES = [
  'RONY_ERR_TIMEOUT',
  'RONY_ERR_CONNECTION_LOST',
  'RONY_ERR_CLIENT_CLOSED',
  'RONY_ERR_TOO_MANY_PENDING',
  'RONY_ERR_DIAL_FAILED',
  'RONY_ERR_UNEXPECTED_RESPONSE',
  'RONY_ERR_UPDATES_OVERFLOW',
] as const

/** A code of an error the client raises itself. */
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number]

export function timeoutError(what: string, ms: number): RonyError {
  return new RonyError('E06', 'TIMEOUT', `no reply to ${what} within ${ms} ms`, {
    code: 'RONY_ERR_TIMEOUT',
  })
}

export function connectionLost(reason: string): RonyError {
  return new RonyError('E02', 'CONNECTION', reason, { code: 'RONY_ERR_CONNECTION_LOST' })
}

export function clientClosed(): RonyError {
  return new RonyError('E02', 'CLIENT', 'the client was closed', {
    code: 'RONY_ERR_CLIENT_CLOSED',
  })
}

export function tooManyPending(max: number): RonyError {
  return new RonyError('E03', 'PENDING', `more than ${max} requests pending (maxPending)`, {
    code: 'RONY_ERR_TOO_MANY_PENDING',
  })
}

export function dialFailed(url: string, reason: string, cause?: unknown): RonyError {
  const description = `cannot connect to ${url}: ${reason}`
  return new RonyError(
    'E02',
    'CONNECTION',
    description,
    cause === undefined
      ? { code: 'RONY_ERR_DIAL_FAILED' }
      : { code: 'RONY_ERR_DIAL_FAILED', cause },
  )
}

export function unexpectedResponse(expected: string, ctor: bigint, name?: string): RonyError {
  const got = name ?? `constructor ${ctor}`
  return new RonyError('E01', 'RESPONSE', `expected ${expected}, got ${got}`, {
    code: 'RONY_ERR_UNEXPECTED_RESPONSE',
  })
}

export function updatesOverflow(max: number): RonyError {
  return new RonyError(
    'E03',
    'UPDATES',
    `more than ${max} updates buffered: the updates() consumer is too slow`,
    { code: 'RONY_ERR_UPDATES_OVERFLOW' },
  )
}
