import {
  C_MessageContainer,
  decodeContainer,
  decodeEnvelope,
  type Envelope,
  jsonToEnvelope,
  parseJsonEnvelope,
  RonyError,
} from '@rony/envelope'
import type { Logger, PayloadFormat, RestRequest } from '@rony/interface'
import type { ConnectionState, RequestOrigin } from './connection.js'
import type { EdgeLimits } from './options.js'
import type { Pipeline } from './pipeline.js'
import type { HandlerEntry, HandlerRegistry } from './registry.js'
import {
  BatchSink,
  type ConnectionSink,
  containerReply,
  errorReply,
  type ReplySink,
} from './reply.js'
import { restMessage } from './rest.js'
import type { WorkCounter } from './work.js'

/** Runs requests of the handler modes that involve the replica set. */
export interface ModeRunner {
  runRequest(
    entry: HandlerEntry,
    envelope: Envelope,
    origin: RequestOrigin,
    sink: ReplySink,
  ): PromiseLike<void>
}

const EMPTY_CONTAINER = (): RonyError =>
  new RonyError('E01', 'ENVELOPES', 'a MessageContainer with no envelopes', {
    code: 'RONY_ERR_EMPTY_CONTAINER',
  })

const NO_BYTES = new Uint8Array(0)

const SHUTTING_DOWN = (): RonyError =>
  new RonyError('E02', 'SERVER', 'the server is shutting down', { code: 'RONY_ERR_SHUTTING_DOWN' })

/**
 * The wire side of a client connection: turns inbound frames into requests and their
 * answers into outbound frames. Envelope and container decoding, handler lookup by
 * constructor, the per-connection limits, reply batching (containers, and every request
 * of a non-persistent connection); the requests themselves run in the `Pipeline`.
 */
export class Dispatcher {
  /** Runs `replicated` and `read` requests: set on a clustered edge with consensus. */
  modes: ModeRunner | undefined

  constructor(
    private readonly handlers: HandlerRegistry,
    private readonly pipeline: Pipeline,
    private readonly work: WorkCounter,
    private readonly limits: Readonly<EdgeLimits>,
    private readonly log: Logger,
  ) {}

  /**
   * One inbound frame: an envelope, or an envelope carrying a container, in binary
   * protobuf or as a JSON envelope. On a non-persistent connection (HTTP) every reply of
   * the request is collected and sent as one message.
   */
  dispatchFrame(state: ConnectionState, data: Uint8Array, format: PayloadFormat): void {
    const sink = state.sink(format, this.handlers.messages)
    const envelope = format === 'json' ? this.readJson(sink, data) : this.readBinary(sink, data)
    if (envelope !== undefined) this.dispatchRequest(state, envelope, sink)
  }

  /**
   * A call of a REST route: `body` is the HTTP body in the route's encoding, and the request
   * message is built from it and the URL values; it runs under the route's handler, and the
   * answer is one envelope in the route's encoding.
   */
  dispatchRest(state: ConnectionState, body: Uint8Array, rest: RestRequest): void {
    const { route, values } = rest
    const sink = state.sink(route.encoding, this.handlers.messages)
    const entry = this.handlers.restHandler(route)
    let message: Uint8Array
    try {
      if (entry?.rest === undefined) {
        throw new RonyError('E01', 'ROUTE', `no REST route ${route.method} ${route.path}`, {
          code: 'RONY_ERR_UNKNOWN_ROUTE',
        })
      }
      message = restMessage(entry.rest, entry.name, body, values)
    } catch (error) {
      if (!(error instanceof RonyError)) this.log.error('cannot build a REST request: %s', error)
      else if (this.log.enabled) this.log('REST request refused: %s', error)
      sink.reply(errorReply(0n, asRonyError(error)))
      return
    }
    const envelope: Envelope = {
      ctor: entry.ctor,
      requestId: 0n,
      jsonEncoded: false,
      message,
      auth: NO_BYTES,
      header: [],
    }
    this.dispatchRequest(state, envelope, sink)
  }

  /** A decoded request frame: run as itself on a persistent connection, else as a batch. */
  private dispatchRequest(state: ConnectionState, envelope: Envelope, sink: ConnectionSink): void {
    if (this.work.draining) {
      sink.reply(errorReply(envelope.requestId, SHUTTING_DOWN()))
      return
    }
    if (envelope.ctor !== C_MessageContainer && state.conn.persistent) {
      this.dispatchEnvelope(state, envelope, sink)
      return
    }
    // Counted until the batch is sent, so a graceful stop waits for it.
    const generation = this.work.begin()
    const pending = this.dispatchBatch(state, envelope, sink)
    if (pending === undefined) this.work.end(generation)
    else
      pending.then(
        () => this.work.end(generation),
        (error: unknown) => {
          this.log.error('batch dispatch failed: %s', error)
          this.work.end(generation)
        },
      )
  }

