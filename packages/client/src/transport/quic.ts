import { DEFAULT_LIMITS } from '@rony/envelope'
import { dialFailed } from '../errors.js'
import type { Connection, ConnectionHandler, Transport } from './transport.js'

/**
 * QUIC to a `@rony/gateway-quic` edge, Node only: one libp2p node per connection, one
 * long-lived `/rony/1.0.0` stream carrying varint-length-prefixed envelopes both ways.
 *
 * The libp2p code lives in `quic-dialer.ts` and is loaded on the first dial through the
 * package's `#quic-dialer` import: bundlers that target browsers resolve it to
 * `quic-unsupported.ts` (the `browser` condition), so libp2p never enters a browser
 * bundle, and Node programs that never dial QUIC never load it.
 */

/** What the dialer tells its owner. */
export interface QuicStreamEvents {
  /** One whole frame (an envelope or container), the receiver's to keep. */
  onFrame(bytes: Uint8Array): void
  /** The stream ended or failed; called at most once, never after `close()`. */
  onClose(code: number, reason: string): void
}

/** An open stream, as the dialer hands it back. */
export interface QuicStreamHandle {
  /** Frames and queues one envelope; throws once the stream is closed. */
  send(bytes: Uint8Array): void
  /** Ends the stream and stops the node; resolves within the grace period. */
  close(): Promise<void>
}

export interface QuicDialOptions {
  signal: AbortSignal
  /** Largest frame accepted from the server, in bytes. */
  maxFrameBytes: number
  /** How long `close()` waits for a clean shutdown before aborting, in ms. */
  closeGraceMs: number
}

/** The `#quic-dialer` module: `quic-dialer.ts` in Node, `quic-unsupported.ts` in browsers. */
export interface QuicDialerModule {
  dialQuic(
    address: string,
    events: QuicStreamEvents,
    options: QuicDialOptions,
  ): Promise<QuicStreamHandle>
}

/** Addresses this transport takes: multiaddrs over IP or DNS, UDP, quic-v1. */
export function isQuicMultiaddr(url: string): boolean {
  return /^\/(?:ip4|ip6|dns|dns4|dns6)\/[^/]+\/udp\/\d+\/quic-v1(?:\/|$)/.test(url)
}

let dialer: Promise<QuicDialerModule> | undefined

/** Loads the dialer once; a failed load (libp2p not installed) is retried on the next dial. */
function loadDialer(): Promise<QuicDialerModule> {
  dialer ??= (import('#quic-dialer') as Promise<QuicDialerModule>).catch((err: unknown) => {
    dialer = undefined
    throw err
  })
  return dialer
}

const CLOSE_GRACE_MS = 1000

export class QuicTransport implements Transport {
  readonly persistent = true

  constructor(
    readonly url: string,
    private readonly maxFrameBytes: number = DEFAULT_LIMITS.maxEnvelopeBytes,
  ) {
    if (!isQuicMultiaddr(url)) {
      throw new TypeError(
        `createClient: '${url}' is not a QUIC multiaddr (expected /ip4|ip6|dns…/<host>/udp/<port>/quic-v1[/p2p/<peer id>])`,
      )
    }
  }

  async connect(handler: ConnectionHandler, signal: AbortSignal): Promise<Connection> {
    if (signal.aborted) throw signal.reason
    let module: QuicDialerModule
    try {
      module = await loadDialer()
    } catch (cause) {
      // A TypeError, as for any transport this environment cannot run: no retry can help.
      throw new TypeError(
        `cannot load the QUIC transport (install libp2p, @chainsafe/libp2p-quic and @multiformats/multiaddr): ${String(cause)}`,
        { cause },
      )
    }
    if (signal.aborted) throw signal.reason
    const connection = new QuicConnection(handler)
    try {
      connection.handle = await module.dialQuic(this.url, connection, {
        signal,
        maxFrameBytes: this.maxFrameBytes,
        closeGraceMs: CLOSE_GRACE_MS,
      })
    } catch (cause) {
      if (signal.aborted) throw signal.reason
      if (cause instanceof TypeError) throw cause // unsupported here (browser)
      throw dialFailed(this.url, String(cause), cause)
    }
    return connection
  }
}

/** Adapts the dialer's stream to the client's `Connection`: detaches the handler on close. */
class QuicConnection implements Connection, QuicStreamEvents {
  handle: QuicStreamHandle | undefined
  private detached = false

  constructor(private readonly handler: ConnectionHandler) {}

  onFrame(bytes: Uint8Array): void {
    if (!this.detached) this.handler.onFrame(bytes)
  }

  onClose(code: number, reason: string): void {
    if (this.detached) return
    this.detached = true
    this.handler.onClose(code, reason)
  }

  send(bytes: Uint8Array): void {
    if (this.handle === undefined) throw new Error('QUIC stream not open')
    this.handle.send(bytes)
  }

  close(_code: number, _reason: string): Promise<void> {
    // A libp2p stream carries no close code: the server sees the stream end.
    this.detached = true
    return this.handle?.close() ?? Promise.resolve()
  }
}
