/**
 * Load through the real `@rony/client`, shared by the ws and quic suites: one client, `window`
 * concurrent `request()` loops, Echo with a 64-byte payload.
 */
import { type Client, createClient, type WebSocketConstructor } from '@rony/client'
import { Echo, EchoReply } from '@rony/testing'
import WebSocket from 'ws'
import {
  type LoadSession,
  type PhaseLimits,
  type PhaseResult,
  requestLoops,
  type ServerProcess,
} from './load.ts'

export const CLIENT_PAYLOAD = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)

/** `workers` loops of `client.request` (see `requestLoops`); bad replies and errors count as bad. */
async function clientPhase(
  client: Client,
  workers: number,
  limits: PhaseLimits,
): Promise<PhaseResult> {
  const message = Echo.create({ Payload: CLIENT_PAYLOAD })
  const result = await requestLoops(workers, limits, async () => {
    try {
      const reply = await client.request(message, EchoReply, { timeout: 5_000 })
      return reply.Payload.length === CLIENT_PAYLOAD.length
    } catch {
      return false
    }
  })
  if (result.bad >= 100) throw new Error(`@rony/client: ${result.bad} failed requests`)
  return result
}

/** A session of `window` concurrent `request()` loops through one client connected to `url`. */
export async function openClientSession(
  server: ServerProcess,
  url: string,
  window: number,
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
    phase: (limits) => clientPhase(client, window, limits),
    close: () => client.close(),
  }
}
