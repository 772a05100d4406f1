import { createEdge, type Edge } from '@rony/edge'
import {
  C_MessageContainer,
  constructorOf,
  type EnvelopeInit,
  encodeContainer,
  encodeEnvelope,
} from '@rony/envelope'
import type { Gateway } from '@rony/interface'
import {
  Echo,
  EchoReply,
  echoEnvelopeOfSize,
  RawPeer,
  type Received,
  registerTestServices,
  type ServiceProbe,
} from '@rony/testing'
import Fastify from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { fastifyWsGateway, wsGateway } from '../src/index.js'
import { defer, rawConnect, type WsRawConnection } from './helpers.js'

// Bad input from the network, over a real socket: every kind gets its error reply (or, for
// a frame over maxPayload, a 1009 close), and the next valid request is still answered.

/** The gateway's maxPayload: a bigger frame closes the socket with 1009. */
const GATEWAY_LIMIT = 32 * 1024
/** The edge's maxEnvelopeBytes, below the gateway's: a frame in between gets E01/ENVELOPE. */
const EDGE_LIMIT = 16 * 1024
const MAX_CONTAINER_ENVELOPES = 8

const C_Echo = constructorOf('Echo')
const C_EchoReply = constructorOf('EchoReply')
const C_Unknown = 42n

// A process that crashes or leaks a rejection on bad input fails the file.
const escaped: unknown[] = []
const onEscape = (reason: unknown): void => void escaped.push(reason)
beforeAll(() => {
  process.on('unhandledRejection', onEscape)
  process.on('uncaughtException', onEscape)
})
afterAll(() => {
  process.off('unhandledRejection', onEscape)
  process.off('uncaughtException', onEscape)
})
afterEach(async () => {
  await new Promise((resolve) => setImmediate(resolve)) // let pending rejections surface
  expect(escaped).toEqual([])
})

/** Deterministic pseudo-random bytes (mulberry32), so a failure can be replayed. */
function randomBytes(seed: number, length: number): Uint8Array {
  let state = seed >>> 0
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    bytes[i] = (t ^ (t >>> 14)) & 0xff
  }
  return bytes
}

function concat(...parts: Array<Uint8Array | number[]>): Uint8Array {
  return Uint8Array.from(parts.flatMap((part) => [...part]))
}

/** An Echo request envelope, as `init` overrides it. */
function echoEnvelope(
  requestId: bigint,
  text = 'x',
  init: Partial<EnvelopeInit> = {},
): EnvelopeInit {
  return { ctor: C_Echo, requestId, message: Echo.encode({ Text: text }).finish(), ...init }
}

/** Bytes a protobuf decoder cannot read as Echo: field 1 claims 127 bytes, 2 follow. */
const GARBAGE_ECHO = Uint8Array.of(0x0a, 0x7f, 0x41, 0x42)

function container(requestId: bigint, message: Uint8Array): Uint8Array {
  return encodeEnvelope({ ctor: C_MessageContainer, requestId, message })
}

interface BadInput {
  name: string
  /** Sends the bad input on `connection`. */
  send(connection: WsRawConnection): void
  /**
   * What the server answers, one entry per envelope (inner envelopes of a container reply
   * included), as `<request id> <wire code>/<items>` or `<request id> EchoReply`, sorted; or
   * `close <code>` when the server closes the connection instead.
   */
  expected: string[]
  /** Echo handlers it runs (a valid Echo inside a container). */
  runs?: number
}

const bytes =
  (data: Uint8Array) =>
  (connection: WsRawConnection): void =>
    connection.send(data)

