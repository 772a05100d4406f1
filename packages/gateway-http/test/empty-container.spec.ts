import { createEdge, type Edge, silentLogger } from '@rony/edge'
import {
  C_Error,
  C_MessageContainer,
  C_Ping,
  C_Pong,
  decodeEnvelope,
  encodeContainer,
  encodeEnvelope,
  rony,
} from '@rony/envelope'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpGateway } from '../src/index.js'
import { request } from './helpers.js'

// Issue 13: an empty MessageContainer got no answer, so each such POST held a connection
// slot until the gateway's timeout and a few dozen of them exhausted maxConnections.

const MAX_CONNECTIONS = 4
const emptyContainer = (requestId: bigint): Uint8Array =>
  encodeEnvelope({
    ctor: C_MessageContainer,
    requestId,
    message: encodeContainer({ envelopes: [] }),
  })

describe('an empty container in an HTTP POST', () => {
  let edge: Edge
  let url: string

  beforeAll(async () => {
    edge = createEdge({
      id: 'n1',
      gateways: [httpGateway({ port: 0, prefix: '/rpc' })],
      limits: { maxConnections: MAX_CONNECTIONS },
      logger: silentLogger,
    })
    await edge.start()
    url = edge.addresses()[0]!
  })
  afterAll(() => edge.stop({ timeout: 1_000 }))

  it('is answered at once with E01/ENVELOPES, and frees its slot: more of them than maxConnections pass', async () => {
    for (let i = 1; i <= MAX_CONNECTIONS * 2; i++) {
      const res = await request(url, {
        contentType: 'application/x-protobuf',
        body: emptyContainer(BigInt(i)),
      })
      const reply = decodeEnvelope(res.body)
      expect(reply.requestId).toBe(BigInt(i))
      expect(reply.ctor).toBe(C_Error)
      expect(rony.Error.decode(reply.message)).toMatchObject({ Code: 'E01', Items: 'ENVELOPES' })
    }
    expect(edge.connectionCount).toBe(0)
    const ping = encodeEnvelope({
      ctor: C_Ping,
      requestId: 99n,
      message: rony.Ping.encode({ ID: 9 }).finish(),
    })
    const res = await request(url, { contentType: 'application/x-protobuf', body: ping })
    expect(decodeEnvelope(res.body).ctor).toBe(C_Pong)
  })
})
