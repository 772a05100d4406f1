import { tcpTransport, udpTransport } from '@rony/transport'
import type { GossipTransports } from './options.js'

export { systemClock, systemRandom } from '@rony/transport'

/**
 * UDP + TCP transports bound to the same `host:port`, as memberlist binds them. With port
 * 0, TCP is started first and UDP takes the port it got, so one advertised address serves
 * both (the TCP transport is started here; the component's own `start()` is then a no-op).
 */
export async function defaultTransports(bind: string): Promise<GossipTransports> {
  const colon = bind.lastIndexOf(':')
  const host = bind.slice(0, colon)
  const port = bind.slice(colon + 1)
  const stream = tcpTransport({ bind })
  if (port !== '0') return { packet: udpTransport({ bind }), stream }
  await stream.start()
  const bound = stream.address.slice(stream.address.lastIndexOf(':') + 1)
  return { packet: udpTransport({ bind: `${host}:${bound}` }), stream }
}
