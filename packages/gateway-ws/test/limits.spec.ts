import type { GatewayConn } from '@rony/interface'
import { describe, expect, it } from 'vitest'
import { wsGateway } from '../src/index.js'
import {
  closeOf,
  connect,
  firstAddress,
  nextMessage,
  Recorder,
  refusedStatus,
  sleep,
  started,
  until,
} from './helpers.js'

describe('wsGateway admission', () => {
  it('refuses upgrades beyond maxConnections with 503, and accepts again after a close', async () => {
    const handlers = new Recorder()
    const gateway = await started(wsGateway({ maxConnections: 2 }), handlers)
    const url = firstAddress(gateway)
    const first = await connect(url)
    await connect(url)
    expect(await refusedStatus(url)).toBe(503)
    await handlers.waitFor('connect', () => handlers.of('connect').length === 2)
    expect(handlers.of('connect')).toHaveLength(2)
    first.close()
    await handlers.waitFor('close')
    const third = await connect(url)
    third.send(Buffer.from([3]))
    expect([...(await nextMessage(third)).data]).toEqual([3])
  })

  it('answers 404 to upgrades on another path and 426 to plain HTTP requests', async () => {
    const handlers = new Recorder()
    const gateway = await started(wsGateway({ path: '/rpc' }), handlers)
    const url = new URL(firstAddress(gateway))
    expect(await refusedStatus(`ws://${url.host}/other`)).toBe(404)
    expect(await refusedStatus(`ws://${url.host}/rpc/x`)).toBe(404)
    await connect(`ws://${url.host}/rpc?token=1`) // the query string does not matter
    const res = await fetch(`http://${url.host}/rpc`)
    expect(res.status).toBe(426)
    await res.arrayBuffer()
    await handlers.waitFor('connect')
    expect(handlers.of('connect')).toHaveLength(1)
  })
})

describe('wsGateway timers', () => {
  it('closes a connection idle for idleTimeout with 1000 "idle timeout"', async () => {
    const handlers = new Recorder()
    const gateway = await started(wsGateway({ idleTimeout: 400 }), handlers)
    const client = await connect(firstAddress(gateway))
    const closed = closeOf(client)
    // Activity postpones it.
    for (let i = 0; i < 4; i++) {
      await sleep(100)
      client.send(Buffer.from([i]))
    }
    expect(handlers.of('close')).toHaveLength(0)
    expect(await closed).toEqual({ code: 1000, reason: 'idle timeout' })
    const { reason } = await handlers.waitFor('close')
    expect(reason).toEqual({ initiator: 'local', code: 1000, reason: 'idle timeout' })
    expect(handlers.of('message')).toHaveLength(4)
  })

  it('terminates a peer that does not answer pings, keeps one that does', async () => {
    const handlers = new Recorder()
    const gateway = await started(wsGateway({ pingInterval: 100, idleTimeout: 0 }), handlers)
    const url = firstAddress(gateway)
    const alive = await connect(url)
    const mute = await connect(url, { autoPong: false })
    const { conn, reason } = await handlers.waitFor('close')
    expect(reason).toEqual({ initiator: 'local', code: 1006, reason: 'keepalive timeout' })
    expect(conn.id).toBe(2)
    expect(mute.readyState).not.toBe(mute.OPEN)
    await sleep(300) // three more pings: the answering peer stays
    expect(alive.readyState).toBe(alive.OPEN)
    expect(handlers.of('close')).toHaveLength(1)
  })

  it('terminates a connection that does not finish closing within closeTimeout', async () => {
    const handlers = new Recorder()
    const gateway = await started(wsGateway({ closeTimeout: 100 }), handlers)
    const client = await connect(firstAddress(gateway))
    const { conn } = await handlers.waitFor('connect')
    client.pause() // never reads the close frame, so never answers it
    conn.close(4000, 'bye')
    const { reason } = await handlers.waitFor('close')
    expect(reason).toEqual({ initiator: 'local', code: 4000, reason: 'bye' })
  })
})

/** Sends 64 KiB chunks until `send` returns false (the peer stopped reading). */
function fill(conn: GatewayConn, chunk: Uint8Array, max = 20_000): number {
  for (let i = 1; i <= max; i++) if (!conn.send(chunk)) return i
  throw new Error('send never reported backpressure')
}

describe('wsGateway backpressure', () => {
  it('returns false above highWaterMark, pauses reading, resumes once drained', async () => {
    const handlers = new Recorder()
    handlers.echo = false
    const gateway = await started(
      wsGateway({ highWaterMark: 256 * 1024, maxBufferedBytes: 1024 ** 3 }),
      handlers,
    )
    const client = await connect(firstAddress(gateway))
    const { conn } = await handlers.waitFor('connect')
    let received = 0
    client.on('message', () => received++)
    client.pause() // the client stops reading: kernel buffers fill, then ours
    const chunk = new Uint8Array(64 * 1024)
    const sent = fill(conn, chunk)
    expect(conn.closed).toBe(false)

    // The gateway stopped reading from this socket: a request waits in the kernel.
    client.send(Buffer.from([1]))
    await sleep(200)
    expect(handlers.of('message')).toHaveLength(0)

    client.resume()
    await until(() => received === sent, 10_000, 'every queued message')
    const { data } = await handlers.waitFor('message')
    expect([...data]).toEqual([1])
    expect(conn.send(chunk)).toBe(true)
  })

  it('closes a consumer that lets more than maxBufferedBytes pile up with 1008', async () => {
    const handlers = new Recorder()
    handlers.echo = false
    const gateway = await started(
      wsGateway({ highWaterMark: 64 * 1024, maxBufferedBytes: 1024 * 1024 }),
      handlers,
    )
    const client = await connect(firstAddress(gateway))
    const { conn } = await handlers.waitFor('connect')
    client.pause()
    const chunk = new Uint8Array(64 * 1024)
    fill(conn, chunk)
    let sends = 0
    while (!conn.closed && sends++ < 20_000) expect(conn.send(chunk)).toBe(false)
    expect(conn.closed).toBe(true)
    const closed = closeOf(client)
    client.resume()
    expect(await closed).toEqual({ code: 1008, reason: 'slow consumer' })
    const { reason } = await handlers.waitFor('close')
    expect(reason).toEqual({ initiator: 'local', code: 1008, reason: 'slow consumer' })
  })
})
