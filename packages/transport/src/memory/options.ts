import type { Clock, Random } from '@rony/interface'

/**
 * Options, fault settings and counters of the in-memory network.
 */

/** A delay range, in milliseconds of the network's clock; each delivery draws uniformly in it. */
export interface DelayRange {
  /** Shortest delay, in ms. */
  min: number
  /** Longest delay, in ms (at least `min`). */
  max: number
}

/**
 * Fault settings, for the whole network ({@link MemoryNetwork.configure}) or for one
 * direction of one link ({@link MemoryNetwork.link}, overriding the global ones field by
 * field). Probabilities are in `[0, 1]` and drawn from the network's `random`.
 */
export interface LinkFaults {
  /** Probability that a packet is lost. Packets only: streams are reliable. Default `0`. */
  loss?: number | undefined
  /**
   * Delay of every packet, stream message, stream close/reset and dial, in ms. Streams stay
   * ordered: a message never overtakes an earlier one of the same stream. Default
   * `{ min: 0, max: 0 }` (delivered on the next clock turn, never synchronously).
   */
  delay?: DelayRange | undefined
  /** Probability that a packet is delivered twice (the copy gets its own delay). Default `0`. */
  duplicate?: number | undefined
  /**
   * Probability that a packet is held back by an extra delay of `delay.max + 1` to
   * `2 * (delay.max + 1)` ms, so packets sent after it overtake it. Packets only. Default `0`.
   */
  reorder?: number | undefined
}

/** Options of {@link memoryNetwork}. */
export interface MemoryNetworkInit {
  /**
   * Clock every delivery is scheduled on. Pass a `virtualClock()` for deterministic tests
   * (and drive it with `advanceAsync`). Default `systemClock` (real timers).
   */
  clock?: Clock | undefined
  /** Source of every fault decision. Default `seededRandom(1)`, so runs are reproducible. */
  random?: Random | undefined
  /** Default `maxPacketSize` of packet endpoints, in bytes. Default `1400`. */
  maxPacketSize?: number | undefined
  /** Default `maxMessageSize` of stream endpoints, in bytes. Default `8_388_608` (8 MiB). */
  maxMessageSize?: number | undefined
  /**
   * Per stream direction, bytes sent and not yet read by the remote's iterator above which
   * `send` waits (back pressure). One message is always accepted when nothing is
   * outstanding, whatever its size. Default `1_048_576` (1 MiB).
   */
  streamHighWaterMark?: number | undefined
  /** Default dial timeout of stream endpoints, in ms of the network's clock. Default `10_000`. */
  dialTimeout?: number | undefined
  /** Global fault settings; change them later with `configure`. Default: no faults. */
  faults?: LinkFaults | undefined
}

/** Options of one endpoint; defaults come from the network's init. */
export interface MemoryEndpointInit {
  /** Largest packet, in bytes (packet endpoints). Default: the network's `maxPacketSize`. */
  maxPacketSize?: number | undefined
  /** Largest stream message, in bytes (stream endpoints). Default: the network's. */
  maxMessageSize?: number | undefined
  /** Dial timeout, in ms (stream endpoints). Default: the network's `dialTimeout`. */
  dialTimeout?: number | undefined
}

/** Why a packet (or a stream message) was not delivered. */
export type DropReason =
  | 'loss'
  | 'partition'
  | 'crashed'
  | 'unreachable'
  | 'oversize'
  | 'notStarted'
  | 'noHandler'

/** Counters of a {@link MemoryNetwork}, since creation or the last `resetStats()`. */
export interface NetworkStats {
  packets: {
    /** `send` calls that reached the network (including those then dropped by a fault). */
    sent: number
    /** Packets handed to a handler (duplicates count twice). */
    delivered: number
    /** Extra copies made by the `duplicate` fault. */
    duplicated: number
    /** Packets dropped, by reason. */
    dropped: Record<DropReason, number>
  }
  streams: {
    /** `dial` calls. */
    dials: number
    /** Dials that failed (unreachable, crashed, partitioned, no handler, timeout). */
    dialsFailed: number
    /** Streams aborted by a partition, a crash, a stop or either side's `abort`. */
    aborted: number
    /** Stream messages accepted by `send`. */
    sent: number
    /** Stream messages handed to the remote's buffer. */
    delivered: number
    /** Stream messages that arrived at a stream already closed or aborted. */
    dropped: number
  }
}

export function emptyStats(): NetworkStats {
  return {
    packets: {
      sent: 0,
      delivered: 0,
      duplicated: 0,
      dropped: {
        loss: 0,
        partition: 0,
        crashed: 0,
        unreachable: 0,
        oversize: 0,
        notStarted: 0,
        noHandler: 0,
      },
    },
    streams: { dials: 0, dialsFailed: 0, aborted: 0, sent: 0, delivered: 0, dropped: 0 },
  }
}

export const MEMORY_NETWORK_DEFAULTS = {
  maxPacketSize: 1400,
  maxMessageSize: 8 * 1024 * 1024,
  streamHighWaterMark: 1024 * 1024,
  dialTimeout: 10_000,
} as const

/** Checks a probability or delay setting, so a typo fails loudly instead of silently. */
export function validateFaults(f: LinkFaults): LinkFaults {
  for (const key of ['loss', 'duplicate', 'reorder'] as const) {
    const p = f[key]
    if (p !== undefined && !(p >= 0 && p <= 1)) throw new RangeError(`${key} must be in [0, 1]`)
  }
  const d = f.delay
  if (d !== undefined && !(d.min >= 0 && d.max >= d.min)) {
    throw new RangeError('delay needs 0 <= min <= max')
  }
  return { ...f }
}
