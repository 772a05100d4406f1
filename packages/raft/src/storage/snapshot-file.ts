/**
 * Snapshot files: one per snapshot, named after its last index and term, written so that a
 * crash leaves either the complete file or none under that name.
 *
 * Layout (all integers little-endian):
 *
 * | Offset | Size | Field |
 * | --- | --- | --- |
 * | 0 | 4 | magic `RSNP` |
 * | 4 | 4 | format version (1) |
 * | 8 | 8 | last included index |
 * | 16 | 8 | its term |
 * | 24 | 4 | configuration length `c` |
 * | 28 | 8 | data length `d` |
 * | 36 | 4 | CRC-32C of bytes 0..36, the configuration and the data |
 * | 40 | c | the {@link Configuration} as UTF-8 JSON |
 * | 40 + c | d | the state machine's data |
 *
 * JSON for the configuration: it is small, rarely written, and readable in a hex dump.
 *
 * @module
 */

import { join } from 'node:path'
import { getU64, setU64, utf8Decoder, utf8Encoder, viewOf } from './bytes.js'
import { crc32c } from './crc32c.js'
import { hasErrno, snapshotCorrupt } from './errors.js'
import { type StorageFs, writeFileDurably } from './fs.js'
import { isServerList } from './log-state.js'
import type { Configuration, ServerInfo, Snapshot } from './types.js'

const MAGIC = 0x504e5352 // 'RSNP' read as a little-endian u32
const VERSION = 1
const HEADER_BYTES = 40

/** Final names; the WAL's Snapshot records say which one is current. */
export const SNAPSHOT_FILE = /^snapshot-([0-9a-f]{16})-([0-9a-f]{16})\.snap$/

export function snapshotName(index: number, term: number): string {
  return `snapshot-${hex16(index)}-${hex16(term)}.snap`
}

export function hex16(n: number): string {
  return n.toString(16).padStart(16, '0')
}

/**
 * Writes a snapshot durably: to a temp file, fdatasync'd, renamed to its final name, then
 * the directory fsync'd. Until the rename the old state is intact; after the directory sync
 * the new file survives a power loss. Returns the file's name.
 */
export async function writeSnapshotFile(
  fs: StorageFs,
  dir: string,
  snapshot: Snapshot,
): Promise<string> {
  const { meta, data } = snapshot
  const config = utf8Encoder.encode(JSON.stringify(plainConfiguration(meta.configuration)))
  const head = new Uint8Array(HEADER_BYTES + config.length)
  const view = viewOf(head)
  view.setUint32(0, MAGIC, true)
  view.setUint32(4, VERSION, true)
  setU64(view, 8, meta.index)
  setU64(view, 16, meta.term)
  view.setUint32(24, config.length, true)
  setU64(view, 28, data.length)
  head.set(config, HEADER_BYTES)
  view.setUint32(36, checksum(head, config, data), true)

  const name = snapshotName(meta.index, meta.term)
  // Two writes rather than one concatenation: the data may be large.
  await writeFileDurably(fs, dir, name, [head, data])
  return name
}

/** Reads and verifies a snapshot file; throws `RONY_ERR_SNAPSHOT_CORRUPT` when it is not intact. */
export async function readSnapshotFile(
  fs: StorageFs,
  dir: string,
  name: string,
): Promise<Snapshot> {
  let bytes: Uint8Array
  try {
    bytes = await fs.readFile(join(dir, name))
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) throw snapshotCorrupt(name, 'missing')
    throw err
  }
  return decodeSnapshot(name, bytes)
}

function decodeSnapshot(name: string, bytes: Uint8Array): Snapshot {
  const fail = (reason: string): never => {
    throw snapshotCorrupt(name, reason)
  }
  if (bytes.length < HEADER_BYTES) fail(`${bytes.length} bytes, shorter than the header`)
  const view = viewOf(bytes)
  if (view.getUint32(0, true) !== MAGIC) fail('bad magic number')
  if (view.getUint32(4, true) !== VERSION) fail(`unknown format version ${view.getUint32(4, true)}`)
  const configLength = view.getUint32(24, true)
  const dataLength = view.getUint32(28, true) + view.getUint32(32, true) * 2 ** 32
  if (bytes.length !== HEADER_BYTES + configLength + dataLength) {
    fail(`length ${bytes.length} does not match the header`)
  }
  const config = bytes.subarray(HEADER_BYTES, HEADER_BYTES + configLength)
  // A plain Uint8Array view (readFile may return a Buffer): the file's buffer is ours alone.
  const data = new Uint8Array(
    bytes.buffer,
    bytes.byteOffset + HEADER_BYTES + configLength,
    dataLength,
  )
  if (view.getUint32(36, true) !== checksum(bytes.subarray(0, HEADER_BYTES), config, data)) {
    fail('checksum mismatch')
  }
  try {
    const index = getU64(view, 8, 'index')
    const term = getU64(view, 16, 'term')
    const configuration = parseConfiguration(utf8Decoder.decode(config))
    return { meta: { index, term, configuration }, data }
  } catch (err) {
    return fail((err as Error).message)
  }
}

/** The CRC of the header's first 36 bytes, then the configuration and the data. */
function checksum(head: Uint8Array, config: Uint8Array, data: Uint8Array): number {
  return crc32c(data, crc32c(config, crc32c(head, 0, 0, 36)))
}

/** Only `id` and `address`: whatever else a caller's objects carry is not part of the state. */
function plainConfiguration(config: Configuration): Configuration {
  const plain = (servers: readonly ServerInfo[]): ServerInfo[] =>
    servers.map(({ id, address }) => ({ id, address }))
  return { voters: plain(config.voters), learners: plain(config.learners) }
}

function parseConfiguration(json: string): Configuration {
  const value = JSON.parse(json) as { voters?: unknown; learners?: unknown } | null
  const { voters, learners } = value ?? {}
  if (!isServerList(voters) || !isServerList(learners)) throw new Error('malformed configuration')
  return plainConfiguration({ voters, learners })
}
