/**
 * The coded errors of the storage layer. A Raft node must never run on a log it cannot
 * trust, so every failure is loud and carries a stable code the operator can act on.
 *
 * | Code | Meaning | What to do |
 * | --- | --- | --- |
 * | `RONY_ERR_WAL_CORRUPT` | A WAL record before the last valid one fails its checksum, or a segment is missing (the newest one included: `wal.head` names it), empty or inconsistent (`WalCorruptError`: `file`, `offset`). | Restore the node's data dir from a backup, or wipe it and let the node rejoin from a snapshot. |
 * | `RONY_ERR_SNAPSHOT_CORRUPT` | The snapshot the WAL names is missing or fails its checksum. | As above. |
 * | `RONY_ERR_DATA_DIR_LOCKED` | Another live process (or another storage in this one) holds the data dir's `LOCK` file (`DataDirLockedError`: `pid`, `hostname`). | Stop the other holder; remove `LOCK` only if its holder is gone (a pid reused by another process). |
 * | `RONY_ERR_STORAGE_FAILED` | A file-system call failed; writes since the last sync may not be durable. | Stop the node (it must not acknowledge anything more); check the disk, then restart. |
 * | `RONY_ERR_NOT_STARTED` | An operation before `open()`. | Call `open()` first. |
 * | `RONY_ERR_STOPPED` | An operation after `close()`. | Nothing: the node is shutting down. |
 *
 * @module
 */

import { CodedError } from '@rony/interface'

/** The codes the storage layer throws. */
export type StorageErrorCode =
  | 'RONY_ERR_WAL_CORRUPT'
  | 'RONY_ERR_SNAPSHOT_CORRUPT'
  | 'RONY_ERR_DATA_DIR_LOCKED'
  | 'RONY_ERR_STORAGE_FAILED'
  | 'RONY_ERR_NOT_STARTED'
  | 'RONY_ERR_STOPPED'

/** Damage the WAL cannot repair, in `file` (a segment, or `wal.head`) at byte `offset`. */
export class WalCorruptError extends CodedError<'RONY_ERR_WAL_CORRUPT'> {
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`WAL corrupt: ${file} at byte ${offset}: ${reason}`, 'RONY_ERR_WAL_CORRUPT')
  }
}

/** Corruption the WAL cannot repair: the message names the file and the byte offset. */
export function walCorrupt(file: string, offset: number, reason: string): WalCorruptError {
  return new WalCorruptError(file, offset, reason)
}

/** The data directory is in use by `pid` on `hostname` (this process's pid: another storage here). */
export class DataDirLockedError extends CodedError<'RONY_ERR_DATA_DIR_LOCKED'> {
  constructor(
    readonly dir: string,
    readonly pid: number,
    readonly hostname: string,
  ) {
    super(
      `data dir ${dir} is locked by process ${pid} on ${hostname} (its LOCK file): one process per data dir`,
      'RONY_ERR_DATA_DIR_LOCKED',
    )
  }
}

/** A snapshot file that is missing or damaged. */
export function snapshotCorrupt(file: string, reason: string): CodedError {
  return new CodedError(`snapshot corrupt: ${file}: ${reason}`, 'RONY_ERR_SNAPSHOT_CORRUPT')
}

/**
 * Wraps the I/O error that broke the storage; every later operation rejects with the same
 * error, so the node sees one root cause however many writes were in flight.
 */
export function storageFailed(cause: unknown): CodedError {
  if (cause instanceof CodedError && cause.code === 'RONY_ERR_STORAGE_FAILED') return cause
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new CodedError(`storage failed: ${detail}`, 'RONY_ERR_STORAGE_FAILED', { cause })
}

/** The error of an operation issued while the storage is not open. */
export function notOpen(state: 'new' | 'closed'): CodedError {
  return state === 'new'
    ? new CodedError('storage is not open: call open() first', 'RONY_ERR_NOT_STARTED')
    : new CodedError('storage is closed', 'RONY_ERR_STOPPED')
}

/** Tells whether a file-system error has the errno code `code` (`ENOENT`, `EEXIST`, …). */
export function hasErrno(err: unknown, code: string): boolean {
  return (err as { code?: unknown } | undefined)?.code === code
}
