/**
 * Node's HTTP parser errors and request timeouts, answered on the raw socket (there is no
 * request object yet, or its head or body never finished) with the gateway's JSON `Error`
 * shape, then the socket is closed. Fastify's `clientErrorHandler` for the gateway's own
 * server.
 */
import type { Socket } from 'node:net'
import { type HttpAnswer, jsonError } from './rest.js'

/** The answer to one client error; `readTimeout` names the deadline in the timeout's text. */
export function clientErrorAnswer(code: unknown, readTimeout: number): HttpAnswer {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return jsonError(
        408,
        'E06',
        'TIMEOUT',
        `the request did not arrive whole within ${readTimeout} ms (readTimeout)`,
      )
    case 'HPE_HEADER_OVERFLOW':
      return jsonError(431, 'E01', 'HEADERS', 'the request headers are too large')
    default:
      return jsonError(400, 'E01', 'REQUEST', `malformed HTTP request (${String(code)})`)
  }
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
}

/** Writes `answer` if the socket still takes it, then closes the socket. */
export function answerOnSocket(socket: Socket, answer: HttpAnswer, cause: Error): void {
  if (socket.destroyed || (cause as { code?: unknown }).code === 'ECONNRESET') return
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${answer.status} ${REASONS[answer.status] ?? ''}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(answer.body)}\r\nConnection: close\r\n\r\n` +
        answer.body,
    )
  }
  socket.destroy(cause)
}
