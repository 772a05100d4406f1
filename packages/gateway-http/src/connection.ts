import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import type { CloseReason, GatewayConn, PayloadFormat } from '@rony/interface'
import type { FastifyReply } from 'fastify'
import { type HttpAnswer, jsonError, redirectLocation, restAnswer } from './rest.js'

/** What a connection needs from the gateway that accepted it. */
export interface ConnHost {
  /** Logs and carries on: a reply that cannot be written must not throw into the edge. */
  replyFailed(conn: HttpConn, error: unknown): void
  connClosed(conn: HttpConn, reason: CloseReason): void
}

/**
 * What the request carries: a binary envelope (`application/x-protobuf`), a JSON envelope
 * (`application/json`), or a REST call (the body and URL values of a REST route; the
 * reply's message becomes the body).
 */
export type ConnKind = 'binary' | 'json' | 'rest'

export const PROTOBUF_TYPE = 'application/x-protobuf'
export const JSON_TYPE = 'application/json; charset=utf-8'

const REPLIED: CloseReason = Object.freeze({ initiator: 'local', reason: 'replied' })
const CLIENT_GONE: CloseReason = Object.freeze({
  initiator: 'remote',
  reason: 'the client went away before the response',
})

/** Marks a response with its connection, so one module-level listener serves them all. */
const kConn = Symbol('rony.http.conn')
type TaggedResponse = ServerResponse & { [kConn]?: HttpConn | undefined }

function onResponseClose(this: TaggedResponse): void {
  const conn = this[kConn]
  this[kConn] = undefined
  conn?.responseClosed()
}

/**
 * Where a request's answer is written: Fastify's reply for the requests Fastify routed (its
 * hooks, such as CORS, add their headers), the bare response for the RPC fast path.
 */
export interface Responder {
  readonly raw: ServerResponse
  send(status: number, type: string, body: Buffer | string): void
  /** A body-less redirect to `location`. */
  redirect(status: number, location: string): void
}

export class FastifyResponder implements Responder {
  constructor(private readonly reply: FastifyReply) {}

  get raw(): ServerResponse {
    return this.reply.raw
  }

  send(status: number, type: string, body: Buffer | string): void {
    this.reply.code(status).header('content-type', type).send(body)
  }

  redirect(status: number, location: string): void {
    this.reply.code(status).header('location', location).send()
  }
}

export class RawResponder implements Responder {
  constructor(readonly raw: ServerResponse) {}

  send(status: number, type: string, body: Buffer | string): void {
    this.raw
      .writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
      .end(body)
  }

  redirect(status: number, location: string): void {
    this.raw.writeHead(status, { location, 'content-length': 0 }).end()
  }
}

/** Writes a gateway-made JSON answer. */
export function sendJson(out: Responder, answer: HttpAnswer): void {
  out.send(answer.status, JSON_TYPE, answer.body)
}

/** A Buffer view of `bytes` without copying (Fastify sends Buffers as they are). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * One HTTP request and its response, as the edge sees it: a non-persistent connection.
 * The edge's first `send` (or `close`, a timeout, or the gateway stopping) writes the
 * response and marks the connection closed at once; `onClose` follows when the response
 * is written (or the client went away), so "closed" also means "socket no longer ours".
 */
export class HttpConn implements GatewayConn {
  readonly persistent = false
  /** Date.now() when the request was accepted, for the request-timeout sweep. */
  readonly startedAt: number
  /** Why the response was written; `undefined` while unanswered. */
  private reason: CloseReason | undefined = undefined
  private done = false

  constructor(
    private readonly host: ConnHost,
    readonly id: number,
    private readonly out: Responder,
    readonly remoteAddress: string,
    readonly protocol: 'http' | 'https',
    readonly kind: ConnKind,
  ) {
    this.startedAt = Date.now()
    const res = out.raw as TaggedResponse
    res[kConn] = this
    res.on('close', onResponseClose)
  }

  /** `true` once answered or once the client went away. */
  get closed(): boolean {
    return this.reason !== undefined || this.done
  }

