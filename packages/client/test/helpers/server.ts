import type { AddressInfo } from 'node:net'
import {
  C_Error,
  C_MessageContainer,
  C_Ping,
  C_Pong,
  constructorOf,
  decodeEnvelope,
  type Envelope,
  type EnvelopeInit,
  encodeContainer,
  encodeEnvelope,
  rony,
} from '@rony/envelope'
import protobuf from 'protobufjs'
import { type WebSocket, WebSocketServer } from 'ws'

/** Reflected test types: the client must handle these as well as generated classes. */
export const root = protobuf.parse(`
  syntax = "proto3";
  package demo;
  message EchoRequest { string text = 1; uint32 delayMs = 2; }
  message EchoResponse { string text = 1; }
  message Notice { string text = 1; uint32 seq = 2; }
`).root
export const EchoRequest = root.lookupType('demo.EchoRequest')
export const EchoResponse = root.lookupType('demo.EchoResponse')
export const Notice = root.lookupType('demo.Notice')
export const C_EchoRequest = constructorOf('EchoRequest')
export const C_EchoResponse = constructorOf('EchoResponse')
export const C_Notice = constructorOf('Notice')

/** What a script does with one request; the default answers Ping and EchoRequest. */
export type Script = (request: Envelope, socket: WebSocket, server: TestServer) => void

export interface TestServer {
  readonly url: string
  readonly port: number
  readonly wss: WebSocketServer
  /** Every request envelope received, in arrival order (containers unpacked). */
  readonly received: Envelope[]
  /** How many connections were accepted so far. */
  connections: number
  script: Script
  /** Sends one envelope, or raw bytes. */
  send(socket: WebSocket, envelope: EnvelopeInit | Uint8Array): void
  /** Replies to `request` with `type`/`value`. */
  reply(socket: WebSocket, request: Envelope, ctor: bigint, message: Uint8Array): void
  replyError(
    socket: WebSocket,
    request: Envelope,
    code: string,
    items: string,
    description?: string,
  ): void
  /** Sends an update (request id 0) to every connected client. */
  push(ctor: bigint, message: Uint8Array): void
  sockets(): WebSocket[]
  /** Drops every connection without a close handshake. */
  dropAll(): void
  close(): Promise<void>
}

export const defaultScript: Script = (request, socket, server) => {
  if (request.ctor === C_Ping) {
    const ping = rony.Ping.decode(request.message)
    server.reply(socket, request, C_Pong, rony.Pong.encode({ ID: ping.ID }).finish())
  } else if (request.ctor === C_EchoRequest) {
    const echo = EchoRequest.decode(request.message) as unknown as { text: string; delayMs: number }
    const answer = (): void =>
      server.reply(
        socket,
        request,
        C_EchoResponse,
        EchoResponse.encode({ text: echo.text }).finish(),
      )
    if (echo.delayMs > 0) setTimeout(answer, echo.delayMs)
    else answer()
  } else {
    server.replyError(socket, request, 'E01', 'HANDLER', `no handler for ${request.ctor}`)
  }
}

/** A scriptable Rony-speaking WebSocket server on `port` (0: any free port). */
export async function startServer(script: Script = defaultScript, port = 0): Promise<TestServer> {
  const wss = new WebSocketServer({ port, host: '127.0.0.1' })
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve)
    wss.once('error', reject)
  })
  const actualPort = (wss.address() as AddressInfo).port
  const server: TestServer = {
    url: `ws://127.0.0.1:${actualPort}/`,
    port: actualPort,
    wss,
    received: [],
    connections: 0,
    script,
    send(socket, envelope) {
      socket.send(envelope instanceof Uint8Array ? envelope : encodeEnvelope(envelope))
    },
    reply(socket, request, ctor, message) {
      this.send(socket, { ctor, requestId: request.requestId, message })
    },
    replyError(socket, request, code, items, description = '') {
      const message = rony.Error.encode({
        Code: code,
        Items: items,
        Description: description,
      }).finish()
      this.reply(socket, request, C_Error, message)
    },
    push(ctor, message) {
      for (const socket of wss.clients) this.send(socket, { ctor, message })
    },
    sockets() {
      return [...wss.clients]
    },
    dropAll() {
      for (const socket of wss.clients) socket.terminate()
    },
    async close() {
      for (const socket of wss.clients) socket.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
  wss.on('connection', (socket) => {
    server.connections++
    socket.on('message', (data: Buffer) => {
      // ws hands a fresh Buffer per message, so the envelope's views stay valid.
      const request = decodeEnvelope(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
      server.received.push(request)
      server.script(request, socket, server)
    })
  })
  return server
}

/** A container of replies, as an edge answers a container request. */
export function containerFrame(envelopes: EnvelopeInit[]): Uint8Array {
  return encodeEnvelope({ ctor: C_MessageContainer, message: encodeContainer({ envelopes }) })
}

/** Resolves when `predicate` holds, polling every 5 ms; rejects after `ms`. */
export async function waitFor(predicate: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now()
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error('waitFor: condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
