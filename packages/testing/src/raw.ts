import {
  C_Error,
  C_MessageContainer,
  decodeContainer,
  decodeEnvelope,
  type Envelope,
  type EnvelopeInit,
  encodeContainer,
  encodeEnvelope,
  type MessageType,
  RonyError,
  rony,
} from '@rony/envelope'

/**
 * A transport-level connection to a gateway, below any Rony client: what a compliance
 * suite needs to send exact bytes (garbage included) and to drop a connection abruptly.
 * Each gateway's spec file provides one (a `ws` socket, an HTTP request, a QUIC stream…).
 */
export interface RawConnection {
  /** Sends one message: one WebSocket frame, one HTTP body, one framed QUIC message. */
  send(bytes: Uint8Array): void
  /** The next message from the server; rejects after `timeout` ms or when the connection closes. */
  next(timeout?: number): Promise<Uint8Array>
  /** Resolves when the connection is closed (by either side), with the close code if any. */
  readonly closed: Promise<{ code?: number | undefined }>
  /** Closes cleanly. */
  close(): Promise<void>
  /** Drops the connection without a goodbye (TCP reset / stream abort). */
  abort(): void
}

/** A decoded server message: an envelope, or each envelope of a container reply. */
export interface Received {
  envelope: Envelope
  /** The `rony.Error` it carries, as a RonyError, when its ctor is `C_Error`. */
  error: RonyError | undefined
}

/**
 * Envelope-level helpers over a raw connection: encodes requests, reads replies (unpacking
 * containers), and decodes errors. Deliberately independent of `@rony/client`, so gateway
 * suites test gateways, not the client.
 */
export class RawPeer {
  private nextRequestId = 1n
  private readonly pending: Received[] = []

  constructor(readonly connection: RawConnection) {}

  /** A fresh request id. */
  requestId(): bigint {
    return this.nextRequestId++
  }

  /** Encodes `message` of `type` in an envelope and sends it; returns the request id. */
  send<T>(type: MessageType<T>, ctor: bigint, message: T, requestId = this.requestId()): bigint {
    this.connection.send(
      encodeEnvelope({ ctor, requestId, message: type.encode(message).finish() }),
    )
    return requestId
  }

  /** Sends several envelopes in one container. */
  sendContainer(envelopes: EnvelopeInit[], syncRun = false): void {
    this.connection.send(
      encodeEnvelope({
        ctor: C_MessageContainer,
        requestId: 0n,
        message: encodeContainer({ envelopes, syncRun }),
      }),
    )
  }

  /** The next server envelope (an inner one, if the server sent a container). */
  async next(timeout = 5_000): Promise<Received> {
    const queued = this.pending.shift()
    if (queued) return queued
    const envelope = decodeEnvelope(await this.connection.next(timeout))
    if (envelope.ctor !== C_MessageContainer) return received(envelope)
    const [first, ...rest] = decodeContainer(envelope.message).envelopes.map(received)
    this.pending.push(...rest)
    if (!first) return this.next(timeout)
    return first
  }

  /** Reads until the reply to `requestId` (updates and other replies are skipped). */
  async replyTo(requestId: bigint, timeout = 5_000): Promise<Received> {
    const deadline = Date.now() + timeout
    for (;;) {
      const message = await this.next(Math.max(1, deadline - Date.now()))
      if (message.envelope.requestId === requestId) return message
    }
  }
}

function received(envelope: Envelope): Received {
  const error =
    envelope.ctor === C_Error ? RonyError.fromWire(rony.Error.decode(envelope.message)) : undefined
  return { envelope, error }
}
