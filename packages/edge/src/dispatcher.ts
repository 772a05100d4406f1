import {
  C_Error,
  C_MessageContainer,
  decodeContainer,
  decodeEnvelope,
  type Envelope,
  type EnvelopeInit,
  encodeContainer,
  encodeEnvelope,
  encodeJsonEnvelope,
  jsonToEnvelope,
  type MessageRegistry,
  type MessageType,
  messageFromJson,
  messageTypeOf,
  parseJson,
  parseJsonEnvelope,
  RonyError,
  rony,
} from '@rony/envelope'
import type { Logger, PayloadFormat, RestMethod } from '@rony/interface'
import type { ConnectionState } from './connection.js'
import { type Handler, type Middleware, RequestContext } from './context.js'
import type { EdgeLimits } from './options.js'

/** A registered handler, with the decoder for its request type. */
export interface HandlerEntry {
  ctor: bigint
  name: string
  decode: (bytes: Uint8Array) => unknown
  /** The protobufjs request type, for JSON payloads; undefined for `{ ctor, decode }` types. */
  type: MessageType | undefined
  handler: Handler
  /** Type for replies given as plain objects. */
  returns: MessageType | undefined
  /** The handler's REST binding, if it has one. */
  rest: { method: RestMethod; path: string } | undefined
}

/**
 * Where the replies to one inbound frame go: its format (replies are written the way the
 * request was), and for a container (or any request on a non-persistent connection) the
 * batch that is sent as one message at the end.
 */
export interface Frame {
  readonly format: PayloadFormat
  readonly batch: EnvelopeInit[] | undefined
}

const BINARY_FRAME: Frame = { format: 'binary', batch: undefined }
const JSON_FRAME: Frame = { format: 'json', batch: undefined }
const unbatched = (format: PayloadFormat): Frame => (format === 'json' ? JSON_FRAME : BINARY_FRAME)
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Hooks the dispatcher reports through (the edge turns them into events). */
export interface DispatchHooks {
  handlerError(error: unknown, ctx: RequestContext): void
}

const EMPTY_CONTAINER = (): RonyError =>
  new RonyError('E01', 'ENVELOPES', 'a MessageContainer with no envelopes', {
    code: 'RONY_ERR_EMPTY_CONTAINER',
  })

const SHUTTING_DOWN = (): RonyError =>
  new RonyError('E02', 'SERVER', 'the server is shutting down', { code: 'RONY_ERR_SHUTTING_DOWN' })

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  )
}

/**
 * Turns frames into handler calls and handler results into reply frames: envelope and
 * container decoding, handler lookup by constructor, limits, the middleware chain, and the
 * error replies of DESIGN §3. Sync handlers without middleware run without a promise.
 */
export class Dispatcher {
  /**
   * Work running across all connections (handlers, and containers until their batch is
   * sent), counted per start: a handler that outlived a timed-out stop no longer delays
   * the next one.
   */
  inFlight = 0
  /** Set by `stop()`: new requests are answered E02 while running ones finish. */
  draining = false
  private generation = 0
  private onIdle: (() => void) | undefined

  constructor(
    readonly serverId: string,
    private readonly registry: MessageRegistry,
    private readonly handlers: ReadonlyMap<bigint, HandlerEntry>,
    private readonly middleware: readonly Middleware[],
    private readonly limits: Readonly<EdgeLimits>,
    private readonly log: Logger,
    private readonly hooks: DispatchHooks,
  ) {}

  /** A constructor for people, by name when its handler or the registry knows it. */
  describe(ctor: bigint): string {
    return describeConstructor(ctor, this.handlers.get(ctor)?.name ?? this.registry.get(ctor)?.name)
  }

  /** Starts a new generation of work: called by `start()`. */
  reset(): void {
    this.generation++
    this.inFlight = 0
    this.draining = false
  }

