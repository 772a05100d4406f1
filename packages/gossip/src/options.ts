import type {
  Clock,
  ComponentLogger,
  PacketTransport,
  Random,
  StreamTransport,
} from '@rony/interface'
import { integerOption } from '@rony/interface'
import type { Keyring } from './codec/crypto.js'
import { checkMeta } from './meta.js'

/**
 * Protocol timing, as hashicorp/memberlist's `DefaultLANConfig`, `DefaultWANConfig` and
 * `DefaultLocalConfig`. All durations in milliseconds.
 */
export interface GossipProfile {
  /** Time between probes of one member (scaled up by local health awareness). */
  probeInterval: number
  /** Time to wait for a direct ack before indirect probes; about the network's 99th percentile RTT. */
  probeTimeout: number
  /** Suspicion timeout multiplier: min timeout = mult × max(1, log10(N)) × probeInterval. */
  suspicionMult: number
  /** Max suspicion timeout = this × the min timeout (Lifeguard shrinks it with confirmations). */
  suspicionMaxTimeoutMult: number
  /** Broadcasts are retransmitted mult × ceil(log10(N + 1)) times (at least 8, or N − 1). */
  retransmitMult: number
  /** Members asked to probe indirectly when a direct probe fails. */
  indirectChecks: number
  /** Time between gossip rounds. */
  gossipInterval: number
  /** Members gossiped to per round. */
  gossipNodes: number
  /** Time between periodic push-pull state syncs over a stream (0 disables). */
  pushPullInterval: number
  /** How long dead members still receive gossip, and are kept before being forgotten. */
  gossipToTheDeadTime: number
  /** Local health awareness: probes slow down by up to this factor. */
  awarenessMaxMultiplier: number
  /** Whether a failed indirect probe is followed by a direct probe over a stream. */
  tcpFallback: boolean
}

/** memberlist's profiles, by name. */
export const PROFILES: Readonly<Record<'lan' | 'wan' | 'local', Readonly<GossipProfile>>> = {
  lan: {
    probeInterval: 1_000,
    probeTimeout: 500,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    retransmitMult: 4,
    indirectChecks: 3,
    gossipInterval: 200,
    gossipNodes: 3,
    pushPullInterval: 30_000,
    gossipToTheDeadTime: 30_000,
    awarenessMaxMultiplier: 8,
    tcpFallback: true,
  },
  wan: {
    probeInterval: 5_000,
    probeTimeout: 3_000,
    suspicionMult: 6,
    suspicionMaxTimeoutMult: 6,
    retransmitMult: 4,
    indirectChecks: 3,
    gossipInterval: 500,
    gossipNodes: 4,
    pushPullInterval: 60_000,
    gossipToTheDeadTime: 60_000,
    awarenessMaxMultiplier: 8,
    tcpFallback: true,
  },
  local: {
    probeInterval: 1_000,
    probeTimeout: 200,
    suspicionMult: 3,
    suspicionMaxTimeoutMult: 6,
    retransmitMult: 2,
    indirectChecks: 3,
    gossipInterval: 100,
    gossipNodes: 3,
    pushPullInterval: 15_000,
    gossipToTheDeadTime: 15_000,
    awarenessMaxMultiplier: 8,
    tcpFallback: true,
  },
}

/** The two transports gossip runs on. */
export interface GossipTransports {
  /** Unreliable datagrams (UDP): probes, acks, gossip. */
  packet: PacketTransport
  /** Reliable streams (TCP): push-pull state sync, join, fallback probes. */
  stream: StreamTransport
}

/** Options of {@link gossip}. */
export interface GossipInit extends Partial<GossipProfile> {
  /** Node id, unique in the cluster and stable across restarts. Required. */
  id: string
  /**
   * Address to bind the default UDP and TCP transports to, `host:port`. Default
   * `'0.0.0.0:7946'`. Ignored when both transports are given.
   */
  bind?: string | undefined
  /**
   * Address other members reach this node at, when it differs from the transport's bound
   * address (NAT, containers). Default: the packet transport's `address`.
   */
  advertise?: string | undefined
  /** Addresses of members to join through on `start()`. Default `[]` (a new cluster). */
  seeds?: readonly string[] | undefined
  /**
   * Initial metadata of the local member: a plain object of string keys and values, at most
   * `maxMetaBytes` encoded. Default `{}`.
   */
  meta?: Readonly<Record<string, string>> | undefined
  /** Timing profile; individual fields above override it. Default `'lan'`. */
  profile?: 'lan' | 'wan' | 'local' | undefined
  /** AES-256-GCM keys; when set, every packet is sealed and plaintext is refused. Default none. */
  keyring?: Keyring | undefined
  /**
   * The network: datagrams for probes and gossip, streams for push-pull and fallback probes
   * (for tests, `{ packet: net.packet(addr), stream: net.stream(addr) }` of a memory network).
   * Both are started and stopped with the component. Default `udpTransport({ bind })` and
   * `tcpTransport({ bind })` from `@rony/transport`.
   */
  transport?: GossipTransports | undefined
  /** Time source and timers. Default the system clock. */
  clock?: Clock | undefined
  /** Randomness for probe order, gossip targets and jitter. Default `Math.random`. */
  random?: Random | undefined
  /** Logger factory; the component logs as `rony:gossip:<id>`. Default silent. */
  logger?: ComponentLogger | undefined
  /** Largest encoded metadata, in bytes. Default 512 (memberlist's limit). */
  maxMetaBytes?: number | undefined
  /** Largest push-pull member count accepted from a peer. Default 10 000. */
  maxPushPullNodes?: number | undefined
  /**
   * How long a failed member's address is kept, in ms, to retry a push-pull with it so that
   * both sides of a healed partition merge back (as serf's reconnector). Default 24 h.
   */
  reconnectTimeout?: number | undefined
  /** Time between reconnect tries (one random failed member each), in ms. Default `pushPullInterval`. */
  reconnectInterval?: number | undefined
  /**
   * Time between retries of the seeds that are not live members, in ms (plus up to 25%
   * jitter): each is one push-pull join with one such seed, so that two clusters formed on
   * both sides of a partition (as members that left and restarted behind it) merge once it
   * heals (as Consul's `retry_join`, kept up after the join). No traffic while every seed is
   * a live member. Default `pushPullInterval` (30 000 lan, 60 000 wan, 15 000 local).
   */
  rejoinInterval?: number | undefined
  /** Longest wait of `leave()` for the leave to spread. Default 5 000 ms. */
  leaveTimeout?: number | undefined
  /** Longest wait for a push-pull exchange or stream probe. Default 10 000 ms. */
  streamTimeout?: number | undefined
}

