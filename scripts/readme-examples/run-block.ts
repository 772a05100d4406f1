// Runs one README block as the main module: `node --import source-hooks.ts run-block.ts <block>
// [args…]`. The block sees `process.argv` as if it had been started as `node <block> [args…]`.
// With RONY_EXAMPLE_READY_FD set, the line `ready` is written to that descriptor once the
// block's top level has finished (a server block is then up).
import { closeSync, writeSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

const [node = 'node', , file, ...args] = process.argv
if (!file) throw new Error('usage: run-block.ts <block file> [args…]')
process.argv = [node, file, ...args]
await import(pathToFileURL(file).href)

const readyFd = process.env.RONY_EXAMPLE_READY_FD
if (readyFd) {
  writeSync(Number(readyFd), 'ready\n')
  closeSync(Number(readyFd))
}
