import { createEdge, memoryGateway } from '@rony/edge'
import { constructorOf, decodeEnvelope, encodeEnvelope } from '@rony/envelope'
import { Echo, EchoReply } from '@rony/testing'
import type { Suite } from '../harness.ts'
import { sink } from '../sink.ts'

/**
 * In-process dispatch: envelope bytes in → decode → handler → encode → envelope bytes out,
 * through a memory gateway (no socket). The counterpart of the Go seed's
 * `BenchmarkEdgeServerMessageSerial` (1195 ns/op) and `…Parallel` (272 ns/op on 16
 * threads), whose request was a `ReqSimple1{P1: "100"}`. The floor is the same codec work
 * with no framework around it.
 */

const C_Echo = constructorOf('Echo')
const C_EchoReply = constructorOf('EchoReply')
const request = encodeEnvelope({
  ctor: C_Echo,
  requestId: 0x1234_5678n,
  message: Echo.encode({ Text: '100' }).finish(),
})

let replies = 0
const onMessage = (bytes: Uint8Array): void => {
  replies++
  sink(bytes)
}

async function startEdge(asyncHandler: boolean) {
  const gateway = memoryGateway()
  const edge = createEdge({ id: 'bench', gateways: [gateway], limits: { maxInFlight: 1024 } })
  edge.handle(
    Echo,
    asyncHandler
      ? async (req: Echo) => EchoReply.create({ Text: req.Text })
      : (req: Echo) => EchoReply.create({ Text: req.Text }),
  )
  await edge.start()
  return { edge, client: gateway.connect({ onMessage }) }
}

let sync: Awaited<ReturnType<typeof startEdge>>
let async: Awaited<ReturnType<typeof startEdge>>

/** Sends `count` requests back to back and resolves once every reply arrived. */
function inFlight(count: number): Promise<void> {
  const target = replies + count
  for (let i = 0; i < count; i++) async.client.send(request)
  return new Promise((resolve) => {
    const check = (): void => {
      if (replies >= target) resolve()
      else setImmediate(check)
    }
    queueMicrotask(check)
  })
}

function floor(): void {
  const envelope = decodeEnvelope(request)
  const req = Echo.decode(envelope.message)
  const reply = EchoReply.create({ Text: req.Text })
  sink(
    encodeEnvelope({
      ctor: C_EchoReply,
      requestId: envelope.requestId,
      message: EchoReply.encode(reply).finish(),
    }),
  )
}

export const dispatchSuite: Suite = {
  name: 'in-process dispatch (memory gateway)',
  description:
    "Envelope bytes → decode → Echo handler → encode → reply bytes, no socket. Go seed (16 threads, not this machine): serial 1195 ns/op, parallel 272 ns/op. 'floor' is the codec work alone.",
  baseline: 'edge, sync handler (serial)',
  cases: [
    { name: 'floor: codec only, no framework', batch: 100, fn: floor },
    { name: 'edge, sync handler (serial)', batch: 100, fn: () => sync.client.send(request) },
    {
      name: 'edge, async handler, 64 in flight (per request)',
      fn: () => inFlight(64),
      ops: 64,
      async: true,
    },
  ],
  goals: [{ case: 'edge, sync handler (serial)', maxNs: 1000 }],
  async setup() {
    sync = await startEdge(false)
    async = await startEdge(true)
  },
  async teardown() {
    await Promise.all([sync.edge.stop(), async.edge.stop()])
  },
}
