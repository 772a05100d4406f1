import { createEdge } from '@rony/edge'
import { constructorOf, decodeEnvelope, encodeEnvelope, parseJson } from '@rony/envelope'
import { Echo, EchoReply, registerTestServices } from '@rony/testing'
import { describe, expect, it } from 'vitest'
import type { WebSocket } from 'ws'
import { wsGateway } from '../src/index.js'
import { connect, defer, firstAddress, nextMessage } from './helpers.js'

// What a Go client with the Go edge's JSON dispatcher sends: JSON envelopes in text frames.

async function jsonClient(): Promise<WebSocket> {
  const gateway = wsGateway({ port: 0 })
  const edge = createEdge({ id: 'json', gateways: [gateway] })
  registerTestServices(edge)
  defer(() => edge.stop({ timeout: 1_000 }))
  await edge.start()
  const client = await connect(firstAddress(gateway))
  defer(() => client.terminate())
  return client
}

/** The next message, which must be a text frame holding a JSON envelope. */
async function nextJson(client: WebSocket): Promise<Record<string, unknown>> {
  const { data, isBinary } = await nextMessage(client)
  expect(isBinary).toBe(false)
  return parseJson(data.toString('utf8')) as Record<string, unknown>
}

describe('JSON envelopes in WebSocket text frames', () => {
  it('answers a JSON envelope with a JSON envelope in a text frame, ids exact', async () => {
    const client = await jsonClient()
    client.send('{"requestId":18446744073709551615,"cmd":"Echo","message":{"Text":"hi"}}')
    const { data, isBinary } = await nextMessage(client)
    expect(isBinary).toBe(false)
    expect(data.toString()).toMatch(/^\{"requestId":18446744073709551615,"cmd":"EchoReply",/)
    expect(parseJson(data.toString())).toMatchObject({
      cmd: 'EchoReply',
      message: { Text: 'hi', ServerID: 'json' },
    })
  })

  it('keeps binary frames binary on the same connection', async () => {
    const client = await jsonClient()
    client.send('{"requestId":1,"cmd":"Echo","message":{"Text":"text"}}')
    expect(await nextJson(client)).toMatchObject({ requestId: 1, cmd: 'EchoReply' })
    const Echo_ = constructorOf('Echo')
    client.send(
      encodeEnvelope({ ctor: Echo_, requestId: 2n, message: Echo.encode({ Text: 'b' }).finish() }),
    )
    const reply = await nextMessage(client)
    expect(reply.isBinary).toBe(true)
    const envelope = decodeEnvelope(reply.data)
    expect([envelope.requestId, EchoReply.decode(envelope.message).Text]).toEqual([2n, 'b'])
  })

  it('sends the pushes of a JSON request as JSON, then its reply', async () => {
    const client = await jsonClient()
    client.send('{"requestId":3,"cmd":"PushMany","message":{"Count":2,"Text":"p"}}')
    const messages = [await nextJson(client), await nextJson(client), await nextJson(client)]
    expect(messages).toEqual([
      { requestId: 0, cmd: 'EchoReply', message: { Text: 'p#0', ServerID: 'json' } },
      { requestId: 0, cmd: 'EchoReply', message: { Text: 'p#1', ServerID: 'json' } },
      { requestId: 3, cmd: 'EchoReply', message: { Text: 'p', ServerID: 'json' } },
    ])
  })

  it('runs a JSON container (Go shape or JSON envelopes) and answers with one JSON container', async () => {
    const client = await jsonClient()
    const payload = Buffer.from(Echo.encode({ Text: 'go' }).finish()).toString('base64')
    client.send(
      JSON.stringify({
        requestId: 4,
        cmd: 'MessageContainer',
        message: {
          Length: 2,
          Envelopes: [
            { Constructor: String(constructorOf('Echo')), RequestID: '41', Message: payload },
            { requestId: 42, cmd: 'Echo', message: { Text: 'json' } },
            {
              Constructor: String(constructorOf('Ping')),
              RequestID: '43',
              JsonEncoded: true,
              Message: Buffer.from('{"ID":9007199254740993}').toString('base64'),
            },
          ],
        },
      }),
    )
    const reply = await nextJson(client)
    expect(reply.cmd).toBe('MessageContainer')
    const { Envelopes } = reply.message as { Envelopes: Record<string, unknown>[] }
    const byId = new Map(Envelopes.map((entry) => [entry.requestId, entry.message]))
    expect(byId.get(41)).toMatchObject({ Text: 'go' })
    expect(byId.get(42)).toMatchObject({ Text: 'json' })
    expect(byId.get(43)).toEqual({ ID: '9007199254740993' })
  })

  it('answers a text frame that is not a JSON envelope with a JSON E01 error, and keeps serving', async () => {
    const client = await jsonClient()
    const bad: [string, number, string][] = [
      ['not json', 0, 'ENVELOPE'],
      ['{"Text":"no cmd"}', 0, 'ENVELOPE'],
      ['{"requestId":18446744073709551616,"cmd":"Echo"}', 0, 'ENVELOPE'],
      ['{"requestId":5,"cmd":"Nope"}', 5, 'HANDLER'],
      ['{"requestId":6,"cmd":"Echo","message":{"Text":5}}', 6, 'MESSAGE'],
      ['{"requestId":7,"cmd":"Echo","message":{"DelayMs":9007199254740993}}', 7, 'MESSAGE'],
    ]
    for (const [text, requestId, items] of bad) {
      client.send(text)
      const reply = await nextJson(client)
      expect(reply, text).toMatchObject({
        requestId,
        cmd: 'Error',
        message: { Code: 'E01', Items: items },
      })
    }
    client.send('{"requestId":8,"cmd":"Echo","message":{"Text":"still here"}}')
    expect(await nextJson(client)).toMatchObject({ requestId: 8, message: { Text: 'still here' } })
  })
})
