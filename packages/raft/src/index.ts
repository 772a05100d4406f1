/**
 * @packageDocumentation
 *
 * `@rony/raft`: Raft consensus for Node, standalone or under the Rony edge. Leader election
 * with pre-vote and check-quorum, pipelined and batched replication with fast backtracking,
 * ReadIndex reads, leadership transfer, single-server membership changes with learners,
 * snapshots with chunked InstallSnapshot, and a crash-safe segmented WAL with group commit.
 * The protocol is a sans-IO core driven by the node; the network, the disk, the clock and
 * randomness are injected, so the same code runs on TCP and in deterministic simulation.
 *
 * @example
 * ```ts
 * import { raft } from '@rony/raft'
 *
 * const store = new Map<string, string>()
 * const node = raft({
 *   id: 'n1',
 *   bind: '127.0.0.1:9001',
 *   peers: [
 *     { id: 'n2', address: '127.0.0.1:9002' },
 *     { id: 'n3', address: '127.0.0.1:9003' },
 *   ],
 *   bootstrap: true,
 *   dataDir: './data/n1',
 *   stateMachine: {
 *     apply(command) {
 *       const [key, value] = JSON.parse(new TextDecoder().decode(command))
 *       store.set(key, value)
 *     },
 *     snapshot: () => new TextEncoder().encode(JSON.stringify([...store])),
 *     restore(bytes) {
 *       store.clear()
 *       for (const [k, v] of JSON.parse(new TextDecoder().decode(bytes))) store.set(k, v)
 *     },
 *   },
 * })
 * await node.start()
 * // On the leader:
 * await node.propose(new TextEncoder().encode(JSON.stringify(['greeting', 'hello'])))
 * ```
 */

import type { ConsensusFactory } from '@rony/interface'
import { RaftNode } from './node/node.js'
import type { RaftInit, RaftOptions } from './options.js'

export { NotLeaderError, type RaftErrorCode } from './errors.js'
export type { RaftNode } from './node/node.js'
export { RAFT_DEFAULTS, type RaftInit, type RaftOptions } from './options.js'
export {
  DataDirLockedError,
  type StorageErrorCode,
  WalCorruptError,
} from './storage/errors.js'
export { type FileStorageInit, fileStorage } from './storage/file-storage.js'
export { nodeFs, type StorageFile, type StorageFs } from './storage/fs.js'
export { memoryStorage } from './storage/memory-storage.js'
export type {
  Configuration,
  EntryKind,
  HardState,
  LogEntry,
  LogStorage,
  RecoveredState,
  ServerInfo,
  Snapshot,
  SnapshotMeta,
} from './storage/types.js'
export { RaftCodecError } from './transport/codec.js'
export {
  type RaftStreamTransportInit,
  type RaftTransport,
  raftStreamTransport,
} from './transport/stream-transport.js'

/**
 * Creates a standalone Raft server (given `id` and `stateMachine`), or the factory an edge
 * completes with its id, state machine and logger (without them), as in
 * `createEdge({ id, cluster: { consensus: raft({ bind, dataDir }) } })`. Nothing runs until
 * `start()`.
 *
 * @throws TypeError or RangeError for invalid options (the factory: when it is called).
 */
export function raft(init: RaftInit): RaftNode
export function raft(
  init: RaftOptions & { id?: never; stateMachine?: never },
): ConsensusFactory<RaftNode>
export function raft(init: RaftInit | RaftOptions): RaftNode | ConsensusFactory<RaftNode> {
  if ('id' in init || 'stateMachine' in init) return new RaftNode(init as RaftInit)
  return ({ id, stateMachine, logger }) =>
    new RaftNode({ ...init, id, stateMachine, logger: init.logger ?? logger })
}
