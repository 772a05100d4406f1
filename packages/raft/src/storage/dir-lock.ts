/**
 * The data directory's lock: one process (and one storage within it) per directory, since
 * two Raft nodes writing one WAL both lead, both acknowledge, and corrupt it.
 *
 * Node has no `flock`, so the lock is a file created exclusively (`wx`) holding the owner's
 * pid and hostname. A lock whose pid is dead on this host is stale (its owner crashed) and
 * is taken over; a live pid, this process's own pid (another storage in this process) or
 * another host (a shared file system, where liveness cannot be checked) refuses with
 * `RONY_ERR_DATA_DIR_LOCKED`. Taking over renames the stale file away first and checks what
 * it moved, so two processes racing for one stale lock cannot both win.
 *
 * @module
 */

import { randomUUID } from 'node:crypto'
import { open, readFile, rename, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { DataDirLockedError, hasErrno } from './errors.js'

export const LOCK_FILE = 'LOCK'

interface Holder {
  readonly pid: number
  readonly hostname: string
}

/** Takes the lock of `dir` (which exists); resolves with the function that releases it. */
export async function lockDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE)
  const me: Holder = { pid: process.pid, hostname: hostname() }
  const content = `${JSON.stringify(me)}\n`
  // Two rounds at most: a stale lock is moved away once, then the create must succeed.
  for (let round = 0; ; round++) {
    try {
      const file = await open(path, 'wx')
      try {
        await file.writeFile(content)
        await file.sync()
      } finally {
        await file.close()
      }
      return async () => {
        // Only our own file: an operator may have removed it and another process taken it.
        const now = await readFile(path, 'utf8').catch(() => undefined)
        if (now === content) await unlink(path)
      }
    } catch (err) {
      if (!hasErrno(err, 'EEXIST')) throw err
    }
    const holder = await readHolder(path)
    if (holder === undefined) continue // released meanwhile
    if (!isStale(holder) || round > 0)
      throw new DataDirLockedError(dir, holder.pid, holder.hostname)
    await takeOver(path, dir)
  }
}

/** Moves a stale lock away; if what it moved turns out live (a race), puts it back and refuses. */
async function takeOver(path: string, dir: string): Promise<void> {
  const moved = `${path}.${randomUUID()}.stale`
  try {
    await rename(path, moved)
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return // another process moved it
    throw err
  }
  const holder = await readHolder(moved)
  if (holder !== undefined && !isStale(holder)) {
    await rename(moved, path)
    throw new DataDirLockedError(dir, holder.pid, holder.hostname)
  }
  await unlink(moved)
}

/** The holder a lock file names; a file torn by a crash mid-write counts as a dead holder. */
async function readHolder(path: string): Promise<Holder | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return undefined
    throw err
  }
  try {
    const value = JSON.parse(text) as Partial<Holder>
    if (Number.isSafeInteger(value.pid) && typeof value.hostname === 'string') {
      return { pid: value.pid as number, hostname: value.hostname }
    }
  } catch {}
  return { pid: 0, hostname: hostname() }
}

function isStale(holder: Holder): boolean {
  if (holder.hostname !== hostname()) return false
  if (holder.pid === process.pid) return false
  if (holder.pid <= 0) return true
  try {
    process.kill(holder.pid, 0)
    return false
  } catch (err) {
    return hasErrno(err, 'ESRCH') // EPERM: alive, another user's
  }
}
