/**
 * The storage contract of a Raft node lives in `@rony/interface` (with the other contracts,
 * so that `@rony/testing/storage` can test any storage without depending on this package);
 * re-exported here under the names the node uses.
 */

export type {
  ClusterConfiguration as Configuration,
  EntryKind,
  HardState,
  LogEntry,
  LogStorage,
  RecoveredState,
  ServerInfo,
  Snapshot,
  SnapshotMeta,
} from '@rony/interface'
