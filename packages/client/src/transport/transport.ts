import type { RonyError } from '@rony/envelope'
import type { ClientClock } from '../options.js'
import { HttpTransport } from './http.js'
import { QuicTransport } from './quic.js'
import { type WebSocketConstructor, WsTransport } from './ws.js'

/**
 * The seam between request correlation (the client) and the bytes' carrier. The client
 * never touches a socket: it asks a `Transport` for a `Connection`, sends encoded
 * envelopes through it and gets received frames back through a `ConnectionHandler`.
 *
 * A WebSocket is one long-lived connection, and so is a QUIC stream: what arrives goes to
 * `onFrame`. HTTP has a virtual connection (not `persistent`) whose `send` POSTs the
 * envelope and hands the response to `onReply` for that request, or its failure to
 * `onRequestFailed`, so every request is settled by its own response. The client's pending
 * table, timeouts and retries stay as they are.
 */

/** Receives what a connection delivers. Calls stop once `Connection.close` was called. */
export interface ConnectionHandler {
  /** One received envelope (possibly a container), as bytes the client may keep. */
  onFrame(bytes: Uint8Array): void
  /**
   * A per-request transport (HTTP) got the response to the request `requestId`: an
   * envelope (or container) that is that request's whole answer. The client rejects the
   * request at once if the bytes do not decode or do not answer it.
   */
  onReply(requestId: bigint, bytes: Uint8Array): void
  /** The request `requestId` failed in transit (network, HTTP status, redirect, bad body). */
  onRequestFailed(requestId: bigint, error: RonyError): void
  /** Something arrived that is not an envelope (a text frame); the connection stays up. */
  onInvalid(error: RonyError): void
  /** The connection closed by itself (the peer, the network). Called at most once. */
  onClose(code: number, reason: string): void
}

export interface Connection {
  /** Sends one encoded envelope, the request `requestId`. */
  send(bytes: Uint8Array, requestId: bigint): void
  /**
   * The client stopped waiting for the request it sent as `bytes` (timed out, aborted): a
   * transport with work per request (an HTTP POST) may drop it. Optional.
   */
  abandon?(bytes: Uint8Array): void
  /**
   * Closes the connection; the handler gets no further calls. Resolves once the
   * connection is closed, or after a short grace period if the peer does not answer.
   */
  close(code: number, reason: string): Promise<void>
}

export interface Transport {
  /** The address, as given to `createClient`. */
  readonly url: string
  /**
   * A persistent connection carries server pushes and stays open between requests, so
   * the client pings it when idle. A per-request transport (HTTP) sets this to false.
   */
  readonly persistent: boolean
  /**
   * Opens a connection. Rejects with `RonyError` (code `RONY_ERR_DIAL_FAILED`) if it
   * cannot, or with `signal.reason` once `signal` aborts; with a `TypeError` when this
   * environment lacks what the transport needs (no `WebSocket`, no `fetch`, QUIC in a
   * browser), which no retry can cure.
   */
  connect(handler: ConnectionHandler, signal: AbortSignal): Promise<Connection>
}

export interface TransportOptions {
  WebSocket: WebSocketConstructor | undefined
  clock: ClientClock
  /** Largest envelope accepted from the server; QUIC frames and HTTP bodies are bounded by it. */
  limits: { maxEnvelopeBytes: number }
}

/** The transport for `url`'s scheme; a `TypeError` for schemes the client does not speak. */
export function transportFor(url: string, options: TransportOptions): Transport {
  if (typeof url !== 'string') {
    throw new TypeError(`createClient: url must be a string, got ${typeof url}`)
  }
  // A multiaddr (`/ip4/…/udp/…/quic-v1/p2p/…`): QUIC, Node only, libp2p loaded on first dial.
  if (url.startsWith('/')) return new QuicTransport(url, options.limits.maxEnvelopeBytes)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new TypeError(
      `createClient: '${url}' is not a valid URL (expected ws://, wss://, http:// or https://)`,
    )
  }
  switch (parsed.protocol) {
    case 'ws:':
    case 'wss:':
      return new WsTransport(parsed.href, options)
    case 'http:':
    case 'https:':
      return new HttpTransport(parsed.href, options.limits.maxEnvelopeBytes)
    default:
      throw new TypeError(
        `createClient: unsupported scheme '${parsed.protocol}' in '${url}': use ws://, wss://, ` +
          'http://, https:// or a QUIC multiaddr',
      )
  }
}
