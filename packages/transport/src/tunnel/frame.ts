import { CodedError } from '@rony/interface'

/**
 * The tunnel's frame: `kind (1 byte) ‖ request id (uint32, big-endian) ‖ payload`. The id
 * is the requester's own counter, so a responder keys a request by (peer, id).
 */

/** Bytes before the payload. */
export const FRAME_HEADER_BYTES = 5

export const FrameKind = {
  /** A request; payload: the request bytes. */
  Request: 1,
  /** The handler's response; payload: the response bytes. */
  Response: 2,
  /** The handler threw; payload: its message, UTF-8. */
  RemoteError: 3,
  /** The responder runs `maxConcurrent` handlers already; empty payload. */
  Busy: 4,
  /** The response exceeded the responder's `maxMessageSize`; empty payload. */
  TooLarge: 5,
  /** The requester gave up (timeout, abort): abort the handler's signal; empty payload. */
  Cancel: 6,
} as const

export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind]

export interface Frame {
  readonly kind: FrameKind
  readonly id: number
  readonly payload: Uint8Array
}

export function encodeFrame(kind: FrameKind, id: number, payload?: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + (payload?.byteLength ?? 0))
  out[0] = kind
  new DataView(out.buffer).setUint32(1, id)
  if (payload !== undefined) out.set(payload, FRAME_HEADER_BYTES)
  return out
}

/** @throws CodedError `RONY_ERR_BAD_FRAME` for bytes that are not a tunnel frame. */
export function decodeFrame(bytes: Uint8Array): Frame {
  const kind = bytes[0] ?? 0
  if (
    bytes.byteLength < FRAME_HEADER_BYTES ||
    kind < FrameKind.Request ||
    kind > FrameKind.Cancel
  ) {
    throw new CodedError(
      `not a tunnel frame (${bytes.byteLength} bytes, kind ${kind})`,
      'RONY_ERR_BAD_FRAME',
    )
  }
  const id = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1)
  return { kind: kind as FrameKind, id, payload: bytes.subarray(FRAME_HEADER_BYTES) }
}
