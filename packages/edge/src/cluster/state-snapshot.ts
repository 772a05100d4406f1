/**
 * The snapshot of an edge's replicated state: the user's state bytes (from
 * `cluster.state.snapshot()`), the session table and the clock, in one versioned record.
 *
 * Format, version 1 (varints canonical LEB128; `bytes` is a varint length, then the bytes):
 *
 * ```
 * u8     version = 1
 * varint clock      non-negative safe integer (ms)
 * bytes  sessions   SessionTable.encode()
 * bytes  user
 * ```
 *
 * @module
 */

import { CodedError } from '@rony/interface'
import {
  ByteReader,
  isSafeCount,
  prefixedSize,
  varintSize,
  writeBytes,
  writeVarint,
} from './binary.js'

/** The format version this code writes and reads. */
export const STATE_SNAPSHOT_VERSION = 1

/** What a snapshot of the replicated state holds. */
export interface StateSnapshot {
  /** The user's state, as `cluster.state.snapshot()` returned it. */
  readonly user: Uint8Array
  /** The session table, as `SessionTable.encode()` returned it. */
  readonly sessions: Uint8Array
  /** The last stamped time applied (see `nextClock`): a non-negative safe integer, ms. */
  readonly clock: number
}

function invalidSnapshot(detail: string): CodedError<'RONY_ERR_INVALID_SNAPSHOT'> {
  return new CodedError(`state snapshot: ${detail}`, 'RONY_ERR_INVALID_SNAPSHOT')
}

/**
 * Encodes a snapshot of the replicated state.
 *
 * @throws `CodedError` `RONY_ERR_INVALID_SNAPSHOT` naming a field of the wrong type or range.
 */
export function encodeStateSnapshot(snapshot: StateSnapshot): Uint8Array {
  const { user, sessions, clock } = snapshot
  if (!(user instanceof Uint8Array)) throw invalidSnapshot('user state must be a Uint8Array')
  if (!(sessions instanceof Uint8Array)) throw invalidSnapshot('sessions must be a Uint8Array')
  if (!isSafeCount(clock)) {
    throw invalidSnapshot(`clock must be a non-negative safe integer, got ${String(clock)}`)
  }
  const buf = new Uint8Array(
    1 + varintSize(clock) + prefixedSize(sessions.length) + prefixedSize(user.length),
  )
  buf[0] = STATE_SNAPSHOT_VERSION
  writeBytes(buf, writeBytes(buf, writeVarint(buf, 1, clock), sessions), user)
  return buf
}

/**
 * Decodes a snapshot of the replicated state. `user` and `sessions` are views into
 * `bytes`, not copies.
 *
 * @throws `CodedError` `RONY_ERR_INVALID_SNAPSHOT` naming what is wrong (version, a
 *   truncated or out-of-range field, trailing bytes); never anything else.
 */
export function decodeStateSnapshot(bytes: Uint8Array): StateSnapshot {
  if (!(bytes instanceof Uint8Array)) throw invalidSnapshot('input must be a Uint8Array')
  const reader = new ByteReader(bytes, invalidSnapshot)
  reader.version(STATE_SNAPSHOT_VERSION)
  const clock = reader.uint('clock')
  const sessions = reader.view('sessions')
  const user = reader.view('user state')
  reader.end()
  return { user, sessions, clock }
}
