/**
 * `fileStorage(dir)`: the durable {@link LogStorage}, a segmented write-ahead log plus
 * snapshot files in one directory.
 *
 * The directory holds:
 *
 * - `<seq>.wal`: WAL segments (16 hex digits), each up to about `segmentBytes`;
 * - `snapshot-<index>-<term>.snap`: the latest snapshot (older ones are deleted once a newer
 *   one is durable);
 * - `wal.head`: the newest segment whose start is durable, so that recovery notices a
 *   newest segment that went missing (see `wal-head.ts`);
 * - `*.tmp`: a file being replaced (a snapshot, the head); one left by a crash is deleted
 *   on open;
 * - `LOCK`: the pid and hostname of the process that has the directory open. `open()`
 *   refuses with `RONY_ERR_DATA_DIR_LOCKED` while a live process (or another storage in
 *   this one) holds it, takes over one whose process is dead, and `close()` removes it.
 *
 * @module
 */

import { resolve } from 'node:path'
import { type ComponentLogger, disabledLogger, isCodedError, type Logger } from '@rony/interface'
import { notOpen, storageFailed } from './errors.js'
import { nodeFs, type StorageFs } from './fs.js'
import type { HardState, LogEntry, LogStorage, RecoveredState, Snapshot } from './types.js'
import { Wal } from './wal.js'
import { recoverWal } from './wal-recovery.js'

/** Options of {@link fileStorage}. */
export interface FileStorageInit {
  /** The file system to use. Default: the real one ({@link nodeFs}). */
  fs?: StorageFs | undefined
  /**
   * The size at which the WAL starts a new segment, in bytes: 1 KiB to 1 GiB, default 64 MiB.
   * Smaller segments free disk space sooner after a snapshot; recovery reads each segment
   * into memory whole, hence the upper bound.
   */
  segmentBytes?: number | undefined
  /**
   * Where recovery reports what it repaired (a torn tail it cut off, on the error channel),
   * as `rony:raft:wal`. Default: silent.
   */
  logger?: ComponentLogger | undefined
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
const MIN_SEGMENT_BYTES = 1024
const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024

const FS_METHODS = [
  'mkdir',
  'readdir',
  'readFile',
  'open',
  'rename',
  'unlink',
  'syncDir',
] as const satisfies readonly (keyof StorageFs)[]

/**
 * Creates the durable storage of one Raft node in `dir` (created on `open()` if missing).
 * Options are validated here, so a typo fails at startup rather than at the first write.
 *
 * @throws TypeError or RangeError naming the invalid option.
 */
export function fileStorage(dir: string, init: FileStorageInit = {}): LogStorage {
  if (typeof dir !== 'string' || dir === '') {
    throw new TypeError(`fileStorage: dir must be a non-empty string, got ${String(dir)}`)
  }
  if (typeof init !== 'object' || init === null) {
    throw new TypeError('fileStorage: init must be an object')
  }
  const fs = init.fs ?? nodeFs()
  for (const method of FS_METHODS) {
    if (typeof fs?.[method] !== 'function') {
      throw new TypeError(`fileStorage: fs must implement StorageFs (no ${method}() method)`)
    }
  }
  const segmentBytes = init.segmentBytes ?? DEFAULT_SEGMENT_BYTES
  if (typeof segmentBytes !== 'number' || !Number.isInteger(segmentBytes)) {
    throw new TypeError(`fileStorage: segmentBytes must be an integer, got ${String(segmentBytes)}`)
  }
  if (segmentBytes < MIN_SEGMENT_BYTES || segmentBytes > MAX_SEGMENT_BYTES) {
    throw new RangeError(
      `fileStorage: segmentBytes must be between ${MIN_SEGMENT_BYTES} and ${MAX_SEGMENT_BYTES}, got ${segmentBytes}`,
    )
  }
  const log = init.logger?.forComponent('rony:raft:wal') ?? disabledLogger
  return new FileStorage(fs, resolve(dir), segmentBytes, log)
}

class FileStorage implements LogStorage {
  readonly #fs: StorageFs
  readonly #dir: string
  readonly #segmentBytes: number
  readonly #log: Logger
  #state: 'new' | 'opening' | 'open' | 'closed' = 'new'
  #wal: Wal | undefined
  /** Releases the directory's lock (a no-op on a file system without locks). */
  #unlock: () => Promise<void> = async () => {}

  constructor(fs: StorageFs, dir: string, segmentBytes: number, log: Logger) {
    this.#fs = fs
    this.#dir = dir
    this.#segmentBytes = segmentBytes
    this.#log = log
  }

  /** Recovers the directory. May be called again after `close()`, as a restart would. */
  async open(): Promise<RecoveredState> {
    if (this.#state === 'opening' || this.#state === 'open') {
      throw new Error(`fileStorage: open() called while the storage is ${this.#state}`)
    }
    const before = this.#state
    this.#state = 'opening'
    let wal: Wal | undefined
    let unlock: (() => Promise<void>) | undefined
    try {
      await this.#fs.mkdir(this.#dir)
      unlock = await this.#fs.lock?.(this.#dir)
      const recovered = await recoverWal(this.#fs, this.#dir, this.#log)
      wal = new Wal(this.#fs, this.#dir, this.#segmentBytes, recovered)
      await wal.deleteCovered(recovered.log.snapshotIndex)
      this.#wal = wal
      this.#unlock = unlock ?? (async () => {})
      this.#state = 'open'
      const { log, snapshot } = recovered
      return { hardState: log.hardState, snapshot, entries: [...log.entries] }
    } catch (err) {
      this.#state = before
      await wal?.close().catch(() => {})
      await unlock?.().catch(() => {})
      throw isCodedError(err) && err.code.startsWith('RONY_ERR_') ? err : storageFailed(err)
    }
  }

  setHardState(state: HardState): Promise<void> {
    return this.#wal?.setHardState(state) ?? this.#notOpen()
  }

  append(entries: readonly LogEntry[]): Promise<void> {
    return this.#wal?.append(entries) ?? this.#notOpen()
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.#wal?.saveSnapshot(snapshot) ?? this.#notOpen()
  }

  /** Waits for pending operations, then closes the files. A second call does nothing. */
  async close(): Promise<void> {
    const wal = this.#wal
    if (wal === undefined) return
    this.#wal = undefined
    this.#state = 'closed'
    try {
      await wal.close()
    } finally {
      await this.#unlock()
    }
  }

  #notOpen(): Promise<never> {
    return Promise.reject(notOpen(this.#state === 'closed' ? 'closed' : 'new'))
  }
}