const BAD_INPUTS: BadInput[] = [
  ...[1, 2, 3].map(
    (seed): BadInput => ({
      name: `random bytes (seed ${seed})`,
      send: bytes(randomBytes(seed, 48)),
      // Seeded, so the outcome is fixed: these bytes fail to decode as an envelope.
      expected: ['0 E01/ENVELOPE'],
    }),
  ),
  {
    name: 'a truncated envelope',
    send: bytes(encodeEnvelope(echoEnvelope(1001n, 'cut short')).slice(0, -3)),
    expected: ['0 E01/ENVELOPE'],
  },
  {
    name: 'a constructor varint that overflows 64 bits',
    send: bytes(concat([0x08], new Array(9).fill(0xff), [0x7f])),
    expected: ['0 E01/ENVELOPE'],
  },
  {
    name: 'a tag varint longer than 10 bytes',
    send: bytes(concat([0x88], new Array(10).fill(0x80), [0x00])),
    expected: ['0 E01/ENVELOPE'],
  },
  {
    name: 'invalid wire types (6 and 7)',
    send: bytes(Uint8Array.of(0x0e, 0x0f, 0x00)),
    expected: ['0 E01/ENVELOPE'],
  },
  {
    name: 'a stray end-group',
    send: bytes(Uint8Array.of(0x0c)),
    expected: ['0 E01/ENVELOPE'],
  },
  {
    // Skipped as Go's proto.Unmarshal does: what is left has constructor 0, no handler.
    name: 'known fields with the wrong wire type (constructor as bytes, request id as varint)',
    send: bytes(Uint8Array.of(0x0a, 0x02, 0x01, 0x02, 0x10, 0x05)),
    expected: ['0 E01/HANDLER'],
  },
  {
    name: 'field number 0',
    send: bytes(Uint8Array.of(0x00, 0x01)),
    expected: ['0 E01/ENVELOPE'],
  },
  {
    name: 'groups nested 70 deep',
    send: bytes(new Uint8Array(70).fill(0x0b)),
    expected: ['0 E01/ENVELOPE'],
  },
  {
    name: 'a length prefix past the end of the frame',
    send: bytes(Uint8Array.of(0x22, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01)),
    expected: ['0 E01/ENVELOPE'],
  },
  {
    // Every field absent: constructor 0, for which there is no handler.
    name: 'an empty frame',
    send: bytes(new Uint8Array(0)),
    expected: ['0 E01/HANDLER'],
  },
  {
    name: 'an envelope with an unknown constructor',
    send: bytes(encodeEnvelope({ ctor: C_Unknown, requestId: 1002n })),
    expected: ['1002 E01/HANDLER'],
  },
  {
    name: 'an Echo whose payload does not decode',
    send: bytes(encodeEnvelope(echoEnvelope(1003n, '', { message: GARBAGE_ECHO }))),
    expected: ['1003 E01/ENVELOPE'],
  },
  {
    name: 'a container of garbage',
    send: bytes(container(1004n, Uint8Array.of(0x12, 0xff, 0xff, 0x01))),
    expected: ['1004 E01/ENVELOPE'],
  },
  {
    // A valid Echo, then an inner envelope cut short: the whole container is refused.
    name: 'a container with a truncated envelope inside',
    send: bytes(
      container(
        1005n,
        concat(
          encodeContainer({ envelopes: [echoEnvelope(1105n, 'not run')] }),
          [0x12, 0x05, 0x08],
        ),
      ),
    ),
    expected: ['1005 E01/ENVELOPE'],
  },
  {
    // Decodable envelopes, bad contents: each gets its own error in one container reply.
    name: 'a container of bad envelopes next to a good one',
    send: bytes(
      container(
        1006n,
        encodeContainer({
          envelopes: [
            echoEnvelope(1106n, '', { message: GARBAGE_ECHO }),
            { ctor: C_Unknown, requestId: 1107n },
            { ctor: C_MessageContainer, requestId: 1108n, message: new Uint8Array(0) },
            echoEnvelope(1109n, 'good one'),
          ],
        }),
      ),
    ),
    expected: ['1106 E01/ENVELOPE', '1107 E01/HANDLER', '1108 E01/HANDLER', '1109 EchoReply'],
    runs: 1,
  },
  {
    name: `a container of ${MAX_CONTAINER_ENVELOPES + 1} envelopes (over maxContainerEnvelopes)`,
    send: bytes(
      container(
        1010n,
        encodeContainer({
          envelopes: Array.from({ length: MAX_CONTAINER_ENVELOPES + 1 }, (_, i) =>
            echoEnvelope(1200n + BigInt(i), 'not run'),
          ),
        }),
      ),
    ),
    expected: ['1010 E03/ENVELOPES'],
  },
  {
    name: "an envelope over the edge's maxEnvelopeBytes (under the gateway's maxPayload)",
    send: bytes(echoEnvelopeOfSize(EDGE_LIMIT + 1, 1011n)),
    expected: ['0 E01/ENVELOPE'],
  },
  {
    name: "a frame over the gateway's maxPayload",
    send: bytes(echoEnvelopeOfSize(GATEWAY_LIMIT + 1, 1012n)),
    expected: ['close 1009'],
  },
]

