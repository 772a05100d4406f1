/**
 * The one error base class of Rony, and a guard that recognizes its instances even when
 * several copies of `@rony/interface` are loaded in one process.
 *
 * Wire errors (`Error { Code: 'E01', Items: 'HANDLER' }`) are a different thing: they live
 * in `@rony/envelope` (`RonyError`), which may extend this class.
 *
 * @module
 */

/**
 * Well-known codes used by the contracts in this package. Components may define more codes
 * (always `RONY_ERR_` + SCREAMING_SNAKE_CASE, documented in the component's README); a code,
 * once published, keeps its meaning forever and is never reused for something else.
 *
 * | Code | Meaning | What to do |
 * | --- | --- | --- |
 * | `RONY_ERR_NOT_STARTED` | The component is not running (never started). | Call `start()` first. |
 * | `RONY_ERR_STOPPED` | `stop()` was called; in-flight work was cut short. | Nothing: the process is shutting down, or start a new component. |
 * | `RONY_ERR_TIMEOUT` | The operation's default timeout elapsed. | Retry if the operation is idempotent; its side effect may or may not have happened. |
 * | `RONY_ERR_NOT_LEADER` | A leader-only Raft operation ran on a node that is not the leader (or no leader is known). | Send it to `consensus.leaderId`, or wait for `raft:leader` and retry. |
 * | `RONY_ERR_LEADERSHIP_LOST` | The node lost leadership after accepting a proposal and before it committed. | The outcome is unknown: retry only if the command is idempotent. |
 * | `RONY_ERR_ALREADY_IN_GROUP` | `Consensus.bootstrap()` on a server that is in a group already (its storage holds a configuration, a leader added it, or it bootstrapped another list). | Nothing to do: it is a member; never bootstrap a server with data. |
 * | `RONY_ERR_UNKNOWN_SERVER` | A Raft membership or transfer call named a server that is not in the configuration. | Check the id against `consensus.configuration()`. |
 * | `RONY_ERR_MESSAGE_TOO_LARGE` | A message, command, metadata or broadcast exceeds the component's size limit. | Send less, or raise the limit on both sides. |
 * | `RONY_ERR_STREAM_CLOSED` | `send` on a `MessageStream` that is closed or aborted. | Dial a new stream. |
 * | `RONY_ERR_DIAL_FAILED` | A transport could not open a stream to the address. | Retry later with backoff; the peer may be down. |
 * | `RONY_ERR_BUSY` | A component is at its bound of concurrent work (a tunnel's requests in flight or handlers running). | Back off and retry. |
 * | `RONY_ERR_REMOTE` | A peer's handler failed (a tunnel request); the message is the peer's. | Treat as the handler's failure. |
 * | `RONY_ERR_NOT_ATTACHED` | A gateway was started before `attach(handlers)`. | Call `attach` before `start`. |
 */
export type RonyErrorCode =
  | 'RONY_ERR_NOT_STARTED'
  | 'RONY_ERR_STOPPED'
  | 'RONY_ERR_TIMEOUT'
  | 'RONY_ERR_NOT_LEADER'
  | 'RONY_ERR_LEADERSHIP_LOST'
  | 'RONY_ERR_ALREADY_IN_GROUP'
  | 'RONY_ERR_UNKNOWN_SERVER'
  | 'RONY_ERR_MESSAGE_TOO_LARGE'
  | 'RONY_ERR_STREAM_CLOSED'
  | 'RONY_ERR_DIAL_FAILED'
  | 'RONY_ERR_NOT_ATTACHED'
  | 'RONY_ERR_BUSY'
  | 'RONY_ERR_REMOTE'

/**
 * Base class of every error Rony throws on purpose: an `Error` with a stable, documented
 * string {@link CodedError.code | code}. Match on `code` (or use {@link isCodedError}), never
 * on `message`, which is for humans and may change in any release.
 *
 * `name` is the constructor's name (`new.target.name`), so a subclass such as
 * `class NotLeaderError extends CodedError {}` reports `NotLeaderError` in stack traces
 * without further code. (A minifier that renames classes renames `name` too; code that
 * must survive minification should match on `code`.)
 *
 * The type parameter narrows `code` for subclasses and for {@link isCodedError}; it defaults
 * to `string`, and inference picks the literal type of the argument.
 *
 * @typeParam Code - The code's string type; `string` by default.
 *
 * @example
 * ```ts
 * import { CodedError } from '@rony/interface'
 *
 * class NotLeaderError extends CodedError<'RONY_ERR_NOT_LEADER'> {
 *   constructor(readonly leaderId: string | undefined) {
 *     super(`not the leader (leader: ${leaderId ?? 'unknown'})`, 'RONY_ERR_NOT_LEADER')
 *   }
 * }
 *
 * try {
 *   await socket.write(bytes)
 * } catch (cause) {
 *   throw new CodedError('peer unreachable', 'RONY_ERR_DIAL_FAILED', { cause })
 * }
 * ```
 */
export class CodedError<Code extends string = string> extends Error {
  /**
   * Stable machine-readable code, `RONY_ERR_` + SCREAMING_SNAKE_CASE for Rony's own errors
   * (see {@link RonyErrorCode} for the codes the contracts use). Part of the public API:
   * never changed or reused once published.
   */
  readonly code: Code

  /**
   * @param message - Human-readable description; may change between releases.
   * @param code - Stable code, for example `RONY_ERR_NOT_LEADER`.
   * @param options - Standard `Error` options; pass `{ cause }` to chain the underlying error.
   */
  constructor(message: string, code: Code, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/**
 * Tells whether a value is a coded error, optionally with a given code.
 *
 * Works across copies of `@rony/interface` (two versions installed side by side, a bundle
 * plus `node_modules`, another realm): besides `instanceof CodedError`, it accepts any
 * non-null object whose `name` and `message` are strings and whose `code` is a non-empty
 * string. That is the shape of every `CodedError`, whichever copy built it.
 *
 * The shape test also accepts Node's own coded errors (`ECONNREFUSED`,
 * `ERR_INVALID_ARG_TYPE`, …): like Rony's, their `code` is stable. To recognize one specific
 * Rony error, pass its `code`, which is the recommended use.
 *
 * @param value - Anything caught or received.
 * @param code - When given, the value's `code` must equal it exactly.
 * @returns `true` when `value` has the shape of a `CodedError` (and the given code).
 *
 * @example
 * ```ts
 * import { isCodedError } from '@rony/interface'
 *
 * try {
 *   await consensus.propose(command)
 * } catch (err) {
 *   if (isCodedError(err, 'RONY_ERR_NOT_LEADER')) return forward(consensus.leaderId, command)
 *   throw err
 * }
 * ```
 */
export function isCodedError<Code extends string = string>(
  value: unknown,
  code?: Code,
): value is CodedError<Code> {
  if (value instanceof CodedError) return code === undefined || value.code === code
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as { name?: unknown; message?: unknown; code?: unknown }
  return (
    typeof candidate.name === 'string' &&
    typeof candidate.message === 'string' &&
    typeof candidate.code === 'string' &&
    candidate.code.length > 0 &&
    (code === undefined || candidate.code === code)
  )
}
