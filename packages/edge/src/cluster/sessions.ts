/**
 * The replicated state's client-session table (Ongaro's thesis §6.3): for each client
 * session, the answers to its latest requests, keyed by request id, so a request the
 * client re-sends (after a leader change, a lost reply) gets its first answer and its
 * command does not apply twice. One client pipelines many requests, so a session keeps a
 * window of them, not only the latest.
 *
 * Every replica applies the same commands in the same order and must keep the same table,
 * so eviction depends only on the sequence of `record` calls and their log indexes: never
 * on time or on lookups. A snapshot carries the table ({@link SessionTable.encode}); the
 * decoded table evicts exactly as the original would have.
 *
 * Format, version 1 (varints canonical LEB128):
 *
 * ```
 * u8     version = 1
 * varint session count
 * per session, least recently recorded first (by its last request's index):
 *   str    id
 *   varint request count (≥ 1)
 *   per request, oldest first:
 *     u64le  requestId
 *     varint index       log index, non-decreasing within the session
 *     varint answer count
 *     per answer: bytes
 * ```
 *
 * @module
 */

import { CodedError } from '@rony/interface'
import {
  ByteReader,
  isSafeCount,
  isU64,
  prefixedSize,
  utf8Size,
  varintSize,
  writeBytes,
  writeString,
  writeU64,
  writeVarint,
} from './binary.js'

/** The format version this code writes and reads. */
export const SESSIONS_VERSION = 1

/** Bounds of a {@link SessionTable}. Replicas of one set must use the same values. */
export interface SessionLimits {
  /** Most sessions kept; one more evicts the least recently recorded. Default: 4096. */
  readonly maxSessions?: number | undefined
  /** Most requests' answers kept per session; one more evicts its oldest. Default: 128. */
  readonly window?: number | undefined
}

/** The resolved bounds. */
export type ResolvedSessionLimits = { readonly [K in keyof SessionLimits]-?: number }

export const DEFAULT_SESSION_LIMITS: ResolvedSessionLimits = Object.freeze({
  maxSessions: 4096,
  window: 128,
})

interface Recorded {
  readonly answers: readonly Uint8Array[]
  /** Log index of the command that produced the answers. */
  readonly index: number
}

/** One session's requests by id; insertion order is index order, oldest first. */
type Session = Map<bigint, Recorded>

function invalidSnapshot(detail: string): CodedError<'RONY_ERR_INVALID_SNAPSHOT'> {
  return new CodedError(`session table: ${detail}`, 'RONY_ERR_INVALID_SNAPSHOT')
}

/**
 * `limits` over the defaults (an `undefined` value takes the default).
 *
 * @throws TypeError for an unknown key, RangeError for a value that is not a positive integer.
 */
export function resolveSessionLimits(limits: SessionLimits | undefined): ResolvedSessionLimits {
  const given = Object.entries(limits ?? {}).filter(([, value]) => value !== undefined)
  const resolved = { ...DEFAULT_SESSION_LIMITS, ...Object.fromEntries(given) }
  for (const key of Object.keys(resolved) as (keyof SessionLimits)[]) {
    if (!(key in DEFAULT_SESSION_LIMITS)) throw new TypeError(`session table: unknown limit ${key}`)
    const value = resolved[key]
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`session table: ${key} must be a positive integer, got ${String(value)}`)
    }
  }
  return resolved
}

/**
 * The bounded deduplication table of client sessions. Answers are kept as given (an array
 * that is a view into a larger buffer is copied first, so it does not keep that buffer
 * alive); callers must not modify them.
 */
export class SessionTable {
  readonly #limits: ResolvedSessionLimits
  /** Sessions by id; insertion order is recency of their last record, least recent first. */
  readonly #sessions = new Map<string, Session>()
  #requests = 0
  /** Index of the last record; records must not go below it. */
  #lastIndex = 0

  /** @throws RangeError when a limit is not a positive integer. */
  constructor(limits?: SessionLimits) {
    this.#limits = resolveSessionLimits(limits)
  }

  /** Number of sessions kept. */
  get sessionCount(): number {
    return this.#sessions.size
  }

  /** Number of requests whose answers are kept, over all sessions. */
  get requestCount(): number {
    return this.#requests
  }

  /** The answers recorded for a request (each an encoded `MessageEnvelope`), if kept. */
  lookup(session: string, requestId: bigint): readonly Uint8Array[] | undefined {
    return this.#sessions.get(session)?.get(requestId)?.answers
  }

  /**
   * Records the answers of a request applied at log index `index`, then evicts beyond the
   * limits: the session's oldest request beyond `window`, the least recently recorded
   * session beyond `maxSessions`. Recording a request id again replaces its answers.
   *
   * @param index - The command's Raft log index: the apply order, never below the previous
   *   record's (several records may share one index).
   * @throws RangeError when `index` is not a safe integer or goes below the last one, or
   *   `requestId` is not a uint64.
   */
  record(session: string, requestId: bigint, answers: readonly Uint8Array[], index: number): void {
    if (!isSafeCount(index) || index < this.#lastIndex) {
      throw new RangeError(
        `session table: index ${String(index)} is not a safe integer at or above ${this.#lastIndex}`,
      )
    }
    if (!isU64(requestId)) {
      throw new RangeError(`session table: requestId must be a uint64, got ${String(requestId)}`)
    }
    this.#lastIndex = index
    let requests = this.#sessions.get(session)
    if (requests === undefined) {
      requests = new Map()
    } else {
      // Move the session to the most recent end.
      this.#sessions.delete(session)
      if (requests.delete(requestId)) this.#requests--
    }
    this.#sessions.set(session, requests)
    requests.set(requestId, { answers: answers.map(owned), index })
    this.#requests++
    this.#evict(requests)
  }

