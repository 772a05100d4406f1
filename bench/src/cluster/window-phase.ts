/**
 * The cluster suite's load loop: `window` requests in flight on one channel (a raw `ws`
 * socket, as in the ws suite, or a memory connection), each with its own request id, so
 * replies are matched by id (a follower's forwarded answers may overtake one another).
 * Bounded in count and time.
 */
import { decodeEnvelope } from '@rony/envelope'
import type WebSocket from 'ws'
import type { PhaseLimits, PhaseResult } from '../load.ts'

/** Where requests go and replies come from. */
export interface Channel {
  send(bytes: Uint8Array): void
  /** Starts delivering replies (and a close) to the phase; returns the function that stops it. */
  listen(onMessage: (bytes: Uint8Array) => void, onClose: (reason: string) => void): () => void
}

/** A raw `ws` socket as a {@link Channel}. */
export function wsChannel(socket: WebSocket): Channel {
  return {
    send: (bytes) => socket.send(bytes),
    listen(onMessage, onClose) {
      const close = (code: number) => onClose(`socket closed (code ${code})`)
      socket.on('message', onMessage)
      socket.on('close', close)
      return () => {
        socket.off('message', onMessage)
        socket.off('close', close)
      }
    },
  }
}

/**
 * Sends `window` requests (`build(id)` for ids 1..window), then one more per reply on the
 * freed id, until `limits.count` completed or `limits.maxMs` passed (then it drains). A reply
 * whose constructor is not `replyCtor` counts as bad. Rejects when the channel closes or the
 * phase has not drained 10 s after its cap.
 */
export function windowPhase(
  channel: Channel,
  build: (id: bigint) => Uint8Array,
  window: number,
  replyCtor: bigint,
  limits: PhaseLimits,
): Promise<PhaseResult> {
  const requests = Array.from({ length: window }, (_, i) => build(BigInt(i + 1)))
  const sentAt = new Float64Array(window)
  const latencies = new Float64Array(limits.count)
  let sent = 0
  let completed = 0
  let bad = 0
  let outstanding = 0
  let capped = false
  const start = performance.now()
  const deadline = start + limits.maxMs
  let end = start
  return new Promise<PhaseResult>((resolve, reject) => {
    const finish = (error?: Error): void => {
      clearTimeout(watchdog)
      stopListening()
      if (error) reject(error)
      else {
        resolve({
          completed,
          bad,
          elapsedMs: end - start,
          capped,
          latenciesUs: latencies.subarray(0, completed),
        })
      }
    }
    const watchdog = setTimeout(
      () => finish(new Error(`ws phase did not drain: ${outstanding} requests unanswered`)),
      limits.maxMs + 10_000,
    )
    const send = (slot: number): void => {
      sent++
      outstanding++
      sentAt[slot] = performance.now()
      channel.send(requests[slot] as Uint8Array)
    }
    const onMessage = (data: Uint8Array): void => {
      const now = performance.now()
      let slot = -1
      let good = false
      try {
        const reply = decodeEnvelope(data)
        slot = Number(reply.requestId) - 1
        good = reply.ctor === replyCtor
      } catch {}
      if (slot < 0 || slot >= window) {
        bad++ // not an answer to one of ours (a push, or garbage)
        return
      }
      outstanding--
      end = now
      if (good) latencies[completed++] = (now - (sentAt[slot] as number)) * 1000
      else bad++
      if (now > deadline) capped = true
      if (!capped && sent < limits.count && bad < 100) send(slot)
      else if (outstanding === 0) finish()
    }
    const stopListening = channel.listen(onMessage, (reason) =>
      finish(new Error(`${reason} during the phase`)),
    )
    for (let slot = 0; slot < window && sent < limits.count; slot++) send(slot)
  })
}
