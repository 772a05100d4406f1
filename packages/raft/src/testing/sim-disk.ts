/**
 * `simulatedDisk()`: an in-memory {@link StorageFs} that models what a power loss does to a
 * disk, for crash tests of the storage and for the Raft fuzzer.
 *
 * The model, per file and per directory:
 *
 * - File data written since the file's last `datasync()` is volatile. After
 *   {@link SimulatedDisk.crash | crash()} a random prefix of it survives (a torn write),
 *   possibly none, possibly all. A truncation since the last sync is undone entirely.
 * - Creates, renames and unlinks are volatile until `syncDir()` of their directory. A crash
 *   keeps a random prefix of each directory's unsynced changes, in order, each change
 *   atomic (a rename never half-happens): the behavior of journaling file systems such as
 *   ext4 and XFS, whose metadata journal commits in order.
 * - `mkdir` is durable at once (the storage creates its directory once, before anything
 *   that matters).
 *
 * Everything is synchronous underneath: every call does its work when called and returns
 * an already settled promise, no timers and no real I/O, so a test is deterministic for a
 * given `random` and runs thousands of crash/recover cycles per second.
 *
 * A crash also kills the "process": every open file handle rejects from then on. Calls
 * through the disk object itself cannot be told apart by process, so a process that may
 * still have work in flight when it crashes (a node in a fuzzer) should get its own view
 * with {@link SimulatedDisk.mount | mount()}: the view rejects every call after the next
 * crash, so the dead process cannot touch its successor's files.
 *
 * @module
 */

import { basename, dirname, resolve } from 'node:path'
import { seededRandom } from '@rony/transport'
import type { StorageFile, StorageFs } from '../storage/fs.js'

/**
 * The operations {@link SimulatedDisk.failNext} can fail. `appendDurable` is an `append`
 * and a `datasync` here, so failing either of those fails it.
 */
export type SimulatedDiskOp = keyof StorageFs | Exclude<keyof StorageFile, 'appendDurable'>

export interface SimulatedDiskInit {
  /** Uniform numbers in [0, 1) deciding what survives a crash. Default: a fixed-seed PRNG. */
  random?: (() => number) | undefined
}

/** Counters, updated live. */
export interface SimulatedDiskStats {
  /** Successful `datasync()` calls. */
  fdatasyncs: number
  /** Successful `syncDir()` calls. */
  dirSyncs: number
  /** Bytes appended to files. */
  bytesWritten: number
  crashes: number
}

export interface SimulatedDisk extends StorageFs {
  readonly stats: Readonly<SimulatedDiskStats>
  /** A view of the disk for one process incarnation: it rejects every call after a crash. */
  mount(): StorageFs
  /** Power loss: the disk becomes what survives of it (see the module documentation). */
  crash(): void
  /** Flips one bit of a file, on the medium (durable, as bit rot would be). */
  flipBit(path: string, byteOffset: number, bit: number): void
  /** Cuts (or zero-extends) a file to `length` bytes and makes its whole content durable. */
  truncate(path: string, length: number): void
  /** Makes the next call of `op` reject with `error` without doing anything. */
  failNext(op: SimulatedDiskOp, error?: Error): void
}

/** Creates an empty simulated disk (only the root directory exists). */
export function simulatedDisk(init: SimulatedDiskInit = {}): SimulatedDisk {
  const random = init.random ?? seededDraws(0x5eed)
  if (typeof random !== 'function') {
    throw new TypeError('simulatedDisk: random must be a function returning numbers in [0, 1)')
  }
  const disk = new Disk(random)
  return {
    ...disk.view(undefined),
    stats: disk.stats,
    mount: () => disk.view(disk.epoch),
    crash: () => disk.crash(),
    flipBit: (path, byteOffset, bit) => disk.flipBit(path, byteOffset, bit),
    truncate: (path, length) => disk.truncate(path, length),
    failNext: (op, error = new Error(`simulated ${op} failure`)) =>
      disk.failures.push({ op, error }),
  }
}

