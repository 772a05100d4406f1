import {
  C_Error,
  C_MessageContainer,
  decodeContainer,
  decodeEnvelope,
  type Envelope,
  type EnvelopeInit,
  encodeContainer,
  encodeEnvelope,
  type MessageRegistry,
  type MessageType,
  messageTypeOf,
  RonyError,
  rony,
} from '@rony/envelope'
import type { Logger } from '@rony/interface'
import type { ConnectionState } from './connection.js'
import { type Handler, type Middleware, RequestContext } from './context.js'
import type { EdgeLimits } from './options.js'

/** A registered handler, with the decoder for its request type. */
export interface HandlerEntry {
  ctor: bigint
  name: string
  decode: (bytes: Uint8Array) => unknown
  handler: Handler
  /** Type for replies given as plain objects. */
  returns: MessageType | undefined
}

/** Hooks the dispatcher reports through (the edge turns them into events). */
export interface DispatchHooks {
  handlerError(error: unknown, ctx: RequestContext): void
}

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

  /** Starts a new generation of work: called by `start()`. */
  reset(): void {
    this.generation++
    this.inFlight = 0
    this.draining = false
  }

  /**
   * JSON envelopes (and `JsonEncoded` payloads) need the JSON mapping of every payload
   * type: not supported yet, so they get a clear E13 rather than a decoding error.
   */
  rejectJson(state: ConnectionState, requestId = 0n, batch?: EnvelopeInit[]): undefined {
    return this.replyError(
      state,
      requestId,
      batch,
      new RonyError('E13', 'JSON', 'JSON payloads are not supported yet: send binary protobuf', {
        code: 'RONY_ERR_JSON_UNSUPPORTED',
      }),
    )
  }

  /** One inbound frame: an envelope, or an envelope carrying a container. */
  dispatchFrame(state: ConnectionState, data: Uint8Array): void {
    let envelope: Envelope
    try {
      envelope = decodeEnvelope(data, this.limits)
    } catch (error) {
      if (this.log.enabled) this.log('undecodable frame of %d bytes: %s', data.length, error)
      this.replyError(state, 0n, undefined, error as RonyError)
      return
    }
    if (this.draining) {
      this.replyError(state, envelope.requestId, undefined, SHUTTING_DOWN())
      return
    }
    if (envelope.ctor === C_MessageContainer) {
      const generation = this.begin()
      this.dispatchContainer(state, envelope)
        .catch((error: unknown) => this.log.error('container dispatch failed: %s', error))
        .finally(() => this.end(generation))
    } else {
      this.dispatchEnvelope(state, envelope, undefined)
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
    batch: EnvelopeInit[] | undefined,
  ): PromiseLike<void> | undefined {
    const { requestId } = envelope
    const entry = this.handlers.get(envelope.ctor)
    if (!entry) {
      return this.replyError(
        state,
        requestId,
        batch,
        new RonyError('E01', 'HANDLER', `no handler for constructor ${envelope.ctor}`, {
          code: 'RONY_ERR_UNKNOWN_CONSTRUCTOR',
        }),
      )
    }
    if (state.inFlight >= this.limits.maxInFlight) {
      return this.replyError(
        state,
        requestId,
        batch,
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
    if (envelope.jsonEncoded) return this.rejectJson(state, requestId, batch)
    let request: unknown
    try {
      request = entry.decode(envelope.message)
    } catch (error) {
      return this.replyError(state, requestId, batch, error as RonyError)
    }
    const ctx = new RequestContext(this, state, envelope, request, entry.returns, batch)
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

  private async dispatchContainer(state: ConnectionState, envelope: Envelope): Promise<void> {
    let envelopes: Envelope[]
    let syncRun: boolean
    try {
      ;({ envelopes, syncRun } = decodeContainer(envelope.message, this.limits))
    } catch (error) {
      this.replyError(state, envelope.requestId, undefined, error as RonyError)
      return
    }
    const batch: EnvelopeInit[] = []
    if (syncRun) {
      for (const inner of envelopes) await this.dispatchEnvelope(state, inner, batch)
    } else {
      const running: PromiseLike<void>[] = []
      for (const inner of envelopes) {
        const pending = this.dispatchEnvelope(state, inner, batch)
        if (pending) running.push(pending)
      }
      await Promise.all(running)
    }
    if (batch.length === 0) return
    state.conn.send(
      encodeEnvelope({
        ctor: C_MessageContainer,
        requestId: 0n,
        message: encodeContainer({ envelopes: batch }),
      }),
    )
  }

  private finish(ctx: RequestContext, response: unknown): void {
    if (response === undefined || response === null) {
      if (ctx.replies === 0) {
        this.replyError(
          ctx.connection,
          ctx.requestId,
          ctx.batch,
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
      this.replyError(ctx.connection, ctx.requestId, ctx.batch, error)
      return
    }
    this.replyError(
      ctx.connection,
      ctx.requestId,
      ctx.batch,
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
    return this.deliver(ctx.connection, push ? undefined : ctx.batch, {
      ctor: entry.ctor,
      requestId,
      message: bytes,
    })
  }

  private replyError(
    state: ConnectionState,
    requestId: bigint,
    batch: EnvelopeInit[] | undefined,
    error: RonyError,
  ): undefined {
    const message = rony.Error.encode(error.toWire()).finish()
    this.deliver(state, batch, { ctor: C_Error, requestId, message })
    return undefined
  }

  private deliver(
    state: ConnectionState,
    batch: EnvelopeInit[] | undefined,
    init: EnvelopeInit,
  ): boolean {
    if (batch) {
      batch.push(init)
      return !state.conn.closed
    }
    return state.conn.send(encodeEnvelope(init))
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
