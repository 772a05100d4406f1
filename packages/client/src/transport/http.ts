import { invalidEnvelope, RonyError } from '@rony/envelope'
import { connectionLost, redirectRefused, unexpectedResponse } from '../errors.js'
import type { Connection, ConnectionHandler, Transport } from './transport.js'

/**
 * HTTP(S) through the global `fetch` (browsers, Node ≥ 22, Deno, Bun): every request is one
 * `POST` of its binary envelope (`application/x-protobuf`) to the URL, and the response
 * body, the reply envelope, answers that request. The "connection" is virtual: connecting
 * costs nothing, nothing is pinged, and the server never pushes, so `updates()` and
 * `on('update')` stay silent over HTTP.
 *
 * Every POST settles its request at once, one way or another: with the reply; with the
 * server's error (its JSON error, or one made from the HTTP status); with
 * `RONY_ERR_CONNECTION_LOST` when the network failed; or with a clear error when the
 * response cannot be an answer (a body over `maxEnvelopeBytes`, a content type that is not
 * binary protobuf, bytes that do not decode, a reply to some other request).
 *
 * Redirects: the envelope carries the request's `auth`, so it never goes to another
 * origin. A `307`/`308` to the same origin is followed (at most {@link MAX_REDIRECTS}
 * times); any other redirect rejects with `RONY_ERR_REDIRECT`. Browsers hide where a
 * redirect leads (`redirect: 'manual'` gives an opaque response), so there every redirect
 * is refused.
 */

/** A POST never outlives this, whatever the request timeouts; the client's own timeouts are shorter. */
const MAX_POST_MS = 300_000
/** Same-origin redirects followed for one request before giving up. */
const MAX_REDIRECTS = 5
const PROTOBUF = 'application/x-protobuf'
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])
/** Redirects that keep the method and body: the only ones a POST of an envelope can follow. */
const BODY_KEEPING_REDIRECTS: ReadonlySet<number> = new Set([307, 308])
/**
 * Content types a reply envelope may come with: binary protobuf, or none, or `text/plain`,
 * the default of the Go edge's HTTP server (fasthttp), which sets none of its own.
 */
const BINARY_REPLY = /^(application\/(x-protobuf|octet-stream)|text\/plain)\s*(;|$)/i

type FetchFunction = (input: string, init: RequestInit) => Promise<Response>

export class HttpTransport implements Transport {
  readonly persistent = false

  constructor(
    readonly url: string,
    /** Largest response body read, in bytes: the client's `limits.maxEnvelopeBytes`. */
    private readonly maxBodyBytes: number,
  ) {}

  connect(handler: ConnectionHandler, signal: AbortSignal): Promise<Connection> {
    if (signal.aborted) return Promise.reject(signal.reason)
    // Looked up per connection, not at import, so a polyfill installed later still counts.
    const fetch = (globalThis as { fetch?: FetchFunction }).fetch
    if (typeof fetch !== 'function') {
      return Promise.reject(
        new TypeError('no fetch implementation: http(s) URLs need a global fetch'),
      )
    }
    return Promise.resolve(new HttpConnection(this.url, this.maxBodyBytes, handler, fetch))
  }
}

/** A virtual connection: in-flight POSTs, all aborted by `close()`. */
class HttpConnection implements Connection {
  private readonly controller = new AbortController()
  /** Each POST in flight, by the request bytes it sends, to abort the ones given up on. */
  private readonly posts = new Map<Uint8Array, AbortController>()
  private readonly origin: string

  constructor(
    private readonly url: string,
    private readonly maxBodyBytes: number,
    private readonly handler: ConnectionHandler,
    private readonly fetch: FetchFunction,
  ) {
    this.origin = new URL(url).origin
  }

  send(bytes: Uint8Array, requestId: bigint): void {
    void this.post(bytes, requestId)
  }

  close(): Promise<void> {
    this.controller.abort()
    return Promise.resolve()
  }

  /** The client gave up on the request: its POST (and its socket) need not wait any more. */
  abandon(bytes: Uint8Array): void {
    this.posts.get(bytes)?.abort()
  }

  private async post(bytes: Uint8Array, requestId: bigint): Promise<void> {
    const { signal } = this.controller
    const own = new AbortController()
    this.posts.set(bytes, own)
    let body: Uint8Array
    try {
      const response = await this.exchange(bytes, withCap(signal, own.signal))
      body = await this.replyBody(response)
    } catch (error) {
      // Closed, or given up on: the client settled the request already.
      if (signal.aborted || own.signal.aborted) return
      this.handler.onRequestFailed(requestId, this.asRonyError(error))
      return
    } finally {
      this.posts.delete(bytes)
    }
    if (!signal.aborted) this.handler.onReply(requestId, body)
  }

