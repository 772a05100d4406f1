/**
 * Load through the real `@rony/client`, shared by the ws and quic suites: one client, `window`
 * concurrent `request()` loops, Echo with a 64-byte payload.
 */
import { type Client, createClient, type WebSocketConstructor } from '@rony/client'
import { Echo, EchoReply } from '@rony/testing'
import WebSocket from 'ws'
import { type PhaseLimits, type PhaseResult, requestLoops, type ServerProcess } from './load.ts'

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

/**
 * Connects a client to `url`, warms up, then measures one phase of `window` concurrent
 * requests, with the server's CPU time over it.
 */
export async function measureClient(
  server: ServerProcess,
  url: string,
  window: number,
  warmup: PhaseLimits,
  limits: PhaseLimits,
): Promise<PhaseResult> {
  const client = createClient(url, {
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    reconnect: false,
    keepalive: false,
  })
  try {
    await client.connect({ timeout: 10_000 })
    await clientPhase(client, window, warmup)
    const before = (await server.stats()).cpuUs
    const phase = await clientPhase(client, window, limits)
    phase.serverCpuUs = (await server.stats()).cpuUs - before
    return phase
  } finally {
    await client.close()
  }
}
