/** `serviceClient` and `client.call`: a generated service's methods, sent under `C_<Service><Method>`. */
import {
  C_Pong,
  constructorOf,
  type MethodDescriptor,
  rony,
  type ServiceDescriptor,
} from '@rony/envelope'
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest'
import { type Client, createClient, serviceClient } from '../src/index.js'
import { startServer, type TestServer } from './helpers/server.js'

const C_PingerPing = constructorOf('PingerPing')

/** What `rony gen` emits for `service Pinger { rpc Ping (Ping) returns (Pong); }`. */
const Pinger: ServiceDescriptor<{ readonly ping: MethodDescriptor<rony.Ping, rony.Pong> }> = {
  name: 'Pinger',
  fullName: 'rony.Pinger',
  noClient: false,
  methods: {
    ping: {
      name: 'Ping',
      ctor: C_PingerPing,
      input: rony.Ping,
      output: rony.Pong,
      options: { mode: 'local', consistency: 'linearizable', internal: false },
    },
  },
}

let server: TestServer
let client: Client
const seen: bigint[] = []

beforeEach(async () => {
  server = await startServer()
  server.script = (request, socket) => {
    seen.push(request.ctor)
    const ping = rony.Ping.decode(request.message)
    server.reply(socket, request, C_Pong, rony.Pong.encode({ ID: ping.ID }).finish())
  }
  client = createClient(server.url, { keepalive: false })
})

afterEach(async () => {
  seen.length = 0
  await client.close()
  await server.close()
})

describe('serviceClient', () => {
  it('sends each method under C_<Service><Method> and resolves with its typed response', async () => {
    const pinger = serviceClient(Pinger, client)
    const pong = await pinger.ping({ ID: 42 })
    expectTypeOf(pong).toEqualTypeOf<rony.Pong>()
    expect(String(pong.ID)).toBe('42')
    expect(String((await client.call(Pinger.methods.ping, rony.Ping.create({ ID: 7 }))).ID)).toBe(
      '7',
    )
    expect(seen).toEqual([C_PingerPing, C_PingerPing])
  })

  it('is typed by the descriptor', () => {
    const pinger = serviceClient(Pinger, client)
    const typed = async () => {
      // @ts-expect-error: Ping has no field `name`
      await pinger.ping({ name: 'x' })
      // @ts-expect-error: no such method
      await pinger.pong({ ID: 1 })
      const pong = await pinger.ping({ ID: 1 })
      // @ts-expect-error: Pong has no field `text`
      void pong.text
    }
    expect(typed).toBeTypeOf('function') // compile-time checks only; never called
  })
})
