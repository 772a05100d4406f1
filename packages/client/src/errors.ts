import { RonyError, type rony } from '@rony/envelope'

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
  'RONY_ERR_REDIRECT',
  'RONY_ERR_REDIRECTED',
] as const

/** A code of an error the client raises itself. */
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number]

/** `cause`: for a request that never got a connection, why the last attempt failed. */
export function timeoutError(what: string, ms: number, cause?: unknown): RonyError {
  const code = 'RONY_ERR_TIMEOUT'
  return new RonyError(
    'E06',
    'TIMEOUT',
    `no reply to ${what} within ${ms} ms`,
    cause === undefined ? { code } : { code, cause },
  )
}

export function connectionLost(reason: string, cause?: unknown): RonyError {
  const code = 'RONY_ERR_CONNECTION_LOST'
  return new RonyError(
    'E02',
    'CONNECTION',
    reason,
    cause === undefined ? { code } : { code, cause },
  )
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

export function unexpectedResponse(expected: string, got: string): RonyError {
  return new RonyError('E01', 'RESPONSE', `expected ${expected}, got ${got}`, {
    code: 'RONY_ERR_UNEXPECTED_RESPONSE',
  })
}

/**
 * A clustered edge's `Redirect` answer (a follower with `onFollower: 'redirect'`): the
 * request did not run; `edges` names where it would, first the leader.
 */
export function redirected(edges: readonly rony.Edge.$Properties[]): RonyError & {
  readonly edges: readonly rony.Edge.$Properties[]
} {
  const where = edges.map((e) => `${e.ServerID} (${(e.HostPorts ?? []).join(', ')})`).join('; ')
  const error = new RonyError(
    'E02',
    'REDIRECT',
    `the request did not run: send it to ${where || 'the leader'}`,
    {
      code: 'RONY_ERR_REDIRECTED',
    },
  )
  return Object.assign(error, { edges })
}

/** An HTTP redirect the client does not follow, so the envelope (and its auth) stays put. */
export function redirectRefused(from: string, to: string | undefined, why: string): RonyError {
  const target = to === undefined ? '' : ` to ${to}`
  return new RonyError(
    'E02',
    'REDIRECT',
    `POST ${from} was redirected${target}: not followed (${why})`,
    {
      code: 'RONY_ERR_REDIRECT',
    },
  )
}

export function updatesOverflow(max: number): RonyError {
  return new RonyError(
    'E03',
    'UPDATES',
    `more than ${max} updates buffered: the updates() consumer is too slow`,
    { code: 'RONY_ERR_UPDATES_OVERFLOW' },
  )
}