/** A file's content: what is written, and what of it is durable. */
class Inode {
  data: Uint8Array = new Uint8Array(256)
  size = 0
  durableSize = 0
  /** The durable content, once it is no longer a prefix of `data` (after a truncation). */
  durableCopy: Uint8Array | undefined

  content(): Uint8Array {
    return this.data.slice(0, this.size)
  }

  append(bytes: Uint8Array): void {
    this.#reserve(this.size + bytes.length)
    this.data.set(bytes, this.size)
    this.size += bytes.length
  }

  resize(length: number): void {
    if (length < this.durableSize && this.durableCopy === undefined) {
      this.durableCopy = this.data.slice(0, this.durableSize)
    }
    this.#reserve(length)
    if (length > this.size) this.data.fill(0, this.size, length)
    this.size = length
  }

  sync(): void {
    this.durableSize = this.size
    this.durableCopy = undefined
  }

  /** Power loss: keep the durable content and a random prefix of the volatile tail. */
  crash(random: () => number): void {
    if (this.durableCopy !== undefined) {
      this.data = this.durableCopy
      this.size = this.durableCopy.length
    } else {
      this.size = this.durableSize + Math.floor(random() * (this.size - this.durableSize + 1))
    }
    this.sync()
  }

  #reserve(capacity: number): void {
    if (capacity <= this.data.length) return
    const grown = new Uint8Array(Math.max(capacity, this.data.length * 2))
    grown.set(this.data.subarray(0, this.size))
    this.data = grown
  }
}

/** One atomic directory change: paths linked to an inode, or unlinked (undefined). */
type DirChange = readonly (readonly [string, Inode | undefined])[]

class Disk {
  readonly stats: SimulatedDiskStats = { fdatasyncs: 0, dirSyncs: 0, bytesWritten: 0, crashes: 0 }
  readonly failures: { op: SimulatedDiskOp; error: Error }[] = []
  epoch = 0
  readonly #random: () => number
  readonly #dirs = new Set<string>()
  #files = new Map<string, Inode>()
  readonly #durable = new Map<string, Inode>()
  /** Per directory, the changes since its last sync, oldest first. */
  readonly #unsynced = new Map<string, DirChange[]>()

  constructor(random: () => number) {
    this.#random = random
  }

  /** The file-system calls, for a process of `epoch` (undefined: whichever is alive). */
  view(epoch: number | undefined): StorageFs {
    const op = <T>(name: SimulatedDiskOp, work: () => T): Promise<T> => this.#run(epoch, name, work)
    return {
      mkdir: (path) =>
        op('mkdir', () => {
          for (let dir = resolve(path); dirname(dir) !== dir; dir = dirname(dir)) {
            this.#dirs.add(dir)
          }
        }),
      readdir: (path) =>
        op('readdir', () => {
          const dir = this.#dir(path)
          const names: string[] = []
          for (const entry of [...this.#files.keys(), ...this.#dirs]) {
            if (dirname(entry) === dir && entry !== dir) names.push(basename(entry))
          }
          return names
        }),
      readFile: (path) => op('readFile', () => this.#inode(path).content()),
      open: (path, mode) =>
        op('open', () => {
          const file = resolve(path)
          let inode = this.#files.get(file)
          if (inode === undefined) {
            this.#dir(dirname(file))
            inode = new Inode()
            this.#change(file, [[file, inode]])
          } else if (mode === 'truncate') {
            inode.resize(0)
          }
          return this.#handle(epoch ?? this.epoch, inode)
        }),
      rename: (from, to) =>
        op('rename', () => {
          const inode = this.#inode(from)
          const [source, target] = [resolve(from), resolve(to)]
          if (dirname(source) !== dirname(target)) {
            throw fsError('EXDEV', `rename across directories '${from}' -> '${to}'`)
          }
          this.#change(target, [
            [source, undefined],
            [target, inode],
          ])
        }),
      unlink: (path) =>
        op('unlink', () => {
          this.#inode(path)
          this.#change(resolve(path), [[resolve(path), undefined]])
        }),
      syncDir: (path) =>
        op('syncDir', () => {
          const dir = this.#dir(path)
          for (const file of this.#durable.keys()) {
            if (dirname(file) === dir) this.#durable.delete(file)
          }
          for (const [file, inode] of this.#files) {
            if (dirname(file) === dir) this.#durable.set(file, inode)
          }
          this.#unsynced.delete(dir)
          this.stats.dirSyncs++
        }),
    }
  }

