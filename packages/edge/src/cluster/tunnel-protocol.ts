import {
  decodeContainer,
  type Envelope,
  type EnvelopeInit,
  type EnvelopeLimits,
  encodeContainer,
} from '@rony/envelope'
import { CodedError } from '@rony/interface'

/**
 * What edges say to each other over the tunnel. A request is one kind byte and its payload;
 * a response one status byte and its payload.
 *
 * @module
 */

/** A request's kind. */
export const TunnelKind = Object.freeze({
  /** A replicated request for the leader to propose; payload: a command, unstamped. */
  forward: 1,
  /** A request to run here as if a client sent it; payload: its envelope. */
  execute: 2,
  /** Take a server out of the replica set (leader only); payload: its id, UTF-8. */
  remove: 3,
} as const)
export type TunnelKind = (typeof TunnelKind)[keyof typeof TunnelKind]

/** A response's status. */
const ANSWERS = 0
const NOT_LEADER = 1
const DONE = 2
const UNCERTAIN = 3

export type TunnelResponse =
  /** The request's answers (envelopes carrying its request id). */
  | { readonly status: 'answers'; readonly answers: Envelope[] }
  /** The peer is not the leader (any more): ask the current one. Nothing was done. */
  | { readonly status: 'not-leader' }
  /** Done, nothing to answer. */
  | { readonly status: 'done' }
  /**
   * The leader lost its leadership with the request appended (it may yet be applied); a
   * request with a session may go to the next leader.
   */
  | { readonly status: 'uncertain' }

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder('utf-8', { fatal: true })

export function tunnelRequest(kind: TunnelKind, payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === 'string' ? utf8.encode(payload) : payload
  const bytes = new Uint8Array(1 + body.length)
  bytes[0] = kind
  bytes.set(body, 1)
  return bytes
}

/** @throws `CodedError` `RONY_ERR_INVALID_TUNNEL_MESSAGE` for an unknown kind or no bytes. */
export function readTunnelRequest(bytes: Uint8Array): { kind: TunnelKind; payload: Uint8Array } {
  const kind = bytes[0]
  if (kind !== TunnelKind.forward && kind !== TunnelKind.execute && kind !== TunnelKind.remove) {
    throw invalid(`unknown tunnel request kind ${String(kind)}`)
  }
  return { kind, payload: bytes.subarray(1) }
}

/** A `remove` request's server id. */
export function readServerId(payload: Uint8Array): string {
  try {
    const id = fromUtf8.decode(payload)
    if (id.length > 0) return id
  } catch {}
  throw invalid('a remove request without a valid server id')
}

export function answersResponse(answers: readonly EnvelopeInit[]): Uint8Array {
  const container = encodeContainer({ envelopes: answers })
  const bytes = new Uint8Array(1 + container.length)
  bytes[0] = ANSWERS
  bytes.set(container, 1)
  return bytes
}

export const NOT_LEADER_RESPONSE: Uint8Array = Uint8Array.of(NOT_LEADER)
export const DONE_RESPONSE: Uint8Array = Uint8Array.of(DONE)
export const UNCERTAIN_RESPONSE: Uint8Array = Uint8Array.of(UNCERTAIN)

/** @throws `CodedError` `RONY_ERR_INVALID_TUNNEL_MESSAGE` for a response this code does not read. */
export function readTunnelResponse(
  bytes: Uint8Array,
  limits: Readonly<EnvelopeLimits>,
): TunnelResponse {
  switch (bytes[0]) {
    case ANSWERS:
      try {
        return { status: 'answers', answers: decodeContainer(bytes.subarray(1), limits).envelopes }
      } catch (cause) {
        throw invalid('undecodable answers', cause)
      }
    case NOT_LEADER:
      return { status: 'not-leader' }
    case DONE:
      return { status: 'done' }
    case UNCERTAIN:
      return { status: 'uncertain' }
    default:
      throw invalid(`unknown tunnel response status ${String(bytes[0])}`)
  }
}

function invalid(message: string, cause?: unknown): CodedError<'RONY_ERR_INVALID_TUNNEL_MESSAGE'> {
  return new CodedError(`edge tunnel: ${message}`, 'RONY_ERR_INVALID_TUNNEL_MESSAGE', { cause })
}
