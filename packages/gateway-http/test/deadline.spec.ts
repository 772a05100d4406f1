import * as net from 'node:net'
import { createEdge, type Edge } from '@rony/edge'
import { constructorOf, encodeEnvelope } from '@rony/envelope'
import { Echo, registerTestServices } from '@rony/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { httpGateway } from '../src/index.js'

// A client that trickles its request must not hold a socket past readTimeout: the head and
// body together are due within it. Real sockets, a short deadline, no long sleeps.

const READ_TIMEOUT = 300
/** Far past the deadline (Node's own default is 300 s): a socket still open then was held. */
const GIVE_UP_MS = 5_000

const body = encodeEnvelope({
  ctor: constructorOf('Echo'),
  requestId: 1n,
  message: Echo.encode({ Text: 'slow' }).finish(),
})

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * Writes `head`, then one byte of `rest` every 50 ms until the server closes the socket.
 * Resolves with what the server sent, or 'held' if the socket was still open at GIVE_UP_MS.
 */
async function trickle(port: number, head: string, rest: Uint8Array): Promise<string> {
  const socket = net.connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  await new Promise((resolve) => socket.once('connect', resolve))
  let received = ''
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1')
  })
  socket.on('error', () => {}) // a reset once the server closed it
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)))
  socket.write(head)
  let sent = 0
  const drip = setInterval(() => {
    if (sent < rest.length && socket.writable) socket.write(rest.subarray(sent, ++sent))
  }, 50)
  const giveUp = new Promise<string>((resolve) => setTimeout(() => resolve('held'), GIVE_UP_MS))
  const result = await Promise.race([closed, giveUp])
  clearInterval(drip)
  socket.destroy()
  return result
}

const slowBody = (path: string): string =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n` +
  `Content-Length: ${body.length + 100}\r\n\r\n`

function expectTimeoutAnswer(answer: string): void {
  expect(answer).toMatch(/^HTTP\/1\.1 408 /)
  expect(answer).toMatch(/\r\nconnection: close\r\n/i)
  const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))
  expect(json).toEqual({
    Code: 'E06',
    Items: 'TIMEOUT',
    Description: `the request did not arrive whole within ${READ_TIMEOUT} ms (readTimeout)`,
  })
}

async function standalone(): Promise<{ edge: Edge; port: number }> {
  const edge = createEdge({
    id: 'deadline',
    gateways: [httpGateway({ port: 0, prefix: '/rpc', readTimeout: READ_TIMEOUT })],
  })
  registerTestServices(edge)
  await edge.start()
  cleanups.push(() => edge.stop({ timeout: 1_000 }))
  return { edge, port: Number(new URL(edge.addresses()[0]!).port) }
}

describe('readTimeout: the request head and body together have a deadline', () => {
  it('standalone: a trickled body gets 408 with the Error shape and its socket closed', async () => {
    const { port } = await standalone()
    expectTimeoutAnswer(await trickle(port, slowBody('/rpc'), new Uint8Array(body.length + 100)))
  })

  it('standalone: trickled headers are cut off the same way', async () => {
    const { port } = await standalone()
    const head = new TextEncoder().encode(
      'POST /rpc HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    )
    expectTimeoutAnswer(await trickle(port, '', head))
  })

  it('standalone: a request that keeps pace is served, before and after a cut-off one', async () => {
    const { port } = await standalone()
    const socket = net.connect(port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    const answer = new Promise<string>((resolve) => {
      let text = ''
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1')
        if (text.includes('slow')) resolve(text)
      })
    })
    socket.write(slowBody('/rpc').replace(`${body.length + 100}`, String(body.length)))
    socket.write(body)
    expect(await answer).toMatch(/^HTTP\/1\.1 200 /)
    socket.destroy()
  })

  it('plugin mode: a trickled body on the gateway’s routes gets 408 and its socket closed', async () => {
    const app: FastifyInstance = Fastify()
    const edge = createEdge({
      id: 'deadline-plugin',
      gateways: [httpGateway({ fastify: app, prefix: '/rpc', readTimeout: READ_TIMEOUT })],
    })
    registerTestServices(edge)
    await edge.start()
    await app.listen({ host: '127.0.0.1', port: 0 })
    cleanups.push(() => app.close())
    const { port } = app.server.address() as net.AddressInfo
    expectTimeoutAnswer(await trickle(port, slowBody('/rpc'), new Uint8Array(body.length + 100)))
  })
})
