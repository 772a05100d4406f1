import type { Clock, Logger, Random, StreamTransport } from '@rony/interface'
import type { Awareness } from './awareness.js'
import type { Keyring } from './codec/crypto.js'
import type { GossipConfig } from './options.js'
import type { MemberTable } from './state/table.js'
import type { GossipStats } from './stats.js'
import type { Timers } from './timers.js'

/**
 * What the protocol parts (prober, push-pull) share with the component that owns them:
 * configuration, the injected clock and random, state, and the packet sender.
 */
export interface GossipContext {
  readonly cfg: GossipConfig
  readonly clock: Clock
  readonly random: Random
  readonly table: MemberTable
  readonly awareness: Awareness
  readonly timers: Timers
  readonly counters: GossipStats
  readonly log: Logger
  readonly keyring: Keyring | undefined
  readonly streams: StreamTransport
  /** Aborted by `stop()`. */
  readonly signal: AbortSignal
  /** Whether the component runs (events and state changes stop with `stop()`). */
  readonly running: boolean
  /** Sends encoded messages to `to` in one packet, filling the rest with piggybacked gossip. */
  send(to: string, parts: Uint8Array[]): void
  /** A fresh probe sequence number. */
  nextSeq(): number
  /** Sends the local member's alive message, alone, straight to (up to 256) live members. */
  announce(): void
}
