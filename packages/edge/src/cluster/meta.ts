import { CodedError, type RaftRole } from '@rony/interface'

/**
 * What one edge tells the cluster about itself through the membership's metadata. The
 * edge's server id is the member id, so it is not repeated here.
 */
export interface EdgeMeta {
  /** The replica set this edge serves: a non-negative safe integer. */
  readonly replicaSet: number
  /** Addresses clients dial (gateway URLs or multiaddrs), without whitespace. */
  readonly gateways: readonly string[]
  /** Address of this edge's Raft transport; absent when it runs no consensus. */
  readonly raft?: string | undefined
  /** Address of this edge's inter-node tunnel; absent when it has none. */
  readonly tunnel?: string | undefined
  /** This edge's Raft role. */
  readonly role: RaftRole
  /** The leader this edge knows of (a server id); absent when it knows none. */
  readonly leader?: string | undefined
  /** This edge's current Raft term: a non-negative safe integer. */
  readonly term: number
}

/**
 * Version of the metadata format, under {@link EDGE_META_KEYS}`.version`. A reader accepts
 * exactly this version and ignores keys it does not know, so a later release may add keys
 * without changing it; it changes only when a key changes meaning.
 */
export const EDGE_META_VERSION = '1'

/** The metadata keys, short because metadata rides in every membership packet about us. */
export const EDGE_META_KEYS = Object.freeze({
  version: 'rony',
  replicaSet: 'rs',
  gateways: 'gw',
  raft: 'raft',
  tunnel: 'tun',
  role: 'role',
  leader: 'ldr',
  term: 'term',
} as const)

/**
 * Default bound on the encoded metadata, in bytes: gossip's default `maxMetaBytes` (512,
 * memberlist's) less 64 for keys a later version adds. An IPv6 edge with a ws, an http and
 * a QUIC gateway and its Raft and tunnel addresses takes about 430.
 */
export const DEFAULT_EDGE_META_BYTES = 448

/** Separates gateway addresses in one value; URLs and multiaddrs never contain it. */
const GATEWAY_SEPARATOR = ' '

const ROLES: ReadonlySet<string> = new Set<RaftRole>(['follower', 'candidate', 'leader', 'learner'])

/** A decimal non-negative integer without leading zeros. */
const DECIMAL = /^(?:0|[1-9][0-9]*)$/

/** Whitespace (not allowed in an address) or a surrogate without its pair (not UTF-8). */
const BAD_ADDRESS = /[\s\p{Cs}]/u
const LONE_SURROGATE = /\p{Cs}/u

/** Why a member's metadata is not read as an edge's. */
export type IgnoreReason =
  /** No version key: a plain membership node (or an edge that has not published yet). */
  | 'not-an-edge'
  /** A format version this code does not read (an older or newer release). */
  | 'version'
  /** The right version, but a value is missing or malformed. */
  | 'invalid'

/** The outcome of {@link decodeEdgeMeta}. */
export type DecodedMeta =
  | { readonly ok: true; readonly meta: EdgeMeta }
  | { readonly ok: false; readonly reason: IgnoreReason; readonly detail: string }

function invalid(message: string): CodedError<'RONY_ERR_INVALID_META'> {
  return new CodedError(`edge cluster: ${message}`, 'RONY_ERR_INVALID_META')
}

/**
 * Encodes an edge's record as membership metadata.
 *
 * @param meta - The record to publish.
 * @param maxBytes - Bound on the encoded size (as the membership measures it), in bytes.
 * @returns String keys and values, in a fixed key order.
 * @throws `CodedError` `RONY_ERR_INVALID_META` naming the bad field, or
 *   `RONY_ERR_MESSAGE_TOO_LARGE` when the encoding exceeds `maxBytes`.
 */
export function encodeEdgeMeta(
  meta: EdgeMeta,
  maxBytes = DEFAULT_EDGE_META_BYTES,
): Record<string, string> {
  const k = EDGE_META_KEYS
  const out: Record<string, string> = {
    [k.version]: EDGE_META_VERSION,
    [k.replicaSet]: encodeCount(meta.replicaSet, 'replicaSet'),
    [k.gateways]: encodeGateways(meta.gateways),
    [k.role]: encodeRole(meta.role),
    [k.term]: encodeCount(meta.term, 'term'),
  }
  if (meta.raft !== undefined) out[k.raft] = encodeAddress(meta.raft, 'raft')
  if (meta.tunnel !== undefined) out[k.tunnel] = encodeAddress(meta.tunnel, 'tunnel')
  if (meta.leader !== undefined) out[k.leader] = encodeId(meta.leader, 'leader')
  const size = metaBytes(out)
  if (size > maxBytes) {
    throw new CodedError(
      `edge cluster: metadata is ${size} bytes encoded, above the ${maxBytes}-byte bound`,
      'RONY_ERR_MESSAGE_TOO_LARGE',
    )
  }
  return out
}

