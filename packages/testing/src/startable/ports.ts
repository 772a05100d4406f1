import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'

/** Which kind of port: a TCP listener or a UDP socket. */
export type PortProtocol = 'tcp' | 'udp'

/** Binds `port` on `host` and closes it again: `undefined` when the bind worked, else its error. */
function tryBind(port: number, host: string, protocol: PortProtocol): Promise<unknown> {
  return new Promise((resolve) => {
    if (protocol === 'tcp') {
      const server = createServer()
      server.once('error', resolve)
      server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)))
    } else {
      const socket = createSocket('udp4')
      socket.once('error', (err) => {
        socket.close()
        resolve(err)
      })
      socket.bind({ port, address: host, exclusive: true }, () =>
        socket.close(() => resolve(undefined)),
      )
    }
  })
}

/**
 * Whether something holds `port` on `host`: a bind there fails with `EADDRINUSE`. The probe
 * for a server's {@link StartableSubject.isRunning}, since it shows what `stop()` must
 * release, whether or not the server still answers.
 *
 * @param port - The port the component was given.
 * @param options.host - Default `127.0.0.1`.
 * @param options.protocol - Default `tcp`.
 * @throws The bind error when it is anything but `EADDRINUSE`.
 */
export async function portInUse(
  port: number,
  { host = '127.0.0.1', protocol = 'tcp' }: { host?: string; protocol?: PortProtocol } = {},
): Promise<boolean> {
  const err = await tryBind(port, host, protocol)
  if (err === undefined) return false
  if ((err as { code?: unknown }).code === 'EADDRINUSE') return true
  throw err
}

/**
 * A port that was free on `host` a moment ago, to hand a component whose port the test
 * must know before `start()` (another process may take it in between; that is rare on
 * loopback and shows as a bind error, never a wrong pass).
 *
 * @param options.host - Default `127.0.0.1`.
 * @param options.protocol - Default `tcp`.
 */
export function freePort({
  host = '127.0.0.1',
  protocol = 'tcp',
}: {
  host?: string
  protocol?: PortProtocol
} = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    if (protocol === 'tcp') {
      const server = createServer()
      server.once('error', reject)
      server.listen({ port: 0, host }, () => {
        const { port } = server.address() as { port: number }
        server.close(() => resolve(port))
      })
    } else {
      const socket = createSocket('udp4')
      socket.once('error', reject)
      socket.bind({ port: 0, address: host }, () => {
        const { port } = socket.address()
        socket.close(() => resolve(port))
      })
    }
  })
}