function describeReply({ envelope, error }: Received): string {
  if (error) return `${envelope.requestId} ${error.wireCode}/${error.items}`
  if (envelope.ctor === C_EchoReply) return `${envelope.requestId} EchoReply`
  return `${envelope.requestId} ctor ${envelope.ctor}`
}

interface Server {
  edge: Edge
  probe: ServiceProbe
  url: string
}

function edgeFor(gateway: Gateway): { edge: Edge; probe: ServiceProbe } {
  const edge = createEdge({
    id: 'malformed',
    gateways: [gateway],
    limits: { maxEnvelopeBytes: EDGE_LIMIT, maxContainerEnvelopes: MAX_CONTAINER_ENVELOPES },
  })
  return { edge, probe: registerTestServices(edge) }
}

const SERVERS: Record<string, () => Promise<Server>> = {
  wsGateway: async () => {
    const gateway = wsGateway({ maxPayload: GATEWAY_LIMIT })
    const { edge, probe } = edgeFor(gateway)
    defer(() => edge.stop({ timeout: 1_000 }))
    await edge.start()
    return { edge, probe, url: gateway.addresses()[0]! }
  },
  fastifyWsGateway: async () => {
    const app = Fastify()
    defer(() => app.close())
    const gateway = fastifyWsGateway({ maxPayload: GATEWAY_LIMIT })
    await app.register(gateway.plugin)
    const { edge, probe } = edgeFor(gateway)
    defer(() => edge.stop({ timeout: 1_000 }))
    await edge.start()
    await app.listen({ port: 0, host: '127.0.0.1' })
    return { edge, probe, url: gateway.addresses()[0]! }
  },
}

describe.each(Object.keys(SERVERS))('malformed input on %s', (kind) => {
  const start = SERVERS[kind]!

  it('the server answers the next valid request after each bad one', async () => {
    const { edge, probe, url } = await start()
    const closes: unknown[] = []
    edge.on('connection:close', (_conn, reason) => closes.push(reason))
    let peer = new RawPeer(await rawConnect(url))
    let answered = 0
    let runs = 0
    for (const bad of BAD_INPUTS) {
      bad.send(peer.connection as WsRawConnection)
      const replies: string[] = []
      if (bad.expected[0]?.startsWith('close ')) {
        const { code } = await peer.connection.closed
        replies.push(`close ${code}`)
        // A new connection for the rest; nothing else was lost.
        peer = new RawPeer(await rawConnect(url))
      }
      const requestId = peer.send(Echo, C_Echo, Echo.create({ Text: `after ${bad.name}` }))
      // Replies may come in any order: a container's batch can follow the Echo's reply.
      let echoed = false
      while (!echoed || replies.length < bad.expected.length) {
        const reply = await peer.next()
        if (reply.envelope.requestId === requestId && reply.error === undefined) {
          expect(reply.envelope.ctor, bad.name).toBe(C_EchoReply)
          expect(EchoReply.decode(reply.envelope.message).Text, bad.name).toBe(`after ${bad.name}`)
          answered++
          echoed = true
        } else {
          replies.push(describeReply(reply))
        }
      }
      replies.sort()
      expect(replies, bad.name).toEqual(bad.expected)
      runs += bad.runs ?? 0
    }
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(12)
    expect(answered).toBe(BAD_INPUTS.length)
    // Only the Echos sent to be answered ran, and the one valid Echo inside a container.
    expect(probe.started).toBe(answered + runs)
    expect(closes).toEqual([expect.objectContaining({ initiator: 'local', code: 1009 })])
    expect(edge.connectionCount).toBe(1)
  })

  it('answers a burst of bad frames, sent without waiting, then the valid request', async () => {
    const { probe, url } = await start()
    const peer = new RawPeer(await rawConnect(url))
    const burst = BAD_INPUTS.filter((bad) => !bad.expected[0]?.startsWith('close '))
    for (const bad of burst) bad.send(peer.connection as WsRawConnection)
    const requestId = peer.send(Echo, C_Echo, Echo.create({ Text: 'after the burst' }))
    const expected = burst.flatMap((bad) => bad.expected).sort()
    const replies: string[] = []
    let echoed = false
    while (!echoed || replies.length < expected.length) {
      const reply = await peer.next()
      if (reply.envelope.requestId === requestId && reply.error === undefined) echoed = true
      else replies.push(describeReply(reply))
    }
    expect(replies.sort()).toEqual(expected)
    expect(probe.started).toBe(1 + burst.reduce((sum, bad) => sum + (bad.runs ?? 0), 0))
  })
})