  /**
   * One inbound frame: an envelope, or an envelope carrying a container, in binary
   * protobuf or as a JSON envelope. On a non-persistent connection (HTTP) every reply of
   * the request is collected and sent as one message.
   */
  dispatchFrame(state: ConnectionState, data: Uint8Array, format: PayloadFormat): void {
    const envelope = format === 'json' ? this.readJson(state, data) : this.readBinary(state, data)
    if (envelope === undefined) return
    if (this.draining) {
      this.replyError(state, envelope.requestId, unbatched(format), SHUTTING_DOWN())
      return
    }
    if (envelope.ctor !== C_MessageContainer && state.conn.persistent) {
      this.dispatchEnvelope(state, envelope, unbatched(format))
      return
    }
    // Counted until the batch is sent, so a graceful stop waits for it.
    const generation = this.begin()
    const pending = this.dispatchBatch(state, envelope, format)
    if (pending === undefined) this.end(generation)
    else
      pending.then(
        () => this.end(generation),
        (error: unknown) => {
          this.log.error('batch dispatch failed: %s', error)
          this.end(generation)
        },
      )
  }

  private readBinary(state: ConnectionState, data: Uint8Array): Envelope | undefined {
    try {
      return decodeEnvelope(data, this.limits)
    } catch (error) {
      if (this.log.enabled) this.log('undecodable frame of %d bytes: %s', data.length, error)
      return this.replyError(state, 0n, BINARY_FRAME, error as RonyError)
    }
  }

  /** A JSON envelope; errors are answered under its request id once that is known. */
  private readJson(state: ConnectionState, data: Uint8Array): Envelope | undefined {
    let requestId = 0n
    try {
      if (data.length > this.limits.maxEnvelopeBytes) {
        throw new RonyError(
          'E01',
          'ENVELOPE',
          `envelope larger than ${this.limits.maxEnvelopeBytes} bytes`,
          {
            code: 'RONY_ERR_ENVELOPE_TOO_LARGE',
          },
        )
      }
      const parsed = parseJsonEnvelope(data)
      requestId = parsed.requestId
      return jsonToEnvelope(parsed.json, this.registry, this.limits)
    } catch (error) {
      if (this.log.enabled) this.log('unreadable JSON envelope of %d bytes: %s', data.length, error)
      return this.replyError(state, requestId, JSON_FRAME, error as RonyError)
    }
  }

  /**
   * Runs the handler of one envelope. Returns a promise only when the handler (or the
   * middleware chain) is asynchronous. Envelopes of a container accepted before a stop
   * began all run.
   */
  private dispatchEnvelope(
    state: ConnectionState,
    envelope: Envelope,
    frame: Frame,
  ): PromiseLike<void> | undefined {
    const { requestId } = envelope
    const entry = this.handlers.get(envelope.ctor)
    if (!entry) {
      return this.replyError(
        state,
        requestId,
        frame,
        new RonyError('E01', 'HANDLER', `no handler for ${this.describe(envelope.ctor)}`, {
          code: 'RONY_ERR_UNKNOWN_CONSTRUCTOR',
        }),
      )
    }
    if (state.inFlight >= this.limits.maxInFlight) {
      return this.replyError(
        state,
        requestId,
        frame,
        new RonyError(
          'E03',
          'REQUESTS',
          `more than ${this.limits.maxInFlight} requests in flight`,
          {
            code: 'RONY_ERR_TOO_MANY_REQUESTS',
          },
        ),
      )
    }
    let request: unknown
    try {
      request = entry.decode(
        envelope.jsonEncoded ? jsonPayload(entry, envelope.message) : envelope.message,
      )
    } catch (error) {
      return this.replyError(state, requestId, frame, error as RonyError)
    }
    const ctx = new RequestContext(this, state, envelope, request, entry.returns, frame)
    state.inFlight++
    const generation = this.begin()
    let result: unknown
    try {
      result =
        this.middleware.length === 0 ? entry.handler(request, ctx) : this.runChain(ctx, entry, 0)
    } catch (error) {
      this.fail(ctx, error)
      this.settle(state, generation)
      return undefined
    }
    if (isThenable(result)) {
      return result.then(
        (response) => {
          this.finish(ctx, this.middleware.length === 0 ? response : ctx.response)
          this.settle(state, generation)
        },
        (error: unknown) => {
          this.fail(ctx, error)
          this.settle(state, generation)
        },
      )
    }
    this.finish(ctx, this.middleware.length === 0 ? result : ctx.response)
    this.settle(state, generation)
    return undefined
  }