  crash(): void {
    this.epoch++
    this.stats.crashes++
    for (const changes of this.#unsynced.values()) {
      const kept = Math.floor(this.#random() * (changes.length + 1))
      for (const change of changes.slice(0, kept)) {
        for (const [file, inode] of change) {
          if (inode === undefined) this.#durable.delete(file)
          else this.#durable.set(file, inode)
        }
      }
    }
    this.#unsynced.clear()
    for (const inode of new Set(this.#durable.values())) inode.crash(this.#random)
    this.#files = new Map(this.#durable)
  }

  flipBit(path: string, byteOffset: number, bit: number): void {
    const inode = this.#inode(path)
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset >= inode.size) {
      throw new RangeError(
        `flipBit: byteOffset ${byteOffset} is outside ${path} (${inode.size} bytes)`,
      )
    }
    if (!Number.isInteger(bit) || bit < 0 || bit > 7) {
      throw new RangeError(`flipBit: bit must be 0..7, got ${bit}`)
    }
    inode.data[byteOffset]! ^= 1 << bit
    if (inode.durableCopy !== undefined && byteOffset < inode.durableCopy.length) {
      inode.durableCopy[byteOffset]! ^= 1 << bit
    }
  }

  truncate(path: string, length: number): void {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`truncate: length must be a non-negative integer, got ${length}`)
    }
    const inode = this.#inode(path)
    inode.resize(length)
    inode.sync()
  }

  #run<T>(epoch: number | undefined, name: SimulatedDiskOp, work: () => T): Promise<T> {
    try {
      if (epoch !== undefined && epoch !== this.epoch) {
        throw new Error(`simulated disk: ${name} by a process that crashed`)
      }
      const failure = this.failures.findIndex((f) => f.op === name)
      if (failure >= 0) throw this.failures.splice(failure, 1)[0]!.error
      return Promise.resolve(work())
    } catch (err) {
      return Promise.reject(err)
    }
  }

  #handle(epoch: number, inode: Inode): StorageFile {
    let open = true
    const op = (name: SimulatedDiskOp, work: () => void): Promise<void> =>
      this.#run(epoch, name, () => {
        if (!open) throw fsError('EBADF', `${name} on a closed file`)
        work()
      })
    const append = (bytes: Uint8Array): Promise<void> =>
      op('append', () => {
        inode.append(bytes)
        this.stats.bytesWritten += bytes.length
      })
    const datasync = (): Promise<void> =>
      op('datasync', () => {
        inode.sync()
        this.stats.fdatasyncs++
      })
    return {
      append,
      truncate: (length) => op('truncate', () => inode.resize(length)),
      datasync,
      // Two steps, as on a disk without O_DSYNC: a crash in between may lose the bytes.
      appendDurable: (bytes) => append(bytes).then(datasync),
      close: () =>
        op('close', () => {
          open = false
        }),
    }
  }

  /** Applies a directory change now; it becomes durable with the directory's next sync. */
  #change(path: string, change: DirChange): void {
    for (const [file, inode] of change) {
      if (inode === undefined) this.#files.delete(file)
      else this.#files.set(file, inode)
    }
    const dir = dirname(path)
    const pending = this.#unsynced.get(dir)
    if (pending === undefined) this.#unsynced.set(dir, [change])
    else pending.push(change)
  }

  #dir(path: string): string {
    const dir = resolve(path)
    if (dirname(dir) !== dir && !this.#dirs.has(dir))
      throw fsError('ENOENT', `no directory '${path}'`)
    return dir
  }

  #inode(path: string): Inode {
    const inode = this.#files.get(resolve(path))
    if (inode === undefined) throw fsError('ENOENT', `no such file '${path}'`)
    return inode
  }
}

/** The default randomness: seeded, so a disk without `random` is deterministic too. */
function seededDraws(seed: number): () => number {
  const random = seededRandom(seed)
  return () => random.next()
}

function fsError(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code })
}
