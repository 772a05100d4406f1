/**
 * The far end of the Raft suite's loopback round-trip measurements: a TCP echo server on
 * 127.0.0.1 (an ephemeral port) in its own Node process, so the round trip crosses two
 * processes and two event loops, as a Raft message and its answer do. Given a file path,
 * it first appends each chunk to that file durably (opened with `O_DSYNC`, written through
 * libuv's thread pool, as `@rony/raft`'s WAL does) and echoes it once the write returned:
 * a follower's part of a replicated write with nothing else.
 *
 *   node src/raft/echo.ts [file]
 *
 * Prints `{"port":N}` once listening; exits on SIGTERM and when the parent goes away.
 */
import { constants, openSync, write } from 'node:fs'
import { createServer, type Socket } from 'node:net'

const [file] = process.argv.slice(2)
const fd =
  file === undefined
    ? undefined
    : openSync(
        file,
        constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC,
      )

function answer(socket: Socket, chunk: Buffer): void {
  if (fd === undefined) socket.write(chunk)
  else write(fd, chunk, (error) => (error ? socket.destroy(error) : socket.write(chunk)))
}

const server = createServer((socket) => {
  socket.setNoDelay(true)
  socket.on('data', (chunk) => answer(socket, chunk))
  socket.on('error', () => socket.destroy())
})
const exit = (): void => {
  server.close()
  process.exit(0)
}
process.once('SIGTERM', exit)
process.once('SIGINT', exit)
process.on('disconnect', exit)
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  process.stdout.write(`${JSON.stringify({ port })}\n`)
})
