/**
 * The two floors of a replicated write on this machine, measured in the same run as the
 * clusters: one `fdatasync` of a small write on the file system of the suite's data
 * directories, and one TCP round trip between two Node processes on 127.0.0.1; and the
 * two as one operation, a round trip to a process that writes durably before answering.
 * A leader that overlaps its own fsync with replication commits in about one round trip
 * to a follower plus the follower's fsync.
 */
import { closeSync, fdatasyncSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { percentile } from './loop.ts'
import { spawnNode } from './proc.ts'

export interface Percentiles {
  samples: number
  p50Us: number
  p99Us: number
}

function percentiles(samples: number[]): Percentiles {
  const sorted = Float64Array.from(samples).sort()
  return {
    samples: samples.length,
    p50Us: percentile(sorted, 50),
    p99Us: percentile(sorted, 99),
  }
}

const RECORD = new Uint8Array(64).fill(0x62)

/**
 * `write(64 bytes)` + `fdatasync`, `count` times (≤ `maxMs`), synchronous calls so nothing
 * but the disk is timed. `append`: at the end of a growing file, as a WAL that appends does
 * (each sync also commits the new file size). `preallocated`: over a file written with zeros
 * and synced first, as a WAL with preallocated segments does (etcd's 64 MB files).
 */
export function measureFdatasync(
  dir: string,
  mode: 'append' | 'preallocated',
  count = 400,
  maxMs = 3_000,
  suffix = '',
): Percentiles {
  const path = join(dir, `fdatasync-${mode}${suffix}.bin`)
  const fd = openSync(path, 'w')
  const samples: number[] = []
  try {
    if (mode === 'preallocated') {
      const zeros = new Uint8Array(1024 * 1024)
      for (let written = 0; written < 4 * 1024 * 1024; ) written += writeSync(fd, zeros)
      fsyncSync(fd)
    }
    const deadline = performance.now() + maxMs
    for (let i = 0; i < count + 20 && performance.now() < deadline; i++) {
      const t = performance.now()
      writeSync(fd, RECORD, 0, RECORD.length, mode === 'append' ? null : i * RECORD.length)
      fdatasyncSync(fd)
      if (i >= 20) samples.push((performance.now() - t) * 1000) // after 20 warm-up syncs
    }
  } finally {
    closeSync(fd)
    unlinkSync(path)
  }
  return percentiles(samples)
}

/**
 * `measureFdatasync(dir, 'append')` in `processes` processes at once for `ms` each, as the
 * members of a cluster on one disk sync at the same time; the median of their p50s and p99s.
 */
export async function measureConcurrentFdatasync(
  dir: string,
  processes = 3,
  ms = 1_500,
): Promise<Percentiles> {
  const script = new URL('./fsync-worker.ts', import.meta.url).pathname
  const startAt = String(Date.now() + 1_000) // after every worker has loaded
  const results = await Promise.all(
    Array.from({ length: processes }, (_, i) =>
      spawnNode(`fsync ${i}`, script, [dir, String(ms), startAt], { readyMs: ms + 15_000 }),
    ),
  )
  const of = (key: 'samples' | 'p50Us' | 'p99Us'): number[] =>
    results.map((r) => r.hello[key] as number).sort((a, b) => a - b)
  return {
    samples: of('samples').reduce((a, b) => a + b, 0),
    p50Us: of('p50Us')[processes >> 1] as number,
    p99Us: of('p99Us')[processes >> 1] as number,
  }
}

/**
 * Serial 64-byte TCP round trips from this process to an echo server in another Node
 * process. With `durableFile`, the server appends each message to that file with `O_DSYNC`
 * before answering (see `echo.ts`): one loopback round trip and one fdatasync, measured as
 * one operation, the way a follower's acknowledgement combines them.
 */
export async function measureRtt(
  count = 3_000,
  maxMs = 3_000,
  durableFile?: string,
): Promise<Percentiles> {
  const args = durableFile === undefined ? [] : [durableFile]
  const echo = await spawnNode('echo', new URL('./echo.ts', import.meta.url).pathname, args)
  try {
    const port = echo.hello.port as number
    const socket = connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const samples: number[] = []
    const message = Buffer.alloc(64, 0x63)
    const deadline = performance.now() + maxMs
    try {
      for (let i = 0; i < count + 200 && performance.now() < deadline; i++) {
        const t = performance.now()
        await new Promise<void>((resolve, reject) => {
          let received = 0
          const onData = (chunk: Buffer): void => {
            received += chunk.length
            if (received < message.length) return
            socket.off('data', onData)
            socket.off('error', reject)
            resolve()
          }
          socket.on('data', onData)
          socket.once('error', reject)
          socket.write(message)
        })
        if (i >= 200) samples.push((performance.now() - t) * 1000)
      }
    } finally {
      socket.destroy()
    }
    return percentiles(samples)
  } finally {
    await echo.stop(2000)
  }
}
