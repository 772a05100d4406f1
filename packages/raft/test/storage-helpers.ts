/** Builders shared by the storage specs. */

import type { StorageFs } from '../src/storage/fs.js'

export { entries, entry, plain, snapshot } from '@rony/testing/storage'

/**
 * A {@link StorageFs} wrapper that counts, and can hold, the datasyncs of some files
 * (a durable append is an append and a datasync here).
 */
export interface SyncGate {
  readonly fs: StorageFs
  /** Datasyncs of matching files that have completed. */
  readonly syncs: number
  /** Datasyncs of matching files waiting for the gate. */
  readonly waiting: number
  /** From now on, datasyncs of matching files wait. */
  hold(): void
  /** Lets the oldest waiting datasync proceed (the gate stays held). */
  releaseOne(): void
  /** Lets every waiting datasync proceed and stops holding. */
  release(): void
}

/** Wraps `inner`; the datasyncs of files whose path ends with `suffix` are counted and gated. */
export function syncGate(inner: StorageFs, suffix: string): SyncGate {
  let held = false
  let syncs = 0
  const queue: (() => void)[] = []
  const fs: StorageFs = {
    ...inner,
    async open(path, mode) {
      const file = await inner.open(path, mode)
      if (!path.endsWith(suffix)) return file
      const datasync = async (): Promise<void> => {
        if (held) await new Promise<void>((resolve) => queue.push(resolve))
        await file.datasync()
        syncs++
      }
      return {
        ...file,
        datasync,
        async appendDurable(bytes) {
          await file.append(bytes)
          await datasync()
        },
      }
    },
  }
  return {
    fs,
    get syncs() {
      return syncs
    },
    get waiting() {
      return queue.length
    },
    hold: () => {
      held = true
    },
    releaseOne: () => queue.shift()?.(),
    release: () => {
      held = false
      for (const resolve of queue.splice(0)) resolve()
    },
  }
}

/** Lets every pending microtask (and simulated-disk call) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