  /** Koa-style composition; the handler is the innermost step and sets `ctx.response`. */
  private async runChain(ctx: RequestContext, entry: HandlerEntry, index: number): Promise<void> {
    const middleware = this.middleware[index]
    if (middleware === undefined) {
      ctx.response = await entry.handler(ctx.request, ctx)
      return
    }
    let called = false
    await middleware(ctx, () => {
      if (called) return Promise.reject(new Error('next() called more than once'))
      called = true
      return this.runChain(ctx, entry, index + 1)
    })
  }

  /**
   * A container's envelopes, or the one envelope of a non-persistent connection's request:
   * the replies are collected and sent as one message, a single reply as itself.
   */
  private dispatchBatch(
    state: ConnectionState,
    envelope: Envelope,
    format: PayloadFormat,
  ): PromiseLike<void> | undefined {
    const frame: Frame = { format, batch: [] }
    if (envelope.ctor !== C_MessageContainer) {
      const pending = this.dispatchEnvelope(state, envelope, frame)
      if (pending === undefined) return this.sendBatch(state, frame, false)
      return pending.then(() => this.sendBatch(state, frame, false))
    }
    let envelopes: Envelope[]
    let syncRun: boolean
    try {
      ;({ envelopes, syncRun } = decodeContainer(envelope.message, this.limits))
    } catch (error) {
      return this.replyError(state, envelope.requestId, unbatched(format), error as RonyError)
    }
    // Its answer would be the batch of its envelopes' answers: none. Every request envelope
    // gets one answer, so the container itself is answered, under its own request id.
    if (envelopes.length === 0) {
      return this.replyError(state, envelope.requestId, unbatched(format), EMPTY_CONTAINER())
    }
    return this.runContainer(state, envelopes, syncRun, frame).then(() =>
      this.sendBatch(state, frame, true),
    )
  }

  private async runContainer(
    state: ConnectionState,
    envelopes: readonly Envelope[],
    syncRun: boolean,
    frame: Frame,
  ): Promise<void> {
    if (syncRun) {
      for (const inner of envelopes) await this.dispatchEnvelope(state, inner, frame)
      return
    }
    const running: PromiseLike<void>[] = []
    for (const inner of envelopes) {
      const pending = this.dispatchEnvelope(state, inner, frame)
      if (pending) running.push(pending)
    }
    await Promise.all(running)
  }

  /** Sends a frame's collected replies: one as itself (unless a container was asked), several as a container. */
  private sendBatch(state: ConnectionState, frame: Frame, asContainer: boolean): undefined {
    const batch = frame.batch!
    if (batch.length === 0) return undefined
    this.send(
      state,
      frame.format,
      !asContainer && batch.length === 1
        ? batch[0]!
        : {
            ctor: C_MessageContainer,
            requestId: 0n,
            message: encodeContainer({ envelopes: batch }),
          },
    )
    return undefined
  }

  private finish(ctx: RequestContext, response: unknown): void {
    if (response === undefined || response === null) {
      if (ctx.replies === 0) {
        if (this.log.error.enabled) {
          this.log.error(
            'the handler for %s returned no reply and sent none',
            this.describe(ctx.ctor),
          )
        }
        this.replyError(
          ctx.connection,
          ctx.requestId,
          ctx.frame,
          new RonyError('E00', 'HANDLER', 'the handler returned no reply and sent none', {
            code: 'RONY_ERR_NO_REPLY',
          }),
        )
      }
      return
    }
    try {
      ctx.replies++
      this.sendMessage(ctx, ctx.requestId, response as object, ctx.responseType)
    } catch (error) {
      // A reply that cannot be encoded is the handler's bug: report it, answer E00.
      this.fail(ctx, error)
    }
  }