  /** Encodes the table for a snapshot. */
  encode(): Uint8Array {
    let size = 1 + varintSize(this.#sessions.size)
    for (const [id, requests] of this.#sessions) {
      size += prefixedSize(utf8Size(id)) + varintSize(requests.size)
      for (const { answers, index } of requests.values()) {
        size += 8 + varintSize(index) + varintSize(answers.length)
        for (const answer of answers) size += prefixedSize(answer.length)
      }
    }
    const buf = new Uint8Array(size)
    buf[0] = SESSIONS_VERSION
    let pos = writeVarint(buf, 1, this.#sessions.size)
    for (const [id, requests] of this.#sessions) {
      pos = writeString(buf, pos, id, utf8Size(id))
      pos = writeVarint(buf, pos, requests.size)
      for (const [requestId, { answers, index }] of requests) {
        pos = writeU64(buf, pos, requestId)
        pos = writeVarint(buf, pos, index)
        pos = writeVarint(buf, pos, answers.length)
        for (const answer of answers) pos = writeBytes(buf, pos, answer)
      }
    }
    return buf
  }

  /**
   * Decodes a table from {@link encode}'s bytes. With smaller limits than the encoded
   * table's, it trims to them the way `record` evicts: each session's oldest requests
   * beyond `window`, then the least recently recorded sessions beyond `maxSessions`.
   * Answers are copied out of `bytes`.
   *
   * @throws `CodedError` `RONY_ERR_INVALID_SNAPSHOT` naming what is wrong (version,
   *   truncation, malformed UTF-8, a duplicate id, indexes out of order, trailing bytes).
   * @throws RangeError when a limit is not a positive integer.
   */
  static decode(bytes: Uint8Array, limits?: SessionLimits): SessionTable {
    const table = new SessionTable(limits)
    if (!(bytes instanceof Uint8Array)) throw invalidSnapshot('input must be a Uint8Array')
    const reader = new ByteReader(bytes, invalidSnapshot)
    reader.version(SESSIONS_VERSION)
    // Each session, request and answer takes at least a byte: a count above what remains
    // is malformed, and no count can make a loop run longer than the input.
    const sessionCount = reader.uint('session count', reader.remaining)
    for (let s = 0; s < sessionCount; s++) {
      const id = reader.string('session id')
      if (table.#sessions.has(id)) throw invalidSnapshot(`session ${JSON.stringify(id)} twice`)
      const requestCount = reader.uint('request count', reader.remaining)
      if (requestCount === 0) throw invalidSnapshot(`session ${JSON.stringify(id)} is empty`)
      const requests: Session = new Map()
      table.#sessions.set(id, requests)
      let index = 0
      for (let r = 0; r < requestCount; r++) {
        const requestId = reader.u64('requestId')
        if (requests.has(requestId)) {
          throw invalidSnapshot(`request ${requestId} of session ${JSON.stringify(id)} twice`)
        }
        const previous = index
        index = reader.uint('index')
        if (index < previous) {
          throw invalidSnapshot(`session ${JSON.stringify(id)}: index ${index} after ${previous}`)
        }
        const answerCount = reader.uint('answer count', reader.remaining)
        const answers: Uint8Array[] = []
        for (let a = 0; a < answerCount; a++) answers.push(reader.copy('answer'))
        requests.set(requestId, { answers, index })
        table.#requests++
      }
      // Sessions come least recently recorded first: by the index of their last request.
      if (index < table.#lastIndex) {
        throw invalidSnapshot(`session ${JSON.stringify(id)} out of recency order`)
      }
      table.#lastIndex = index
    }
    reader.end()
    for (const requests of table.#sessions.values()) table.#evict(requests)
    return table
  }

  /** Applies both bounds after `requests` (a session) grew. */
  #evict(requests: Session): void {
    const { window, maxSessions } = this.#limits
    // Maps iterate in insertion order: oldest request first, least recent session first.
    if (requests.size > window) {
      for (const requestId of requests.keys()) {
        requests.delete(requestId)
        this.#requests--
        if (requests.size <= window) break
      }
    }
    if (this.#sessions.size > maxSessions) {
      for (const [id, oldest] of this.#sessions) {
        this.#sessions.delete(id)
        this.#requests -= oldest.size
        if (this.#sessions.size <= maxSessions) break
      }
    }
  }
}

/** `bytes` itself when it owns its whole buffer, else a copy that does. */
function owned(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes
  const copy = new Uint8Array(bytes.length)
  copy.set(bytes)
  return copy
}
