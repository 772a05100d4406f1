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
import { wsGateway } from '../src/index.js'
import { connect, firstAddress, nextMessage } from './helpers.js'

// Issue 13: an empty MessageContainer got no answer, so a caller waiting for it hung.
// Over a real socket, every request envelope gets exactly one answer.

describe('an empty container over a real WebSocket', () => {
  let edge: Edge
  let url: string

  beforeAll(async () => {
    const gateway = wsGateway({ port: 0 })
    edge = createEdge({ id: 'n1', gateways: [gateway], logger: silentLogger })
    await edge.start()
    url = firstAddress(gateway)
  })
  afterAll(() => edge.stop({ timeout: 1_000 }))

  it('is answered E01/ENVELOPES under its request id, whether it has no envelopes or no bytes', async () => {
    const ws = await connect(url)
    const empties = [encodeContainer({ envelopes: [] }), new Uint8Array()]
    for (const [index, message] of empties.entries()) {
      const requestId = BigInt(index + 1)
      ws.send(encodeEnvelope({ ctor: C_MessageContainer, requestId, message }))
      const reply = decodeEnvelope((await nextMessage(ws)).data)
      expect(reply.requestId).toBe(requestId)
      expect(reply.ctor).toBe(C_Error)
      expect(rony.Error.decode(reply.message)).toMatchObject({ Code: 'E01', Items: 'ENVELOPES' })
    }
    // The connection still serves.
    ws.send(
      encodeEnvelope({
        ctor: C_Ping,
        requestId: 3n,
        message: rony.Ping.encode({ ID: 3 }).finish(),
      }),
    )
    const pong = decodeEnvelope((await nextMessage(ws)).data)
    expect([pong.ctor, pong.requestId]).toEqual([C_Pong, 3n])
  })
})
