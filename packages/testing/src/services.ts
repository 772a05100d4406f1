import type { Edge, RequestContext } from '@rony/edge'
import { RonyError } from '@rony/envelope'
import { Echo, EchoReply, Fail, PushMany } from './messages.js'

/** Longest `Echo.DelayMs` honoured, so a test can never park a handler for long. */
export const MAX_ECHO_DELAY_MS = 10_000
/** Most updates one `PushMany` sends. */
export const MAX_PUSHES = 1000

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Observations of the test services, for suites to assert on. */
export interface ServiceProbe {
  /** Echo handlers whose `ctx.signal` aborted while they waited. */
  aborted: number
  /** Echo handlers that started. */
  started: number
}

/**
 * Registers the test services on `edge`: `Echo` (optionally delayed; aborted with the
 * connection), `PushMany` (server pushes, then a reply) and `Fail` (throws).
 */
export function registerTestServices(edge: Edge): ServiceProbe {
  const probe: ServiceProbe = { aborted: 0, started: 0 }
  const reply = (req: Echo, ctx: RequestContext<Echo>): EchoReply =>
    EchoReply.create({ Text: req.Text, Payload: req.Payload, ServerID: ctx.serverId })
  const delayed = async (req: Echo, ctx: RequestContext<Echo>): Promise<EchoReply> => {
    try {
      await sleep(Math.min(req.DelayMs, MAX_ECHO_DELAY_MS), ctx.signal)
    } catch (reason) {
      probe.aborted++
      throw reason
    }
    return reply(req, ctx)
  }
  // Synchronous unless delayed, like most real handlers: no promise on the hot path.
  edge.handle(Echo, (req: Echo, ctx: RequestContext<Echo>) => {
    probe.started++
    return req.DelayMs > 0 ? delayed(req, ctx) : reply(req, ctx)
  })
  edge.handle(PushMany, (req: PushMany, ctx: RequestContext<PushMany>) => {
    const count = Math.min(req.Count, MAX_PUSHES)
    for (let i = 0; i < count; i++) {
      ctx.push(EchoReply.create({ Text: `${req.Text}#${i}`, ServerID: ctx.serverId }))
    }
    return EchoReply.create({ Text: req.Text, ServerID: ctx.serverId })
  })
  edge.handle(Fail, (req: Fail) => {
    if (req.Code) throw new RonyError(req.Code, req.Items || 'TEST', 'failed on request')
    throw new Error('a plain failure')
  })
  return probe
}
