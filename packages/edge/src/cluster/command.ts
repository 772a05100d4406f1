/**
 * The Raft command of a `replicated` handler: the request envelope plus what every replica
 * needs to run the handler the same way (the leader's time and random seed) and what the
 * origin needs to answer (its server id and the waiting request's token). The leader
 * encodes it once; every replica decodes it from the log.
 *
 * Format, version 1 (varints are canonical LEB128; `str` and `bytes` are a varint length,
 * then the bytes):
 *
 * ```
 * u8      version = 1
 * bytes   envelope
 * str     origin
 * varint  token          uint32
 * str     gateway
 * varint  session        0 = none, else the session's UTF-8 length + 1, then its bytes
 * u64le   requestId
 * varint  now            non-negative safe integer (ms)
 * u32le×4 seed
 * ```
 *
 * @module
 */

import { CodedError } from '@rony/interface'
import {
  ByteReader,
  isSafeCount,
  isU32,
  isU64,
  prefixedSize,
  U32_MAX,
  utf8Size,
  varintSize,
  writeBytes,
  writeString,
  writeU32,
  writeU64,
  writeUtf8,
  writeVarint,
} from './binary.js'

/** The format version this code writes and reads. */
export const COMMAND_VERSION = 1

/** One replicated request, as the leader appends it to the Raft log. */
export interface ReplicatedCommand {
  /** The request `MessageEnvelope` as binary protobuf (auth and headers inside). */
  readonly envelope: Uint8Array
  /** Server id of the edge the client is connected to: only it answers. */
  readonly origin: string
  /** Origin-local id of the waiting request: a uint32, 0 for none. */
  readonly token: number
  /** Name of the gateway the request came through. */
  readonly gateway: string
  /** The client's session id (the envelope's `rony-session` header), if it has one. */
  readonly session: string | undefined
  /** The envelope's request id (uint64), repeated so deduplication needs no envelope decode. */
  readonly requestId: bigint
  /** The leader's `Date.now()` when it stamped the command: a non-negative safe integer, ms. */
  readonly now: number
  /** 128-bit random seed as four uint32, drawn by the leader. */
  readonly seed: readonly [number, number, number, number]
}

function invalidCommand(detail: string): CodedError<'RONY_ERR_INVALID_COMMAND'> {
  return new CodedError(`replicated command: ${detail}`, 'RONY_ERR_INVALID_COMMAND')
}

/**
 * Encodes a command for the Raft log. Strings are written as UTF-8 (a surrogate without
 * its pair becomes U+FFFD, as TextEncoder writes it).
 *
 * @returns A new buffer of exactly the encoded size.
 * @throws `CodedError` `RONY_ERR_INVALID_COMMAND` naming a field of the wrong type or range.
 */
export function encodeCommand(command: ReplicatedCommand): Uint8Array {
  const { envelope, origin, token, gateway, session, requestId, now, seed } = command
  if (!(envelope instanceof Uint8Array)) throw invalidCommand('envelope must be a Uint8Array')
  if (typeof origin !== 'string') throw invalidCommand('origin must be a string')
  if (!isU32(token)) throw invalidCommand(`token must be a uint32, got ${String(token)}`)
  if (typeof gateway !== 'string') throw invalidCommand('gateway must be a string')
  if (session !== undefined && typeof session !== 'string') {
    throw invalidCommand('session must be a string or undefined')
  }
  if (!isU64(requestId)) {
    throw invalidCommand(`requestId must be a bigint in [0, 2^64), got ${String(requestId)}`)
  }
  if (!isSafeCount(now)) {
    throw invalidCommand(`now must be a non-negative safe integer, got ${String(now)}`)
  }
  if (!Array.isArray(seed) || seed.length !== 4 || !seed.every(isU32)) {
    throw invalidCommand('seed must be four uint32')
  }
  const originSize = utf8Size(origin)
  const gatewaySize = utf8Size(gateway)
  const sessionSize = session === undefined ? -1 : utf8Size(session)
  const size =
    1 +
    prefixedSize(envelope.length) +
    prefixedSize(originSize) +
    varintSize(token) +
    prefixedSize(gatewaySize) +
    varintSize(sessionSize + 1) +
    Math.max(sessionSize, 0) +
    8 +
    varintSize(now) +
    16
  const buf = new Uint8Array(size)
  buf[0] = COMMAND_VERSION
  let pos = writeBytes(buf, 1, envelope)
  pos = writeString(buf, pos, origin, originSize)
  pos = writeVarint(buf, pos, token)
  pos = writeString(buf, pos, gateway, gatewaySize)
  pos = writeVarint(buf, pos, sessionSize + 1)
  if (session !== undefined) pos = writeUtf8(buf, pos, session, sessionSize)
  pos = writeU64(buf, pos, requestId)
  pos = writeVarint(buf, pos, now)
  for (const word of seed) pos = writeU32(buf, pos, word)
  return buf
}

/**
 * Decodes a command from the Raft log. `envelope` is a view into `bytes`, not a copy.
 *
 * @throws `CodedError` `RONY_ERR_INVALID_COMMAND` naming what is wrong (version, a
 *   truncated or out-of-range field, malformed UTF-8, trailing bytes); never anything else.
 */
export function decodeCommand(bytes: Uint8Array): ReplicatedCommand {
  if (!(bytes instanceof Uint8Array)) throw invalidCommand('input must be a Uint8Array')
  const reader = new ByteReader(bytes, invalidCommand)
  reader.version(COMMAND_VERSION)
  const envelope = reader.view('envelope')
  const origin = reader.string('origin')
  const token = reader.uint('token', U32_MAX)
  const gateway = reader.string('gateway')
  const sessionTag = reader.uint('session length', reader.remaining + 1)
  const session = sessionTag === 0 ? undefined : reader.stringOf('session', sessionTag - 1)
  const requestId = reader.u64('requestId')
  const now = reader.uint('now')
  const seed = [
    reader.u32('seed'),
    reader.u32('seed'),
    reader.u32('seed'),
    reader.u32('seed'),
  ] as const
  reader.end()
  return { envelope, origin, token, gateway, session, requestId, now, seed }
}