  private readBinary(sink: ReplySink, data: Uint8Array): Envelope | undefined {
    try {
      return decodeEnvelope(data, this.limits)
    } catch (error) {
      if (this.log.enabled) this.log('undecodable frame of %d bytes: %s', data.length, error)
      sink.reply(errorReply(0n, error as RonyError))
      return undefined
    }
  }

  /** A JSON envelope; errors are answered under its request id once that is known. */
  private readJson(sink: ReplySink, data: Uint8Array): Envelope | undefined {
    let requestId = 0n
    try {
      if (data.length > this.limits.maxEnvelopeBytes) {
        throw new RonyError(
          'E01',
          'ENVELOPE',
          `envelope larger than ${this.limits.maxEnvelopeBytes} bytes`,
          { code: 'RONY_ERR_ENVELOPE_TOO_LARGE' },
        )
      }
      const parsed = parseJsonEnvelope(data)
      requestId = parsed.requestId
      return jsonToEnvelope(parsed.json, this.handlers.messages, this.limits)
    } catch (error) {
      if (this.log.enabled) this.log('unreadable JSON envelope of %d bytes: %s', data.length, error)
      sink.reply(errorReply(requestId, error as RonyError))
      return undefined
    }
  }

  /**
   * One request envelope of an origin (a connection, or another edge over the tunnel):
   * looked up, held to `maxInFlight`, run by the pipeline, or by the cluster for
   * `replicated` and `read` handlers. Returns a promise only when its handler (or the
   * middleware chain) is asynchronous. Envelopes of a container accepted before a stop
   * began all run.
   */
  dispatchEnvelope(
    state: RequestOrigin,
    envelope: Envelope,
    sink: ReplySink,
  ): PromiseLike<void> | undefined {
    const entry = this.handlers.get(envelope.ctor)
    if (!entry) {
      const description = `no handler for ${this.handlers.describe(envelope.ctor)}`
      sink.reply(
        errorReply(
          envelope.requestId,
          new RonyError('E01', 'HANDLER', description, { code: 'RONY_ERR_UNKNOWN_CONSTRUCTOR' }),
        ),
      )
      return undefined
    }
    if (state.inFlight >= this.limits.maxInFlight) {
      const description = `more than ${this.limits.maxInFlight} requests in flight`
      sink.reply(
        errorReply(
          envelope.requestId,
          new RonyError('E03', 'REQUESTS', description, { code: 'RONY_ERR_TOO_MANY_REQUESTS' }),
        ),
      )
      return undefined
    }
    if (entry.mode === 'local' || this.modes === undefined) {
      return this.pipeline.run(entry, envelope, state, sink)
    }
    return this.modes.runRequest(entry, envelope, state, sink)
  }

  /**
   * A container's envelopes, or the one envelope of a non-persistent connection's request:
   * the replies are collected and sent as one message, a single reply as itself.
   */
  private dispatchBatch(
    state: ConnectionState,
    envelope: Envelope,
    connection: ConnectionSink,
  ): PromiseLike<void> | undefined {
    const batch = new BatchSink(connection)
    if (envelope.ctor !== C_MessageContainer) {
      const pending = this.dispatchEnvelope(state, envelope, batch)
      if (pending === undefined) return sendBatch(connection, batch, false)
      return pending.then(() => sendBatch(connection, batch, false))
    }
    let envelopes: Envelope[]
    let syncRun: boolean
    try {
      ;({ envelopes, syncRun } = decodeContainer(envelope.message, this.limits))
    } catch (error) {
      connection.reply(errorReply(envelope.requestId, error as RonyError))
      return undefined
    }
    // Its answer would be the batch of its envelopes' answers: none. Every request envelope
    // gets one answer, so the container itself is answered, under its own request id.
    if (envelopes.length === 0) {
      connection.reply(errorReply(envelope.requestId, EMPTY_CONTAINER()))
      return undefined
    }
    return this.runContainer(state, envelopes, syncRun, batch).then(() =>
      sendBatch(connection, batch, true),
    )
  }

  private async runContainer(
    state: ConnectionState,
    envelopes: readonly Envelope[],
    syncRun: boolean,
    batch: BatchSink,
  ): Promise<void> {
    if (syncRun) {
      for (const inner of envelopes) await this.dispatchEnvelope(state, inner, batch)
      return
    }
    const running: PromiseLike<void>[] = []
    for (const inner of envelopes) {
      const pending = this.dispatchEnvelope(state, inner, batch)
      if (pending) running.push(pending)
    }
    await Promise.all(running)
  }
}

/** An error the REST builder did not mean (a bug) answers E00, never crashes the edge. */
function asRonyError(error: unknown): RonyError {
  if (error instanceof RonyError) return error
  return new RonyError('E00', 'SERVER', 'cannot build the REST request', { cause: error })
}

/** Sends a batch's answers: one as itself (unless a container was asked), several as a container. */
function sendBatch(connection: ConnectionSink, batch: BatchSink, asContainer: boolean): undefined {
  const { replies } = batch
  if (replies.length === 0) return undefined
  connection.reply(!asContainer && replies.length === 1 ? replies[0]! : containerReply(replies))
  return undefined
}
