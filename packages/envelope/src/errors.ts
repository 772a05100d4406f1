import { CodedError } from '@rony/interface'

/**
 * The wire error codes of the Go framework, with their meaning and the HTTP status a
 * gateway answers with.
 *
 * | code | name             | HTTP | use                                                  |
 * | ---- | ---------------- | ---- | ---------------------------------------------------- |
 * | E00  | Internal         | 500  | a handler failed; nothing the client can fix         |
 * | E01  | Invalid          | 400  | malformed envelope, unknown constructor, bad field   |
 * | E02  | Unavailable      | 503  | no leader, node shutting down; retry later           |
 * | E03  | TooMany          | 429  | too many requests in flight or items in a request    |
 * | E04  | TooFew           | 400  | a required item is missing                           |
 * | E05  | Incomplete       | 400  | the request is not complete                          |
 * | E06  | Timeout          | 504  | the operation did not finish in time                 |
 * | E07  | Access           | 403  | not allowed                                          |
 * | E08  | AlreadyExists    | 409  | the item exists                                      |
 * | E09  | Busy             | 503  | the server is busy; retry later                      |
 * | E10  | OutOfRange       | 400  | a value is out of its range                          |
 * | E11  | PartiallyApplied | 500  | some of the request took effect                      |
 * | E12  | Expired          | 410  | the item or credential expired                       |
 * | E13  | NotImplemented   | 501  | the server does not implement this                   |
 */
export const WIRE_ERRORS = {
  E00: { name: 'Internal', status: 500 },
  E01: { name: 'Invalid', status: 400 },
  E02: { name: 'Unavailable', status: 503 },
  E03: { name: 'TooMany', status: 429 },
  E04: { name: 'TooFew', status: 400 },
  E05: { name: 'Incomplete', status: 400 },
  E06: { name: 'Timeout', status: 504 },
  E07: { name: 'Access', status: 403 },
  E08: { name: 'AlreadyExists', status: 409 },
  E09: { name: 'Busy', status: 503 },
  E10: { name: 'OutOfRange', status: 400 },
  E11: { name: 'PartiallyApplied', status: 500 },
  E12: { name: 'Expired', status: 410 },
  E13: { name: 'NotImplemented', status: 501 },
} as const

/** One of the framework's wire error codes, `E00` … `E13`. */
export type WireErrorCode = keyof typeof WIRE_ERRORS

/** The wire `Error` message's fields, as the generated `rony.Error` class holds them. */
export interface WireError {
  Code?: string | null
  Items?: string | null
  Description?: string | null
}

export interface RonyErrorOptions extends ErrorOptions {
  /**
   * A stable, more specific code for programs to test (`RONY_ERR_ENVELOPE_TOO_LARGE`).
   * Default: derived from the wire code, e.g. `E01` → `RONY_ERR_INVALID`.
   */
  code?: string
}

const hasOwn = Object.prototype.hasOwnProperty

function isWireErrorCode(code: string): code is WireErrorCode {
  return hasOwn.call(WIRE_ERRORS, code)
}

/** `RONY_ERR_INVALID` for `E01`; `RONY_ERR_REMOTE` for a code this table does not know. */
function defaultCode(wireCode: string): string {
  return isWireErrorCode(wireCode)
    ? `RONY_ERR_${WIRE_ERRORS[wireCode].name.replace(/[a-z](?=[A-Z])/g, '$&_').toUpperCase()}`
    : 'RONY_ERR_REMOTE'
}

/**
 * An error that crosses the wire as a `rony.Error` message.
 *
 * Handlers throw it to answer with a code; clients reject with it. `message` reads like
 * the Go framework's `Error()`: `E01:ENVELOPE (truncated varint)`.
 *
 * @example
 * throw new RonyError('E07', 'USER', 'only admins may delete users')
 */
export class RonyError extends CodedError {
  /** The wire code: `E00` … `E13`, or whatever code a remote server sent. */
  readonly wireCode: WireErrorCode | (string & {})
  /** What is wrong, upper case by convention: `HANDLER`, `ENVELOPE`, `LEADER`. */
  readonly items: string
  /** A human-readable explanation; may be empty. */
  readonly description: string

  constructor(
    wireCode: WireErrorCode | (string & {}),
    items: string,
    description = '',
    options: RonyErrorOptions = {},
  ) {
    const { code = defaultCode(wireCode), ...errorOptions } = options
    super(
      description ? `${wireCode}:${items} (${description})` : `${wireCode}:${items}`,
      code,
      errorOptions,
    )
    this.wireCode = wireCode
    this.items = items
    this.description = description
  }

  /** The HTTP status for this error's wire code (500 for codes outside E00–E13). */
  get status(): number {
    return isWireErrorCode(this.wireCode) ? WIRE_ERRORS[this.wireCode].status : 500
  }

  /** The fields of the wire `rony.Error` message. */
  toWire(): { Code: string; Items: string; Description: string } {
    return { Code: this.wireCode, Items: this.items, Description: this.description }
  }

  /** Rebuilds an error received as a wire `rony.Error` message. */
  static fromWire(error: WireError): RonyError {
    return new RonyError(error.Code || 'E00', error.Items ?? '', error.Description ?? '')
  }
}

/** An `E01` error for bytes that do not decode: the one error decoders throw. */
export function invalidEnvelope(
  description: string,
  code = 'RONY_ERR_INVALID_ENVELOPE',
  cause?: unknown,
): RonyError {
  return new RonyError(
    'E01',
    'ENVELOPE',
    description,
    cause === undefined ? { code } : { code, cause },
  )
}