  /** `true` while the request waits for the edge's answer. */
  get pending(): boolean {
    return !this.closed
  }

  send(bytes: Uint8Array, format: PayloadFormat = 'binary'): boolean {
    if (this.closed) return false
    if (this.kind === 'rest') {
      this.answerRest(bytes, format)
    } else {
      this.write(200, format === 'json' ? JSON_TYPE : PROTOBUF_TYPE, asBuffer(bytes), REPLIED)
    }
    return true
  }

  /**
   * The edge closes a request it will not answer (shutting down, too many connections):
   * the client gets a JSON error, 503 for "try again" codes (1001, 1013), 413 for 1009.
   */
  close(code = 1000, reason = ''): void {
    if (this.closed) return
    const closeReason: CloseReason = { initiator: 'local', code, reason }
    if (code === 1001 || code === 1013) {
      this.answerJson(
        jsonError(503, 'E02', 'SERVER', reason || 'the server is unavailable'),
        closeReason,
      )
    } else if (code === 1009) {
      this.answerJson(
        jsonError(413, 'E01', 'BODY', reason || 'the request is too large'),
        closeReason,
      )
    } else {
      this.answerJson(
        jsonError(500, 'E00', 'SERVER', reason || 'the server closed the request'),
        closeReason,
      )
    }
  }

  /** Answers with a gateway error (request timeout, stopping); no-op once answered. */
  fail(answer: HttpAnswer, reason: string): void {
    if (this.closed) return
    this.answerJson(answer, { initiator: 'local', reason })
  }

  /** Drops the socket (the stop grace ran out); `onClose` follows from the response's close. */
  terminate(): void {
    this.out.raw.destroy()
  }

  /** @internal The response's 'close': written and flushed, or the socket is gone. */
  responseClosed(): void {
    if (this.done) return
    this.done = true
    this.host.connClosed(this, this.reason ?? CLIENT_GONE)
  }

  private answerRest(bytes: Uint8Array, format: PayloadFormat): void {
    const answer = restAnswer(bytes, format)
    if (answer.kind === 'error') {
      this.answerJson(answer.answer, REPLIED)
    } else if (answer.kind === 'body') {
      const type = answer.type === 'json' ? JSON_TYPE : PROTOBUF_TYPE
      const body = typeof answer.body === 'string' ? answer.body : asBuffer(answer.body)
      this.write(200, type, body, REPLIED)
    } else {
      const url = this.out.raw.req.url ?? '/'
      const location = redirectLocation(answer.hostPort, url, this.protocol === 'https')
      this.respond(REPLIED, () => this.out.redirect(answer.status, location))
    }
  }

  private answerJson(answer: HttpAnswer, reason: CloseReason): void {
    this.write(answer.status, JSON_TYPE, answer.body, reason)
  }

  private write(status: number, type: string, body: Buffer | string, reason: CloseReason): void {
    this.respond(reason, () => this.out.send(status, type, body))
  }

  /** Marks the connection answered and writes the response; a failed write drops the socket. */
  private respond(reason: CloseReason, write: () => void): void {
    this.reason = reason
    try {
      write()
    } catch (error) {
      this.host.replyFailed(this, error)
      this.out.raw.destroy()
    }
  }
}

/** `host:port`, with IPv6 hosts in brackets (`[::1]:8080`). */
export function hostPort(host: string | undefined, port: number | undefined): string {
  const h = host ?? 'unknown'
  return `${h.includes(':') ? `[${h}]` : h}:${port ?? 0}`
}

const EMPTY_HEADERS: ReadonlyMap<string, string> = new Map()

/**
 * The request headers as the contract wants them: lower-case names (Node lower-cases
 * them), repeated values joined with `', '` (Node joins most already; arrays such as
 * `set-cookie` are joined here).
 */
export function headerMap(headers: IncomingHttpHeaders): ReadonlyMap<string, string> {
  const map = new Map<string, string>()
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined) continue
    map.set(name, typeof value === 'string' ? value : value.join(', '))
  }
  return map.size === 0 ? EMPTY_HEADERS : map
}
