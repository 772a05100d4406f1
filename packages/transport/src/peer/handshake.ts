/**
 * The first frame of every connection a peer link dials: it names the dialing node and the
 * node it means to reach, so the accepting side can file the connection under the right
 * peer (on TCP the remote address is an ephemeral port, not an identity) and refuse one
 * meant for a node that used to listen at this address.
 */

/** Who dialed a connection, and whom it is for. */
export interface PeerHello {
  readonly from: string
  readonly to: string
}

/**
 * Encodes and recognises the hello frame. {@link peerHandshake} is the default; a protocol
 * with a wire format of its own (Raft's hello is a Raft message) supplies its own codec.
 */
export interface PeerHandshake {
  /** The hello `from` sends first on a connection it dialed to reach `to`. */
  encode(from: string, to: string): Uint8Array
  /**
   * The hello in a connection's first frame, or `undefined` when the frame is not one (the
   * connection is then refused). Bytes from the network: it must not throw (a throw is
   * treated as `undefined`).
   */
  decode(frame: Uint8Array): PeerHello | undefined
}

/** Longest protocol name or node id the default hello carries, in UTF-8 bytes. */
export const MAX_HELLO_FIELD_BYTES = 255

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

function field(value: string, what: string): Uint8Array {
  const bytes = encoder.encode(value)
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_HELLO_FIELD_BYTES) {
    throw new RangeError(`${what} must be 1 to ${MAX_HELLO_FIELD_BYTES} bytes of UTF-8`)
  }
  return bytes
}

/**
 * The default hello: `len ‖ protocol ‖ len ‖ from ‖ len ‖ to`, each a one-byte length and
 * 1–255 bytes of UTF-8. A hello of another protocol is refused, so a node that dials the
 * wrong port of a peer (its Raft port instead of its tunnel port) is told apart at once.
 *
 * @param protocol - Names the link's user and version, such as `'rony-tunnel/1'`.
 *   Default `'rony-peer/1'`.
 * @throws RangeError when `protocol` is empty or longer than 255 bytes; `encode` throws it
 *   for such ids too.
 */
export function peerHandshake(protocol = 'rony-peer/1'): PeerHandshake {
  const tag = field(protocol, 'protocol')
  return {
    encode(from, to) {
      const parts = [tag, field(from, 'from'), field(to, 'to')]
      const out = new Uint8Array(parts.reduce((n, p) => n + 1 + p.byteLength, 0))
      let pos = 0
      for (const part of parts) {
        out[pos++] = part.byteLength
        out.set(part, pos)
        pos += part.byteLength
      }
      return out
    },
    decode(frame) {
      const parts: string[] = []
      let pos = 0
      while (parts.length < 3) {
        const length = frame[pos] ?? 0
        if (length === 0 || pos + 1 + length > frame.byteLength) return undefined
        try {
          parts.push(decoder.decode(frame.subarray(pos + 1, pos + 1 + length)))
        } catch {
          return undefined // not UTF-8
        }
        pos += 1 + length
      }
      if (pos !== frame.byteLength || parts[0] !== protocol) return undefined
      return { from: parts[1] as string, to: parts[2] as string }
    },
  }
}
