/**
 * One of the processes that sync at the same time for the Raft suite's "3 members on one
 * disk" floor: appends 64 bytes + `fdatasync` to its own file in `dir` for `ms`
 * milliseconds, then prints one line `{"samples":N,"p50Us":…,"p99Us":…}` and exits.
 *
 *   node src/raft/fsync-worker.ts <dir> <ms> <start at, epoch ms>
 *
 * Every worker starts at the same wall-clock time, so their syncs overlap.
 */
import { measureFdatasync } from './floor.ts'

const [dir = '.', ms = '1000', startAt = '0'] = process.argv.slice(2)
process.on('disconnect', () => process.exit(0))
const wait = Number(startAt) - Date.now()
if (wait > 0) await new Promise((r) => setTimeout(r, wait))
const result = measureFdatasync(dir, 'append', 1_000_000, Number(ms), `-${process.pid}`)
process.stdout.write(`${JSON.stringify(result)}\n`)
process.exit(0)
