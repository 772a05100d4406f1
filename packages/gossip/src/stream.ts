import type { MessageStream } from '@rony/interface'
import { frameMessages, unframe } from './codec/crypto.js'
import * as wire from './codec/wire.js'
import type { GossipContext } from './context.js'

/**
 * One request/response exchange over a fresh stream, bounded by a timer on the injected
 * clock (never a wall-clock timer) and by the component's shutdown signal.
 *
 * @returns The decoded reply, or `undefined` on any failure (unreachable, timeout, garbage:
 * counted in the stats, never thrown).
 */
export async function exchange(
  ctx: GossipContext,
  to: string,
  parts: Uint8Array[],
  timeoutMs: number,
): Promise<wire.Message[] | undefined> {
  if (ctx.signal.aborted) return undefined
  const ctrl = new AbortController()
  const onStop = (): void => ctrl.abort()
  ctx.signal.addEventListener('abort', onStop, { once: true })
  let stream: MessageStream | undefined
  const timer = ctx.timers.after(timeoutMs, () => {
    ctrl.abort()
    stream?.abort()
  })
  try {
    stream = await ctx.streams.dial(to, { signal: ctrl.signal })
    if (ctrl.signal.aborted) {
      stream.abort()
      return undefined
    }
    await stream.send(frameMessages(ctx.keyring, parts))
    const reply = await readOne(ctx, stream)
    await stream.close()
    return reply
  } catch (err) {
    stream?.abort()
    if (ctx.log.enabled) ctx.log('stream exchange with %s failed: %s', to, (err as Error).message)
    return undefined
  } finally {
    ctx.timers.cancel(timer)
    ctx.signal.removeEventListener('abort', onStop)
  }
}

/**
 * Reads and decodes the first message of a stream.
 *
 * @returns The messages, or `undefined` when the stream ended or the bytes were refused.
 */
export async function readOne(
  ctx: GossipContext,
  stream: MessageStream,
): Promise<wire.Message[] | undefined> {
  for await (const data of stream) {
    ctx.counters.bytesReceived += data.byteLength
    return decodeFramed(ctx, data)
  }
  return undefined
}

/** Opens and decodes a framed compound, counting why it was refused. */
export function decodeFramed(ctx: GossipContext, data: Uint8Array): wire.Message[] | undefined {
  const opened = unframe(data, ctx.keyring)
  if (typeof opened === 'string') {
    ctx.counters.dropped[opened]++
    return undefined
  }
  try {
    const msgs = wire.decodeCompound(opened)
    if (msgs.length > 0) return msgs
  } catch (err) {
    // protobufjs reports reads past the end as a RangeError ("index out of range").
    ctx.counters.dropped[err instanceof RangeError ? 'truncated' : 'malformed']++
    return undefined
  }
  ctx.counters.dropped.malformed++
  return undefined
}
