/**
 * Load through the real `@rony/client`, shared by the ws and quic suites: one client, `window`
 * concurrent loops of `request()` (or of a typed service call), Echo with a 64-byte payload.
 */
import { type Client, createClient, serviceClient, type WebSocketConstructor } from '@rony/client'
import { Echo, EchoReply } from '@rony/testing'
import WebSocket from 'ws'
import { BenchEcho } from './echo-service.ts'
import {
  type LoadSession,
  type PhaseLimits,
  type PhaseResult,
  requestLoops,
  type ServerProcess,
} from './load.ts'

export const CLIENT_PAYLOAD = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)

/**
 * How the loops call: `request` is `client.request(Echo, EchoReply)`; `service` is the typed
 * `serviceClient(BenchEcho, client).echo(Echo)` (`client.call` under `C_BenchEchoEcho`),
 * which the rony bench server answers with the same handler code.
 */
export type ClientCall = 'request' | 'service'

/** `workers` loops of `call` (see `requestLoops`); bad replies and errors count as bad. */
async function clientPhase(
  client: Client,
  workers: number,
  limits: PhaseLimits,
  call: ClientCall,
): Promise<PhaseResult> {
  // The same message instance either way, so only the call path differs.
  const message = Echo.create({ Payload: CLIENT_PAYLOAD })
  const options = { timeout: 5_000 }
  const echo =
    call === 'service'
      ? serviceClient(BenchEcho, client).echo
      : (input: Echo, opts: typeof options) => client.request(input, EchoReply, opts)
  const result = await requestLoops(workers, limits, async () => {
    try {
      const reply = await echo(message, options)
      return reply.Payload.length === CLIENT_PAYLOAD.length
    } catch {
      return false
    }
  })
  if (result.bad >= 100) throw new Error(`@rony/client: ${result.bad} failed requests`)
  return result
}

/** A session of `window` concurrent `call` loops through one client connected to `url`. */
export async function openClientSession(
  server: ServerProcess,
  url: string,
  window: number,
  call: ClientCall = 'request',
): Promise<LoadSession> {
  const client = createClient(url, {
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    reconnect: false,
    keepalive: false,
  })
  try {
    await client.connect({ timeout: 10_000 })
  } catch (error) {
    await client.close()
    throw error
  }
  return {
    server,
    phase: (limits) => clientPhase(client, window, limits, call),
    close: () => client.close(),
  }
}
