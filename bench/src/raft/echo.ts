/**
 * The far end of the Raft suite's loopback round-trip measurement: a TCP echo server on
 * 127.0.0.1 (an ephemeral port) in its own Node process, so the round trip crosses two
 * processes and two event loops, as a Raft message and its answer do.
 *
 *   node src/raft/echo.ts
 *
 * Prints `{"port":N}` once listening; exits on SIGTERM and when the parent goes away.
 */
import { createServer } from 'node:net'

const server = createServer((socket) => {
  socket.setNoDelay(true)
  socket.on('data', (chunk) => socket.write(chunk))
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
