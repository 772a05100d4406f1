/**
 * The file-system calls the WAL and the snapshot writer make, behind an interface so tests
 * and the Raft fuzzer can run the same code on a simulated disk that loses unsynced writes
 * (`simulatedDisk()` in `@rony/raft/testing`).
 *
 * The interface is deliberately small: append-only files, whole-file reads, and the
 * directory operations needed to create, replace and delete files crash-safely. Each call
 * is awaited before the next one on the same file, so implementations need not handle
 * concurrent writes to one file.
 *
 * @module
 */

import { constants } from 'node:fs'
import { mkdir, open as openFile, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { lockDir } from './dir-lock.js'

/** Suffix of a file being written by {@link writeFileDurably}; a crash's leftover is deleted on open. */
export const TEMP_SUFFIX = '.tmp'

/**
 * Flags of files opened for appending. With `O_DSYNC` (Linux, macOS, the BSDs) every write
 * returns once its data is durable, as if followed by `fdatasync`, so a WAL batch costs one
 * trip to libuv's thread pool instead of two: on a 2-core VM each trip adds 50–100 µs of
 * thread wake-ups to a ~200 µs sync. Windows has no `O_DSYNC`: there `appendDurable` is a
 * write and an `fdatasync`.
 */
const APPEND_DSYNC =
  constants.O_DSYNC === undefined
    ? undefined
    : constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC

/** An open file, written only at its end. */
export interface StorageFile {
  /** Writes all of `bytes` at the end of the file. */
  append(bytes: Uint8Array): Promise<void>
  /**
   * Writes all of `bytes` at the end of the file and makes them durable: `append` then
   * `datasync`, which an implementation may do in one call (see {@link nodeFs}).
   */
  appendDurable(bytes: Uint8Array): Promise<void>
  /** Cuts the file to `length` bytes; later appends continue from there. */
  truncate(length: number): Promise<void>
  /** `fdatasync`: the file's data and size are durable once this resolves. */
  datasync(): Promise<void>
  close(): Promise<void>
}

/**
 * The file system under a data directory. Paths are built with `node:path`. Errors are
 * rejections; a missing file rejects with an error whose `code` is `'ENOENT'`, as Node's do.
 */
export interface StorageFs {
  /** Creates the directory and its parents; succeeds when it exists. */
  mkdir(path: string): Promise<void>
  /** The names (not paths) of the directory's entries. */
  readdir(path: string): Promise<string[]>
  /** The whole content of a file. */
  readFile(path: string): Promise<Uint8Array>
  /**
   * Opens a file for appending, creating it when missing. `'truncate'` empties an existing
   * file first. A new file's directory entry is durable only after {@link syncDir}.
   */
  open(path: string, mode: 'append' | 'truncate'): Promise<StorageFile>
  /** Atomically replaces `to` with `from`; durable after {@link syncDir}. */
  rename(from: string, to: string): Promise<void>
  /** Deletes a file; durable after {@link syncDir}. */
  unlink(path: string): Promise<void>
  /** `fsync` of a directory: makes the creates, renames and unlinks in it durable. */
  syncDir(path: string): Promise<void>
  /**
   * Takes the exclusive lock of a data directory, resolving with the function that releases
   * it; rejects with `RONY_ERR_DATA_DIR_LOCKED` while another owner holds it. Optional: a
   * file system without it (the simulated disk) opens directories unlocked.
   */
  lock?(dir: string): Promise<() => Promise<void>>
}

/**
 * Writes a small file so that a crash leaves either its old content or the new one: to a
 * temp file, fdatasync'd, renamed over `name`, then the directory fsync'd.
 */
export async function writeFileDurably(
  fs: StorageFs,
  dir: string,
  name: string,
  chunks: readonly Uint8Array[],
): Promise<void> {
  const temp = join(dir, name + TEMP_SUFFIX)
  const file = await fs.open(temp, 'truncate')
  try {
    for (const chunk of chunks) await file.append(chunk)
    await file.datasync()
  } finally {
    await file.close()
  }
  await fs.rename(temp, join(dir, name))
  await fs.syncDir(dir)
}

/**
 * The real file system, through `node:fs/promises`.
 *
 * Durability is what the OS gives `fdatasync`/`fsync`: on Linux with ext4 or XFS that
 * reaches the disk (given a drive that honors flushes). On macOS `fsync` only reaches the
 * drive's cache (full durability needs `F_FULLFSYNC`, which Node does not expose), and on
 * Windows directories cannot be opened, so {@link StorageFs.syncDir} is a no-op there and
 * renames rely on NTFS's own journaling.
 */
export function nodeFs(): StorageFs {
  return {
    async mkdir(path) {
      await mkdir(path, { recursive: true })
    },
    readdir: (path) => readdir(path),
    readFile: (path) => readFile(path),
    async open(path, mode) {
      const dsync = mode === 'append' && APPEND_DSYNC !== undefined
      const handle = await openFile(path, mode === 'truncate' ? 'w' : (APPEND_DSYNC ?? 'a'))
      const append = async (bytes: Uint8Array): Promise<void> => {
        // A write may be partial (for example on a full disk that frees up); loop to the end.
        for (let done = 0; done < bytes.length; ) {
          const { bytesWritten } = await handle.write(bytes, done, bytes.length - done)
          done += bytesWritten
        }
      }
      return {
        append,
        async appendDurable(bytes) {
          await append(bytes)
          if (!dsync) await handle.datasync()
        },
        truncate: (length) => handle.truncate(length),
        datasync: () => handle.datasync(),
        close: () => handle.close(),
      }
    },
    rename: (from, to) => rename(from, to),
    unlink: (path) => unlink(path),
    async syncDir(path) {
      if (process.platform === 'win32') return
      const handle = await openFile(path, 'r')
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
    },
    lock: lockDir,
  }
}