/** Fully resolved options. */
export interface GossipConfig extends GossipProfile {
  id: string
  bind: string
  advertise: string | undefined
  seeds: readonly string[]
  meta: Readonly<Record<string, string>>
  maxMetaBytes: number
  maxPushPullNodes: number
  reconnectTimeout: number
  reconnectInterval: number
  rejoinInterval: number
  leaveTimeout: number
  streamTimeout: number
}

/** Merges options with the profile's defaults (never mutates `init`). */
export function resolveConfig(init: GossipInit): GossipConfig {
  if (typeof init.id !== 'string' || init.id === '') {
    throw new TypeError(`gossip: id must be a non-empty string, got ${String(init.id)}`)
  }
  const profileName = init.profile ?? 'lan'
  if (!Object.hasOwn(PROFILES, profileName)) {
    throw new TypeError(
      `gossip: profile must be one of ${Object.keys(PROFILES).join(', ')}, got ${String(profileName)}`,
    )
  }
  const profile = PROFILES[profileName]
  const base: GossipProfile = { ...profile }
  for (const key of Object.keys(profile) as (keyof GossipProfile)[]) {
    const v = init[key]
    if (v === undefined) continue
    if (typeof profile[key] === 'boolean') {
      if (typeof v !== 'boolean') throw new TypeError(`gossip: ${key} must be a boolean`)
    } else {
      integerOption(key, v as number, 1)
    }
    ;(base as unknown as Record<string, unknown>)[key] = v
  }
  if (base.probeTimeout > base.probeInterval) {
    throw new RangeError(
      `gossip: probeTimeout (${base.probeTimeout} ms) must not exceed probeInterval (${base.probeInterval} ms)`,
    )
  }
  for (const key of [
    'maxMetaBytes',
    'maxPushPullNodes',
    'reconnectTimeout',
    'reconnectInterval',
    'rejoinInterval',
    'leaveTimeout',
    'streamTimeout',
  ] as const) {
    const v = init[key]
    if (v !== undefined) integerOption(key, v, 1)
  }
  const maxMetaBytes = init.maxMetaBytes ?? 512
  return {
    ...base,
    id: init.id,
    bind: init.bind ?? '0.0.0.0:7946',
    advertise: init.advertise,
    seeds: [...(init.seeds ?? [])],
    meta: checkMeta(init.meta === undefined ? {} : init.meta, maxMetaBytes),
    maxMetaBytes,
    maxPushPullNodes: init.maxPushPullNodes ?? 10_000,
    reconnectTimeout: init.reconnectTimeout ?? 24 * 3_600_000,
    reconnectInterval: init.reconnectInterval ?? base.pushPullInterval,
    rejoinInterval: init.rejoinInterval ?? base.pushPullInterval,
    leaveTimeout: init.leaveTimeout ?? 5_000,
    streamTimeout: init.streamTimeout ?? 10_000,
  }
}

/**
 * Fewest transmissions of a broadcast by each member (or `n - 1`, every other member, when
 * fewer). memberlist's `mult × ceil(log10(n + 1))` alone is 4 below 100 members with the local
 * profile (mult 2): each member then missed about 1 broadcast in 100 (a 12-member cluster,
 * 12 of 100 seeds; 67 of 100 at 50 members), and a member that misses a refutation declares
 * a live member dead. With 8 (lan's own limit from 10 to 99 members) and gossip targets in
 * round-robin, 0 of 1,000 (test/delivery.spec.ts).
 */
export const RETRANSMIT_FLOOR = 8

/**
 * Retransmit limit of a broadcast in a cluster of `n` members: mult × ceil(log10(n + 1)),
 * and at least {@link RETRANSMIT_FLOOR} (or `n - 1`).
 */
export function retransmitLimit(mult: number, n: number): number {
  const floor = Math.min(RETRANSMIT_FLOOR, n - 1)
  return Math.max(floor, mult * Math.ceil(Math.log10(n + 1)))
}

/** Lifeguard's minimum suspicion timeout: mult × max(1, log10(n)) × interval. */
export function suspicionTimeout(mult: number, n: number, interval: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)))
  return Math.floor(mult * nodeScale * interval)
}

/** memberlist's push-pull interval scaling: slower beyond 32 members. */
export function pushPullScale(interval: number, n: number): number {
  if (n <= 32) return interval
  const mult = Math.ceil(Math.log2(n) - Math.log2(32)) + 1
  return interval * mult
}
