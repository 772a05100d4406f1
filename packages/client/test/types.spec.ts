import { type Envelope, rony } from '@rony/envelope'
import type { Message } from 'protobufjs'
import { describe, expectTypeOf, it } from 'vitest'
import WebSocket from 'ws'
import { type Client, createClient, type Update } from '../src/index.js'
import { EchoRequest, EchoResponse } from './helpers/server.js'

// Compile-time checks (tsc runs over test/); the bodies never run a request.
describe('types', () => {
  it('types the reply from the response type', () => {
    const client: Client = createClient('ws://127.0.0.1:1/')
    // Functions that are never called: only their types are checked, no request is sent.
    const ping = () => client.request(rony.Ping.create({ ID: 1 }), rony.Pong)
    const echo = () => client.request(EchoRequest.create({}), EchoResponse)
    const untyped = () => client.request(rony.Ping.create({ ID: 1 }))
    expectTypeOf(ping).returns.resolves.toEqualTypeOf<rony.Pong & rony.Pong.$Shape>()
    expectTypeOf(echo).returns.resolves.toEqualTypeOf<ReturnType<typeof EchoResponse.decode>>()
    expectTypeOf<ReturnType<typeof EchoResponse.decode>>().toExtend<Message>()
    expectTypeOf(untyped).returns.resolves.toBeUnknown()
    expectTypeOf<Update['envelope']>().toEqualTypeOf<Envelope>()
    void client.close()
  })

  it('accepts the global WebSocket and the ws package class without casts', () => {
    const a = createClient('ws://127.0.0.1:1/', { WebSocket: globalThis.WebSocket })
    const b = createClient('ws://127.0.0.1:1/', { WebSocket })
    void a.close()
    void b.close()
  })
})
