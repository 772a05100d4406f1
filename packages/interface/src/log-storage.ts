/**
 * The storage contract of a Raft node (`@rony/raft` implements it with `memoryStorage()` and
 * `fileStorage()`; `@rony/testing/storage` holds its compliance suite): what must be durable before the node acknowledges
 * anything (term and vote before a vote or an append is answered; log entries before they
 * are acknowledged or counted), and what it reads back after a crash. The node keeps the
 * log after the latest snapshot in memory; storage is written through and read only by
 * `open()`.
 *
 * @module
 */

/** A server of the cluster configuration. */
export interface ServerInfo {
  readonly id: string
  readonly address: string
}

/** Who votes and who only replicates: the configuration a snapshot records. */
export interface ClusterConfiguration {
  readonly voters: readonly ServerInfo[]
  readonly learners: readonly ServerInfo[]
}

/** What a log entry carries: a user command, a configuration change, or the leader's no-op of its term. */
export type EntryKind = 'command' | 'configuration' | 'noop'

/** One entry of the replicated log. */
export interface LogEntry {
  /** 1-based position in the log. */
  readonly index: number
  readonly term: number
  readonly kind: EntryKind
  /** The command's bytes; for 'configuration', the encoded {@link ClusterConfiguration}; empty for 'noop'. */
  readonly data: Uint8Array
}

/** The state Raft requires on stable storage besides the log. */
export interface HardState {
  readonly term: number
  /** The candidate voted for in `term`, if any. */
  readonly votedFor: string | undefined
}

/** What a snapshot covers. */
export interface SnapshotMeta {
  /** The last log index the snapshot covers. */
  readonly index: number
  /** The term of that entry. */
  readonly term: number
  /** The configuration in force at `index`. */
  readonly configuration: ClusterConfiguration
}

/** The state machine's state as of `meta.index`, with what it covers. */
export interface Snapshot {
  readonly meta: SnapshotMeta
  readonly data: Uint8Array
}

/** What `open()` recovers. */
export interface RecoveredState {
  /** `{ term: 0, votedFor: undefined }` for a fresh node. */
  readonly hardState: HardState
  /** The latest durable snapshot, if any. */
  readonly snapshot: Snapshot | undefined
  /**
   * The durable log entries after the snapshot (or from index 1), contiguous and in order;
   * entries at or below the snapshot's index are never returned.
   */
  readonly entries: readonly LogEntry[]
}

/**
 * Durable storage for one node. Operations take effect in call order; a returned promise
 * resolves only once the operation is durable (fdatasync'd), and operations issued while a
 * sync is in flight share the next one (group commit). A rejected promise means the storage
 * is broken: the node stops rather than continue without durability.
 */
export interface LogStorage {
  /** Opens (creating if needed) and recovers. Call once, before anything else. */
  open(): Promise<RecoveredState>
  /** Persists term and vote. */
  setHardState(state: HardState): Promise<void>
  /**
   * Appends contiguous entries. When `entries[0].index` is at or below the last stored
   * index, the stored entries from that index on are discarded first (a follower's log
   * conflict). `entries[0].index` is never above last index + 1, nor at or below the
   * snapshot's index.
   */
  append(entries: readonly LogEntry[]): Promise<void>
  /**
   * Persists a snapshot. Log entries at or below `meta.index` are dropped; when the log does
   * not hold `meta.index` with `meta.term` (a snapshot from the leader that replaces a
   * divergent or short log), every entry is dropped.
   */
  saveSnapshot(snapshot: Snapshot): Promise<void>
  /** Closes files; pending operations finish first. Further calls reject. */
  close(): Promise<void>
}
