import { C_Error, decodeEnvelope, encodeEnvelope, RonyError, rony } from '@rony/envelope'
import type { Connection, ConnectionHandler, Transport } from './transport.js'

/**
 * HTTP(S) through the global `fetch` (browsers, Node ≥ 22, Deno, Bun): every request is one
 * `POST` of its binary envelope (`application/x-protobuf`) to the URL, and the response
 * body, the reply envelope, goes to the client like a received frame. The "connection" is
 * virtual: connecting costs nothing, nothing is pinged, and the server never pushes, so
 * `updates()` and `on('update')` stay silent over HTTP.
 *
 * A failed POST still settles its request: the transport turns it into an error envelope
 * for the request's id, so `request()` rejects with a `RonyError` whose wire code follows
 * the failure: the server's JSON error (`{"code","items","description"}`, e.g. 413 → its
 * E01), or one made from the HTTP status (503 → E02, 504 → E06, other 4xx → E01, 5xx → E00),
 * or `E02 CONNECTION` when the network failed.
 */

/** A POST never outlives this, whatever the request timeouts; the client's own timeouts are shorter. */
const MAX_POST_MS = 300_000
const PROTOBUF = 'application/x-protobuf'

type FetchFunction = (input: string, init: RequestInit) => Promise<Response>

export class HttpTransport implements Transport {
  readonly persistent = false

  constructor(readonly url: string) {}

  connect(handler: ConnectionHandler, signal: AbortSignal): Promise<Connection> {
    if (signal.aborted) return Promise.reject(signal.reason)
    // Looked up per connection, not at import, so a polyfill installed later still counts.
    const fetch = (globalThis as { fetch?: FetchFunction }).fetch
    if (typeof fetch !== 'function') {
      return Promise.reject(
        new TypeError('no fetch implementation: http(s) URLs need a global fetch'),
      )
    }
    return Promise.resolve(new HttpConnection(this.url, handler, fetch))
  }
}

/** A virtual connection: in-flight POSTs, all aborted by `close()`. */
class HttpConnection implements Connection {
  private readonly controller = new AbortController()
  /** Each POST in flight, by the request bytes it sends, to abort the ones given up on. */
  private readonly posts = new Map<Uint8Array, AbortController>()

  constructor(
    private readonly url: string,
    private readonly handler: ConnectionHandler,
    private readonly fetch: FetchFunction,
  ) {}

  send(bytes: Uint8Array): void {
    void this.post(bytes)
  }

  close(): Promise<void> {
    this.controller.abort()
    return Promise.resolve()
  }

  /** The client gave up on the request: its POST (and its socket) need not wait any more. */
  abandon(bytes: Uint8Array): void {
    this.posts.get(bytes)?.abort()
  }

  private async post(bytes: Uint8Array): Promise<void> {
    const { signal } = this.controller
    const own = new AbortController()
    this.posts.set(bytes, own)
    let status = 0
    let body: Uint8Array
    let contentType: string | null = null
    try {
      const response = await this.fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': PROTOBUF, accept: PROTOBUF },
        body: bytes as Uint8Array<ArrayBuffer>,
        signal: withCap(signal, own.signal),
      })
      status = response.status
      contentType = response.headers.get('content-type')
      body = new Uint8Array(await response.arrayBuffer())
    } catch (cause) {
      // Closed, or given up on: the client settled the request already.
      if (signal.aborted || own.signal.aborted) return
      const timedOut = (cause as { name?: string })?.name === 'TimeoutError'
      this.fail(
        bytes,
        timedOut
          ? new RonyError(
              'E06',
              'TIMEOUT',
              `POST ${this.url}: no response within ${MAX_POST_MS} ms`,
            )
          : new RonyError('E02', 'CONNECTION', `POST ${this.url} failed: ${String(cause)}`, {
              cause,
            }),
      )
      return
    } finally {
      this.posts.delete(bytes)
    }
    if (signal.aborted) return
    if (status === 200 && contentType?.startsWith(PROTOBUF)) {
      this.handler.onFrame(body)
    } else {
      this.fail(bytes, httpError(status, contentType, body))
    }
  }

  /** Settles the request in `requestBytes` with `error`, as if the server had sent it. */
  private fail(requestBytes: Uint8Array, error: RonyError): void {
    let requestId: bigint
    try {
      requestId = decodeEnvelope(requestBytes).requestId
    } catch {
      return // not an envelope the client made: nobody waits for it
    }
    const message = rony.Error.encode(error.toWire()).finish()
    this.handler.onFrame(encodeEnvelope({ ctor: C_Error, requestId, message }))
  }
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

/** The error a non-200 (or non-protobuf) response stands for. */
function httpError(status: number, contentType: string | null, body: Uint8Array): RonyError {
  if (contentType?.includes('json')) {
    try {
      const parsed = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>
      if (typeof parsed.code === 'string') {
        return new RonyError(
          parsed.code,
          typeof parsed.items === 'string' ? parsed.items : 'HTTP',
          typeof parsed.description === 'string' ? parsed.description : `HTTP ${status}`,
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
        : status === 200
          ? 'E01'
          : status >= 400 && status < 500
            ? 'E01'
            : 'E00'
  const what =
    status === 200 ? `unexpected content type ${contentType ?? 'none'}` : `HTTP ${status}`
  return new RonyError(wireCode, 'HTTP', what)
}
