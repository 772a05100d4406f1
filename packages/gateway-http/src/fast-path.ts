/**
 * The RPC endpoint without Fastify's per-request work, for the gateway's own server: a plain
 * `POST {prefix}` of a binary or JSON envelope (a Content-Type the gateway takes, or none)
 * with a Content-Length within `bodyLimit` goes
 * from node:http straight to the edge. Every other request (REST routes, CORS, other media
 * types, chunked or too large bodies, 404/405) is left to Fastify, which answers it as
 * always. Fastify's request and reply objects, hooks, router and body parser cost about as
 * much CPU as the whole edge round trip, which mattered most at one request in flight.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { RawResponder } from './connection.js'
import { bodyKindOf, type RouteHost } from './routes.js'

/** Handles the request and returns `true`, or returns `false` without touching it. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean

const DIGITS = /^\d{1,15}$/

export function rpcFastPath(host: RouteHost, path: string, bodyLimit: number): FastPath {
  return (req, res) => {
    if (req.method !== 'POST' || req.url !== path) return false
    const headers = req.headers
    const kind = bodyKindOf(headers['content-type'])
    const length = headers['content-length']
    if (
      kind === undefined ||
      length === undefined ||
      headers['transfer-encoding'] !== undefined ||
      !DIGITS.test(length)
    ) {
      return false
    }
    const size = Number(length)
    if (size === 0 || size > bodyLimit) return false
    // A small body usually comes in the same read as the headers: node:http has parsed
    // and buffered it once this read's callbacks are done, so it is taken at once, without
    // the ticks of the stream's 'data' and 'end' events. (Content-Length bounds it: the
    // buffer never holds more.)
    queueMicrotask(() => {
      if (req.readableLength === size) {
        host.exchange(req, new RawResponder(res), kind, req.read(size) as Buffer)
      } else readBody(req, size, (body) => host.exchange(req, new RawResponder(res), kind, body))
    })
    return true
  }
}

/**
 * The body as a stream. node:http delivers exactly Content-Length bytes before 'end'. A
 * client gone mid-body: no 'end', so nothing reaches the edge (node:http emits the
 * request's 'aborted' error only to listeners, so there is no unhandled 'error').
 */
function readBody(req: IncomingMessage, size: number, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
  })
  req.on('end', () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)))
}