  /** POSTs `bytes`, following same-origin 307/308 redirects only. */
  private async exchange(bytes: Uint8Array, signal: AbortSignal): Promise<Response> {
    let url = this.url
    for (let hops = 0; ; hops++) {
      const response = await this.fetch(url, {
        method: 'POST',
        headers: { 'content-type': PROTOBUF, accept: PROTOBUF },
        body: bytes as Uint8Array<ArrayBuffer>,
        signal,
        redirect: 'manual',
      })
      // A browser's manual redirect: status 0 and no Location, so the target is unknown.
      if (response.type === 'opaqueredirect') {
        throw redirectRefused(url, undefined, 'the browser does not say where it leads')
      }
      if (!REDIRECTS.has(response.status)) return response
      void response.body?.cancel().catch(() => {})
      const target = resolveLocation(response.headers.get('location'), url)
      if (target === undefined) throw redirectRefused(url, undefined, 'no valid Location')
      if (target.origin !== this.origin) {
        throw redirectRefused(url, target.href, `another origin than ${this.origin}`)
      }
      if (!BODY_KEEPING_REDIRECTS.has(response.status)) {
        throw redirectRefused(url, target.href, `HTTP ${response.status} would drop the envelope`)
      }
      if (hops >= MAX_REDIRECTS) {
        throw redirectRefused(url, target.href, `more than ${MAX_REDIRECTS} redirects`)
      }
      url = target.href
    }
  }

  /** The body of a reply envelope; throws the error a response that is not one stands for. */
  private async replyBody(response: Response): Promise<Uint8Array> {
    const contentType = response.headers.get('content-type')
    if (response.status !== 200) {
      // The status says enough when the body cannot be had (too big, cut off).
      const body = await readBody(response, this.maxBodyBytes).catch(() => new Uint8Array(0))
      throw httpError(response.status, contentType, body)
    }
    if (contentType !== null && !BINARY_REPLY.test(contentType)) {
      void response.body?.cancel().catch(() => {})
      throw unexpectedResponse(`a binary envelope (${PROTOBUF})`, `content type ${contentType}`)
    }
    return readBody(response, this.maxBodyBytes)
  }

  private asRonyError(error: unknown): RonyError {
    if (error instanceof RonyError) return error
    if ((error as { name?: string })?.name === 'TimeoutError') {
      return new RonyError(
        'E06',
        'TIMEOUT',
        `POST ${this.url}: no response within ${MAX_POST_MS} ms`,
        {
          code: 'RONY_ERR_TIMEOUT',
          cause: error,
        },
      )
    }
    // fetch's TypeError: refused, reset, DNS, TLS… (browsers say no more than "Failed to fetch").
    const detail = (error as { cause?: { code?: unknown } })?.cause?.code
    return connectionLost(
      `POST ${this.url} failed: ${String(error)}${typeof detail === 'string' ? ` (${detail})` : ''}`,
      error,
    )
  }
}

/** `location` resolved against `base`; undefined when there is none or it is not a URL. */
function resolveLocation(location: string | null, base: string): URL | undefined {
  if (location === null) return undefined
  try {
    return new URL(location, base)
  } catch {
    return undefined
  }
}

/**
 * The whole body, refused once it passes `max` bytes: by its `Content-Length` before a byte
 * is read, else (chunked) while reading, so a huge or endless body never fills memory.
 */
async function readBody(response: Response, max: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (declared > max) {
    void response.body?.cancel().catch(() => {})
    throw bodyTooLarge(`${declared} bytes`, max)
  }
  // A declared length bounds the body (HTTP framing ends it there), unless fetch inflates
  // it (Content-Encoding): then only counting while reading does.
  const inflated = response.headers.get('content-encoding') !== null
  if ((declared >= 0 && !inflated) || response.body === null) {
    return new Uint8Array(await response.arrayBuffer())
  }
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      void reader.cancel().catch(() => {})
      throw bodyTooLarge(`more than ${max} bytes`, max)
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0]!
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

function bodyTooLarge(size: string, max: number): RonyError {
  return invalidEnvelope(
    `the response body is ${size}, over the client's limits.maxEnvelopeBytes (${max})`,
    'RONY_ERR_ENVELOPE_TOO_LARGE',
  )
}

/**
 * The connection's signal, also aborted with the request's own and after MAX_POST_MS where
 * the platform can combine signals (without `AbortSignal.any`, only the connection's).
 */
function withCap(connection: AbortSignal, request: AbortSignal): AbortSignal {
  const S = AbortSignal as typeof AbortSignal & {
    any?: (signals: AbortSignal[]) => AbortSignal
    timeout?: (ms: number) => AbortSignal
  }
  return typeof S.any === 'function' && typeof S.timeout === 'function'
    ? S.any([connection, request, S.timeout(MAX_POST_MS)])
    : connection
}

/** The error a non-200 response stands for. */
function httpError(status: number, contentType: string | null, body: Uint8Array): RonyError {
  if (contentType?.includes('json')) {
    try {
      const parsed = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>
      // The gateway's JSON error: the envelope's Error field names, or lower-case ones.
      const code = parsed.Code ?? parsed.code
      if (typeof code === 'string') {
        const items = parsed.Items ?? parsed.items
        const description = parsed.Description ?? parsed.description
        return new RonyError(
          code,
          typeof items === 'string' ? items : 'HTTP',
          typeof description === 'string' ? description : `HTTP ${status}`,
        )
      }
    } catch {
      // not the gateway's JSON error: fall back to the status
    }
  }
  const wireCode =
    status === 503 || status === 502
      ? 'E02'
      : status === 504
        ? 'E06'
        : status >= 400 && status < 500
          ? 'E01'
          : 'E00'
  return new RonyError(wireCode, 'HTTP', `HTTP ${status}`)
}
