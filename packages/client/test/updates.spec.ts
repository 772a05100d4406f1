import { C_Error, C_Pong, encodeEnvelope, RonyError, rony } from '@rony/envelope'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Client, createClient, type Update } from '../src/index.js'
import {
  C_Notice,
  containerFrame,
  Notice,
  sleep,
  startServer,
  type TestServer,
  waitFor,
} from './helpers/server.js'

let server: TestServer
let client: Client

beforeEach(async () => {
  server = await startServer()
  client = createClient(server.url, { keepalive: false })
  await client.connect()
  await waitFor(() => server.sockets().length === 1)
})

afterEach(async () => {
  await client.close()
  await server.close()
})

function notice(text: string, seq = 0): Uint8Array {
  return Notice.encode({ text, seq }).finish()
}

describe('updates', () => {
  it("delivers server pushes to on('update'), decoded when registered", async () => {
    const updates: Update[] = []
    const off = client.on('update', (update) => updates.push(update))
    server.push(C_Notice, notice('unregistered'))
    await waitFor(() => updates.length === 1)
    expect(updates[0]).toMatchObject({ ctor: C_Notice, name: undefined, message: undefined })
    expect(Notice.decode(updates[0]!.envelope.message).toJSON()).toEqual({ text: 'unregistered' })

    client.registry.register(Notice)
    server.push(C_Notice, notice('registered', 2))
    await waitFor(() => updates.length === 2)
    expect(updates[1]).toMatchObject({ ctor: C_Notice, name: 'Notice', type: Notice })
    expect((updates[1]!.message as { toJSON(): unknown }).toJSON()).toEqual({
      text: 'registered',
      seq: 2,
    })

    off()
    server.push(C_Notice, notice('after off'))
    await client.request(rony.Ping.create({ ID: 1 })) // the push is ahead of this reply
    expect(updates).toHaveLength(2)
  })

  it('delivers updates inside a container along with replies', async () => {
    const seen: string[] = []
    client.registry.register(Notice)
    client.on('update', (u) => seen.push((u.message as { text: string }).text))
    server.script = (request, socket, s) =>
      s.send(
        socket,
        containerFrame([
          { ctor: C_Notice, message: notice('before') },
          {
            ctor: C_Pong,
            requestId: request.requestId,
            message: rony.Pong.encode({ ID: 9 }).finish(),
          },
          { ctor: C_Notice, message: notice('after') },
        ]),
      )
    const pong = await client.request(rony.Ping.create({ ID: 9 }), rony.Pong)
    expect(pong.ID.toString()).toBe('9')
    expect(seen).toEqual(['before', 'after'])
  })

  it('yields updates to for-await and ends the loop at close()', async () => {
    client.registry.register(Notice)
    const texts: string[] = []
    const loop = (async () => {
      for await (const update of client.updates()) {
        texts.push((update.message as { text: string }).text)
      }
      return 'ended'
    })()
    await sleep(10)
    for (let i = 0; i < 5; i++) server.push(C_Notice, notice(`u${i}`, i))
    await waitFor(() => texts.length === 5)
    await client.close()
    await expect(loop).resolves.toBe('ended')
    expect(texts).toEqual(['u0', 'u1', 'u2', 'u3', 'u4'])
    // An iterator made after close() is empty.
    const after = await client.updates().next()
    expect(after.done).toBe(true)
  })

  it('buffers updates for a slow consumer and serves several iterators', async () => {
    const a = client.updates()
    const b = client.updates()
    for (let i = 0; i < 3; i++) server.push(C_Notice, notice(`u${i}`))
    await sleep(50)
    for (const iterator of [a, b]) {
      for (let i = 0; i < 3; i++) {
        const { value } = await iterator.next()
        expect(Notice.decode(value!.envelope.message).toJSON()).toEqual({ text: `u${i}` })
      }
    }
    await a.return?.()
    expect((await a.next()).done).toBe(true)
    await b.return?.()
  })

  it('throws signal.reason from the loop when the signal aborts', async () => {
    const controller = new AbortController()
    const reason = new Error('stop listening')
    const loop = (async () => {
      for await (const _ of client.updates({ signal: controller.signal })) {
        // nothing arrives
      }
    })()
    await sleep(10)
    controller.abort(reason)
    await expect(loop).rejects.toBe(reason)
  })

  it('ends an iteration whose consumer falls behind maxBuffered, with E03', async () => {
    const iterator = client.updates({ maxBuffered: 2 })
    for (let i = 0; i < 3; i++) server.push(C_Notice, notice(`u${i}`))
    await sleep(50)
    await expect(iterator.next()).rejects.toMatchObject({ code: 'RONY_ERR_UPDATES_OVERFLOW' })
    expect((await iterator.next()).done).toBe(true)
  })
})

describe('what the server gets wrong', () => {
  it("emits an Error pushed with request id 0 as an 'error' event", async () => {
    const errors: RonyError[] = []
    client.on('error', (error) => errors.push(error))
    server.push(C_Error, rony.Error.encode({ Code: 'E01', Items: 'ENVELOPE' }).finish())
    await waitFor(() => errors.length === 1)
    expect(errors[0]).toBeInstanceOf(RonyError)
    expect(errors[0]).toMatchObject({ wireCode: 'E01', items: 'ENVELOPE' })
    expect(client.state).toBe('open')
  })

  it("turns garbage, a bad container and a text frame into 'error' events and keeps working", async () => {
    const errors: RonyError[] = []
    client.on('error', (error) => errors.push(error))
    const [socket] = server.sockets()
    socket!.send(new Uint8Array([0x0a, 0xff, 0xff])) // field 1, length-delimited, truncated
    socket!.send(containerFrame([]).subarray(0, 1)) // truncated container envelope
    socket!.send(
      encodeEnvelope({ ctor: 8705479839606992738n, message: new Uint8Array([0x12, 0x09, 0x08]) }),
    )
    socket!.send('{"not":"binary"}')
    await waitFor(() => errors.length === 4)
    for (const error of errors) expect(error).toMatchObject({ wireCode: 'E01', items: 'ENVELOPE' })
    expect(errors.map((e) => e.code)).toContain('RONY_ERR_TEXT_FRAME')
    const pong = await client.request(rony.Ping.create({ ID: 5 }), rony.Pong)
    expect(pong.ID.toString()).toBe('5')
  })

  it("reports an update of a registered type that does not decode as 'error'", async () => {
    const errors: RonyError[] = []
    const updates: Update[] = []
    client.on('error', (error) => errors.push(error))
    client.on('update', (update) => updates.push(update))
    client.registry.register(Notice)
    server.push(C_Notice, new Uint8Array([0x0a, 0x10, 0x61]))
    await waitFor(() => errors.length === 1)
    expect(errors[0]).toMatchObject({ code: 'RONY_ERR_INVALID_MESSAGE' })
    expect(updates).toHaveLength(0)
  })

  it('survives a listener that throws, and other listeners still run', async () => {
    const seen: number[] = []
    const uncaught: unknown[] = []
    const onUncaught = (error: unknown): void => {
      uncaught.push(error)
    }
    process.prependListener('uncaughtException', onUncaught)
    try {
      client.on('update', () => {
        throw new Error('listener bug')
      })
      client.on('update', () => seen.push(1))
      server.push(C_Notice, notice('x'))
      await waitFor(() => seen.length === 1 && uncaught.length === 1)
      expect(uncaught[0]).toMatchObject({ message: 'listener bug' })
      expect(client.state).toBe('open')
    } finally {
      process.removeListener('uncaughtException', onUncaught)
    }
  })
})