/**
 * Reads an edge's record from a member's metadata. Never throws: metadata comes from the
 * network, and a member that is not a readable edge is ignored, not an error.
 */
export function decodeEdgeMeta(meta: Readonly<Record<string, string>>): DecodedMeta {
  const k = EDGE_META_KEYS
  const version = own(meta, k.version)
  if (version === undefined) return ignore('not-an-edge', `no "${k.version}" key`)
  if (version !== EDGE_META_VERSION) {
    return ignore('version', `format version ${JSON.stringify(version)}, not ${EDGE_META_VERSION}`)
  }
  const replicaSet = decodeCount(own(meta, k.replicaSet))
  const term = decodeCount(own(meta, k.term))
  const role = own(meta, k.role)
  const gateways = decodeGateways(own(meta, k.gateways))
  const raft = own(meta, k.raft)
  const tunnel = own(meta, k.tunnel)
  const leader = own(meta, k.leader)
  if (replicaSet === undefined) return ignore('invalid', `bad or missing "${k.replicaSet}"`)
  if (term === undefined) return ignore('invalid', `bad or missing "${k.term}"`)
  if (role === undefined || !ROLES.has(role)) return ignore('invalid', `bad "${k.role}"`)
  if (gateways === undefined) return ignore('invalid', `bad or missing "${k.gateways}"`)
  if (raft !== undefined && !isAddress(raft)) return ignore('invalid', `bad "${k.raft}"`)
  if (tunnel !== undefined && !isAddress(tunnel)) return ignore('invalid', `bad "${k.tunnel}"`)
  if (leader === '') return ignore('invalid', `empty "${k.leader}"`)
  return {
    ok: true,
    meta: Object.freeze({
      replicaSet,
      gateways: Object.freeze(gateways),
      raft,
      tunnel,
      role: role as RaftRole,
      leader,
      term,
    }),
  }
}

/**
 * Encoded size of metadata as a protobuf `map<string, string>` (gossip's `Meta`): per entry a
 * tag and a length, then the key and the value each with a tag and a length. An upper bound
 * if an encoder leaves empty values out.
 */
export function metaBytes(meta: Readonly<Record<string, string>>): number {
  let size = 0
  for (const [key, value] of Object.entries(meta)) {
    const k = utf8Length(key)
    const v = utf8Length(value)
    const entry = 1 + varintLength(k) + k + 1 + varintLength(v) + v
    size += 1 + varintLength(entry) + entry
  }
  return size
}

function ignore(reason: IgnoreReason, detail: string): DecodedMeta {
  return { ok: false, reason, detail }
}

/** Own string property only: metadata is a plain record, never read through its prototype. */
function own(meta: Readonly<Record<string, string>>, key: string): string | undefined {
  if (!Object.hasOwn(meta, key)) return undefined
  const value = meta[key]
  return typeof value === 'string' ? value : undefined
}

function encodeCount(n: number, field: string): string {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw invalid(`${field} must be a non-negative safe integer, got ${String(n)}`)
  }
  return String(n)
}

function decodeCount(s: string | undefined): number | undefined {
  if (s === undefined || !DECIMAL.test(s)) return undefined
  const n = Number(s)
  return Number.isSafeInteger(n) ? n : undefined
}

function encodeRole(role: RaftRole): string {
  if (!ROLES.has(role)) throw invalid(`unknown Raft role ${JSON.stringify(role)}`)
  return role
}

function encodeAddress(address: string, field: string): string {
  if (typeof address !== 'string' || !isAddress(address)) {
    throw invalid(`${field} address ${JSON.stringify(address)} is empty or has whitespace`)
  }
  return address
}

function encodeId(id: string, field: string): string {
  if (typeof id !== 'string' || id === '' || LONE_SURROGATE.test(id)) {
    throw invalid(`${field} must be a non-empty, well-formed string`)
  }
  return id
}

function encodeGateways(gateways: readonly string[]): string {
  if (!Array.isArray(gateways)) throw invalid('gateways must be an array of addresses')
  return gateways.map((g) => encodeAddress(g, 'gateway')).join(GATEWAY_SEPARATOR)
}

function decodeGateways(s: string | undefined): string[] | undefined {
  if (s === undefined) return undefined
  if (s === '') return []
  const gateways = s.split(GATEWAY_SEPARATOR)
  return gateways.every(isAddress) ? gateways : undefined
}

function isAddress(s: string): boolean {
  return s !== '' && !BAD_ADDRESS.test(s)
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

function varintLength(n: number): number {
  let bytes = 1
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) bytes++
  return bytes
}
