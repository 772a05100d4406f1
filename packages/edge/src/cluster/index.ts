/**
 * The edge's view of its cluster. Every edge publishes a small record through the
 * membership's metadata (gossip): its replica set, gateway, Raft and tunnel addresses, and
 * its Raft role, leader and term. The {@link Directory} reads every member's record into a
 * view by server id and by replica set, and works out each set's leader, so any edge can
 * route to any set. It talks only to the `Membership` contract of `@rony/interface`.
 *
 * @module
 */

export {
  Directory,
  type DirectoryEvents,
  type DirectoryInit,
} from './directory.js'
export { edgesAnswer, type ReplicaSetKey } from './edges.js'
export { type ClusterMember, type LeaderView, leaderOf } from './member.js'
export {
  DEFAULT_EDGE_META_BYTES,
  type DecodedMeta,
  decodeEdgeMeta,
  EDGE_META_KEYS,
  EDGE_META_VERSION,
  type EdgeMeta,
  encodeEdgeMeta,
  type IgnoreReason,
  metaBytes,
} from './meta.js'
