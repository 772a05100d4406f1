/**
 * `wal.head`: the newest WAL segment whose start record is durable, kept outside the
 * segments so that recovery can tell a log whose tail is gone (the newest segment deleted
 * or emptied, taking acknowledged entries and the term and vote with it) from a log that
 * never got that far.
 *
 * **Ordering.** The head moves only after the segment it names is durable: a roll creates
 * the segment, writes its start record durably, fsyncs the directory, and then replaces
 * the head (temp file, fdatasync, rename, directory fsync). So the head never names more
 * than the disk holds: after a power loss mid-roll it names the previous segment, and the
 * new one, if it survived, is newer (recovery then moves the head up). Written once per
 * segment (every `segmentBytes`), never on the append path: group commit keeps its one sync.
 *
 * Recovery refuses to open when the newest segment is older than the head, or when the
 * segment the head names has no records. A directory without a head is new, or one whose
 * first segment was cut off by a crash before its head was written: recovery writes it.
 *
 * Layout (16 bytes, little-endian): magic `RWHD`, segment sequence number u64, CRC-32C of
 * the first 12 bytes.
 *
 * @module
 */

import { join } from 'node:path'
import { getU64, setU64, viewOf } from './bytes.js'
import { crc32c } from './crc32c.js'
import { hasErrno, walCorrupt } from './errors.js'
import { type StorageFs, writeFileDurably } from './fs.js'

export const WAL_HEAD_FILE = 'wal.head'

const MAGIC = 0x44485752 // 'RWHD' read as a little-endian u32
const BYTES = 16

/** The sequence number the head names; 0 when there is no head. */
export async function readWalHead(fs: StorageFs, dir: string): Promise<number> {
  let bytes: Uint8Array
  try {
    bytes = await fs.readFile(join(dir, WAL_HEAD_FILE))
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return 0
    throw err
  }
  const view = viewOf(bytes)
  if (
    bytes.length !== BYTES ||
    view.getUint32(0, true) !== MAGIC ||
    view.getUint32(12, true) !== crc32c(bytes, 0, 0, 12)
  ) {
    throw walCorrupt(WAL_HEAD_FILE, 0, 'damaged (bad length, magic or checksum)')
  }
  try {
    return getU64(view, 4, 'segment sequence number')
  } catch (err) {
    throw walCorrupt(WAL_HEAD_FILE, 4, (err as Error).message)
  }
}

/** Durably records `seq` as the newest segment; call only once that segment is durable. */
export function writeWalHead(fs: StorageFs, dir: string, seq: number): Promise<void> {
  const bytes = new Uint8Array(BYTES)
  const view = viewOf(bytes)
  view.setUint32(0, MAGIC, true)
  setU64(view, 4, seq)
  view.setUint32(12, crc32c(bytes, 0, 0, 12), true)
  return writeFileDurably(fs, dir, WAL_HEAD_FILE, [bytes])
}
