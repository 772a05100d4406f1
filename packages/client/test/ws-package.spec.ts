import { rony } from '@rony/envelope'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type Client, createClient, type WebSocketConstructor } from '../src/index.js'
import { startServer, type TestServer } from './helpers/server.js'

// What the transport does better when the WebSocket is the `ws` package's (Node): the frames
// a tick sends leave in one write (a burst of requests costs one syscall, not one each, most
// of a request's CPU otherwise), and replies arrive without a copy each.

interface Writes {
  write: number
  writev: number
}

/** A `ws` WebSocket whose socket counts its writes (`_write` one chunk, `_writev` several). */
function countingWebSocket(writes: Writes): WebSocketConstructor {
  class Counting extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      this.once('open', () => {
        const socket = (
          this as unknown as { _socket: Record<string, (...args: unknown[]) => void> }
        )._socket
        for (const name of ['_write', '_writev'] as const) {
          const original = socket[name]!.bind(socket)
          socket[name] = (...args: unknown[]) => {
            writes[name === '_write' ? 'write' : 'writev']++
            original(...args)
          }
        }
      })
    }
  }
  return Counting as unknown as WebSocketConstructor
}

let server: TestServer
let client: Client

afterEach(async () => {
  await client.close()
  await server.close()
})

describe('ws transport writes', () => {
  it('writes the requests of one tick in two writes: the first at once, the rest together', async () => {
    server = await startServer()
    const writes: Writes = { write: 0, writev: 0 }
    client = createClient(server.url, { keepalive: false, WebSocket: countingWebSocket(writes) })
    await client.connect()
    writes.write = 0
    writes.writev = 0
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        client.request(rony.Ping.create({ ID: i + 1 }), rony.Pong),
      ),
    )
    expect(replies.map((pong) => Number(pong.ID))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(writes).toEqual({ write: 1, writev: 1 })
  })

  it('sends a lone request at once, without waiting for the tick to end', async () => {
    server = await startServer()
    const writes: Writes = { write: 0, writev: 0 }
    client = createClient(server.url, { keepalive: false, WebSocket: countingWebSocket(writes) })
    await client.connect()
    writes.write = 0
    const reply = client.request(rony.Ping.create({ ID: 5 }), rony.Pong)
    expect(writes).toEqual({ write: 1, writev: 0 })
    expect(Number((await reply).ID)).toBe(5)
  })
})

describe('ws transport reads', () => {
  it("keeps the ws package's binaryType 'nodebuffer', so a reply is not copied into an ArrayBuffer of its own", async () => {
    server = await startServer()
    const sockets: WebSocket[] = []
    class Recording extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols)
        sockets.push(this)
      }
    }
    client = createClient(server.url, {
      keepalive: false,
      WebSocket: Recording as unknown as WebSocketConstructor,
    })
    const pong = await client.request(rony.Ping.create({ ID: 3 }), rony.Pong)
    expect(Number(pong.ID)).toBe(3)
    expect(sockets[0]?.binaryType).toBe('nodebuffer')
  })
})
