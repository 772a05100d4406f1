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
  /** Handlers running across all connections. */
  inFlight = 0
  /** Set by `stop()`: new requests are answered E02 while running ones finish. */
  draining = false
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
    if (envelope.ctor === C_MessageContainer) {
      this.dispatchContainer(state, envelope).catch((error: unknown) => {
        this.log.error('container dispatch failed: %s', error)
      })
    } else {
      this.dispatchEnvelope(state, envelope, undefined)
    }
  }

  /**
   * Runs the handler of one envelope. Returns a promise only when the handler (or the
   * middleware chain) is asynchronous.
   */
  private dispatchEnvelope(
    state: ConnectionState,
    envelope: Envelope,
    batch: EnvelopeInit[] | undefined,
  ): PromiseLike<void> | undefined {
    const { requestId } = envelope
    if (this.draining) return this.replyError(state, requestId, batch, SHUTTING_DOWN())
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
    let request: unknown
    try {
      request = entry.decode(envelope.message)
    } catch (error) {
      return this.replyError(state, requestId, batch, error as RonyError)
    }
    const ctx = new RequestContext(this, state, envelope, request, entry.returns, batch)
    state.inFlight++
    this.inFlight++
    let result: unknown
    try {
      result =
        this.middleware.length === 0 ? entry.handler(request, ctx) : this.runChain(ctx, entry, 0)
    } catch (error) {
      this.settle(state)
      this.fail(ctx, error)
      return undefined
    }
    if (isThenable(result)) {
      return result.then(
        (response) => {
          this.settle(state)
          this.finish(ctx, this.middleware.length === 0 ? response : ctx.response)
        },
        (error: unknown) => {
          this.settle(state)
          this.fail(ctx, error)
        },
      )
    }
    this.settle(state)
    this.finish(ctx, this.middleware.length === 0 ? result : ctx.response)
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
    ctx.replies++
    this.sendMessage(ctx, ctx.requestId, response as object, ctx.responseType)
  }

  private fail(ctx: RequestContext, error: unknown): void {
    if (error instanceof RonyError) {
      this.replyError(ctx.connection, ctx.requestId, ctx.batch, error)
      return
    }
    this.hooks.handlerError(error, ctx)
    this.replyError(
      ctx.connection,
      ctx.requestId,
      ctx.batch,
      new RonyError('E00', 'SERVER', 'internal server error'),
    )
  }

  /** Encodes `message` (by its own type, or `type`) and sends or batches it. */
  sendMessage(
    ctx: RequestContext,
    requestId: bigint,
    message: object,
    type: MessageType | undefined,
    push = false,
  ): boolean {
    let init: EnvelopeInit
    try {
      const entry = type ? this.registry.ensure(type) : this.registry.entryOf(message)
      init = { ctor: entry.ctor, requestId, message: entry.type.encode(message).finish() }
    } catch (error) {
      // A reply that cannot be encoded is the handler's bug: report it, answer E00.
      this.fail(ctx, error instanceof RonyError ? new Error(error.message) : error)
      return false
    }
    return this.deliver(ctx.connection, push ? undefined : ctx.batch, init)
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

  private settle(state: ConnectionState): void {
    state.inFlight--
    if (--this.inFlight === 0 && this.onIdle) this.onIdle()
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
