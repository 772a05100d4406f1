/** Why an inbound packet or stream message was dropped. */
export type DropReason =
  /** Larger than the transport's packet size, or metadata above the limit. */
  | 'oversized'
  /** Too short to hold its framing. */
  | 'truncated'
  /** Not a valid protobuf `Compound`, or a message with missing required fields. */
  | 'malformed'
  /** An unknown framing version byte. */
  | 'version'
  /** Plaintext while a keyring is set. */
  | 'unencrypted'
  /** Sealed while no keyring is set. */
  | 'encrypted'
  /** Sealed with no installed key, or tampered with. */
  | 'decrypt'
  /** A user broadcast already delivered (a replay or a second copy). */
  | 'duplicate'
  /** An ack or nack for no pending probe (late or replayed), or a ping for another node. */
  | 'unexpected'
  /** An incarnation above 2^53 - 1, or a suspect or dead at 2^53 - 1 (it could not be refuted). */
  | 'incarnation'

/** Counters of one gossip instance, since it was created. */
export interface GossipStats {
  /** Packets handed to the packet transport, and their bytes. */
  packetsSent: number
  bytesSent: number
  /** Packets received, and their bytes (dropped ones included). */
  packetsReceived: number
  bytesReceived: number
  /** Inbound packets, stream messages or messages within them dropped, by reason. */
  dropped: Record<DropReason, number>
  /** Probes started, and those that ended with a suspicion. */
  probes: number
  probesFailed: number
  /** Indirect probes requested, and stream (TCP) fallback probes that succeeded. */
  indirectProbes: number
  fallbackProbes: number
  /** Push-pull exchanges completed, and those that failed. */
  pushPulls: number
  pushPullsFailed: number
  /** Lifeguard health score (0 is healthy). */
  healthScore: number
  /** Messages waiting to be piggybacked. */
  queued: number
}

/** Zeroed counters. */
export function emptyStats(): GossipStats {
  return {
    packetsSent: 0,
    bytesSent: 0,
    packetsReceived: 0,
    bytesReceived: 0,
    dropped: {
      oversized: 0,
      truncated: 0,
      malformed: 0,
      version: 0,
      unencrypted: 0,
      encrypted: 0,
      decrypt: 0,
      duplicate: 0,
      unexpected: 0,
      incarnation: 0,
    },
    probes: 0,
    probesFailed: 0,
    indirectProbes: 0,
    fallbackProbes: 0,
    pushPulls: 0,
    pushPullsFailed: 0,
    healthScore: 0,
    queued: 0,
  }
}