  private fail(ctx: RequestContext, error: unknown): void {
    if (error instanceof RonyError) {
      this.replyError(ctx.connection, ctx.requestId, ctx.frame, error)
      return
    }
    this.replyError(
      ctx.connection,
      ctx.requestId,
      ctx.frame,
      new RonyError('E00', 'SERVER', 'internal server error'),
    )
    try {
      this.hooks.handlerError(error, ctx)
    } catch (hookError) {
      this.log.error('a handler:error listener threw: %s', hookError)
    }
  }

  /**
   * Encodes `message` by its own type (an instance), else by `type` (a plain object), and
   * sends or batches it. Throws `TypeError` when it cannot be encoded.
   */
  sendMessage(
    ctx: RequestContext,
    requestId: bigint,
    message: object,
    type: MessageType | undefined,
    push = false,
  ): boolean {
    const own = messageTypeOf(message)
    if (!own && !type) {
      throw new TypeError(
        'cannot encode a plain object without its type: return an instance, or register the handler with `returns`',
      )
    }
    const entry = this.registry.ensure((own ?? type)!)
    let bytes: Uint8Array
    try {
      bytes = entry.type.encode(message).finish()
    } catch (cause) {
      throw new TypeError(`cannot encode ${entry.name}: ${String(cause)}`, { cause })
    }
    return this.deliver(ctx.connection, push ? unbatched(ctx.frame.format) : ctx.frame, {
      ctor: entry.ctor,
      requestId,
      message: bytes,
    })
  }

  private replyError(
    state: ConnectionState,
    requestId: bigint,
    frame: Frame,
    error: RonyError,
  ): undefined {
    const message = rony.Error.encode(error.toWire()).finish()
    this.deliver(state, frame, { ctor: C_Error, requestId, message })
    return undefined
  }

  private deliver(state: ConnectionState, frame: Frame, init: EnvelopeInit): boolean {
    if (frame.batch) {
      frame.batch.push(init)
      return !state.conn.closed
    }
    return this.send(state, frame.format, init)
  }

  private send(state: ConnectionState, format: PayloadFormat, init: EnvelopeInit): boolean {
    if (format === 'binary') return state.conn.send(encodeEnvelope(init))
    return state.conn.send(encodeJsonEnvelope(init, this.registry), 'json')
  }

  private begin(): number {
    this.inFlight++
    return this.generation
  }

  private end(generation: number): void {
    if (generation === this.generation && --this.inFlight === 0 && this.onIdle) this.onIdle()
  }

  private settle(state: ConnectionState, generation: number): void {
    state.inFlight--
    this.end(generation)
  }

  /** Resolves once no handler runs, or after `timeout` ms; true when idle. */
  whenIdle(timeout: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onIdle = undefined
        resolve(false)
      }, timeout)
      this.onIdle = () => {
        clearTimeout(timer)
        this.onIdle = undefined
        resolve(true)
      }
    })
  }
}

/**
 * `EchoRequest (634453994073422796)` for a known name, else `constructor 634453994073422796`:
 * the id in decimal, as the generated `C_…` constants (Go's and ours) spell it.
 */
function describeConstructor(ctor: bigint, name: string | undefined): string {
  // A raw `{ ctor, decode }` type without a name is named by its id already.
  return name === undefined || name === String(ctor) ? `constructor ${ctor}` : `${name} (${ctor})`
}

/**
 * A `JsonEncoded` envelope's payload (protobuf JSON text) as binary protobuf of the
 * handler's request type. Replies stay binary, as in the Go framework.
 */
function jsonPayload(entry: HandlerEntry, bytes: Uint8Array): Uint8Array {
  if (entry.type === undefined) {
    throw new RonyError('E13', 'JSON', `${entry.name} takes binary protobuf only`, {
      code: 'RONY_ERR_JSON_UNSUPPORTED',
    })
  }
  let json: unknown
  try {
    json = parseJson(decoder.decode(bytes)) // exact past 2^53, for 64-bit fields
  } catch (cause) {
    throw new RonyError('E01', 'MESSAGE', `invalid JSON payload for ${entry.name}`, {
      code: 'RONY_ERR_INVALID_MESSAGE',
      cause,
    })
  }
  return messageFromJson(entry.type, entry.name, json)
}
