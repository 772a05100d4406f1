import {
  C_Error,
  C_MessageContainer,
  type EnvelopeInit,
  encodeContainer,
  encodeEnvelope,
  encodeJsonEnvelope,
  encodeMessage,
  type MessageRegistry,
  type MessageType,
  messageTypeOf,
  type RonyError,
  rony,
} from '@rony/envelope'
import type { GatewayConn, PayloadFormat } from '@rony/interface'

/**
 * Where the answers to a request go, chosen by where the request came from: the client
 * connection it arrived on, the reply batch of a container or an HTTP request, a relay
 * back to the edge that forwarded it, or nowhere (a replica replaying the log). The
 * request pipeline writes only to its sink, so it runs the same with or without a live
 * connection.
 */
export interface ReplySink {
  /** Whether `push` can deliver anything: false for HTTP connections and for sinks with no client. */
  readonly canPush: boolean
  /**
   * One answer to the request (a reply or an error, carrying its request id). Returns
   * false when it will not reach the client: the connection is closed or congested, or
   * there is no client.
   */
  reply(envelope: EnvelopeInit): boolean
  /** A server-initiated update (request id 0), sent at once. False where it cannot go. */
  push(envelope: EnvelopeInit): boolean
}

/**
 * Writes to a client connection as it goes, in the format the request came in. One per
 * connection and format; it holds no per-request state.
 */
export class ConnectionSink implements ReplySink {
  constructor(
    private readonly conn: GatewayConn,
    private readonly format: PayloadFormat,
    private readonly registry: MessageRegistry,
  ) {}

  get canPush(): boolean {
    return this.conn.persistent
  }

  /** False once the connection is closed. */
  get open(): boolean {
    return !this.conn.closed
  }

  reply(envelope: EnvelopeInit): boolean {
    if (this.format === 'binary') return this.conn.send(encodeEnvelope(envelope))
    return this.conn.send(encodeJsonEnvelope(envelope, this.registry), 'json')
  }

  push(envelope: EnvelopeInit): boolean {
    return this.canPush && this.reply(envelope)
  }
}

/**
 * Collects the answers of one or more requests, for whoever sends them on as one message:
 * a container's batch, an HTTP request's reply, a replicated request's answers (kept for a
 * retry, relayed to another edge). Pushes bypass the batch and go to `client` at once, if
 * there is one.
 */
export class BatchSink implements ReplySink {
  /** The answers so far, in the order given. */
  readonly replies: EnvelopeInit[] = []

  constructor(private readonly client?: ReplySink) {}

  get canPush(): boolean {
    return this.client?.canPush ?? false
  }

  /** Always collected; false when the connection they are for has closed. */
  reply(envelope: EnvelopeInit): boolean {
    this.replies.push(envelope)
    return !(this.client instanceof ConnectionSink) || this.client.open
  }

  push(envelope: EnvelopeInit): boolean {
    return this.client?.push(envelope) ?? false
  }
}

/** Drops every answer: for a request whose client is not on this edge. */
export const DISCARD_SINK: ReplySink = Object.freeze({
  canPush: false,
  reply: () => false,
  push: () => false,
})

/**
 * An answer carrying `message`, encoded by its own type (an instance), else by `type` (a
 * plain object). Throws `TypeError` when it cannot be encoded.
 */
export function messageReply(
  registry: MessageRegistry,
  requestId: bigint,
  message: object,
  type: MessageType | undefined,
): EnvelopeInit {
  // Small on purpose, errors built out of line: it is on every reply's path, and V8 inlines
  // it into the pipeline only while it stays small.
  const entry = registry.ensure(messageTypeOf(message) ?? type ?? untyped())
  try {
    return { ctor: entry.ctor, requestId, message: encodeMessage(entry.type, message) }
  } catch (cause) {
    throw unencodable(entry.name, cause)
  }
}

function untyped(): never {
  throw new TypeError(
    'cannot encode a plain object without its type: return an instance, or register the handler with `returns`',
  )
}

function unencodable(name: string, cause: unknown): TypeError {
  return new TypeError(`cannot encode ${name}: ${String(cause)}`, { cause })
}

/** The wire `Error` answer for `error`. */
export function errorReply(requestId: bigint, error: RonyError): EnvelopeInit {
  return { ctor: C_Error, requestId, message: encodeMessage(rony.Error, error.toWire()) }
}

/** Several answers as one message: an envelope carrying a container (request id 0). */
export function containerReply(envelopes: EnvelopeInit[]): EnvelopeInit {
  return { ctor: C_MessageContainer, requestId: 0n, message: encodeContainer({ envelopes }) }
}
