import type { Envelope, MessageRegistry } from '@rony/envelope'
import { RonyError } from '@rony/envelope'
import type { Logger } from '@rony/interface'
import type { RequestOrigin } from './connection.js'
import {
  type CommandStamp,
  type EdgeScope,
  type Executor,
  type Middleware,
  RequestContext,
} from './context.js'
import { decodeRequest, type HandlerEntry, type HandlerRegistry } from './registry.js'
import { errorReply, messageReply, type ReplySink } from './reply.js'
import type { WorkCounter } from './work.js'

/** Hooks the pipeline reports through (the edge turns them into events). */
export interface PipelineHooks {
  handlerError(error: unknown, ctx: RequestContext): void
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  )
}

/**
 * Runs one request through the middleware chain and its handler, and turns the outcome
 * into answers on the request's sink: the reply, or the error answers of DESIGN §3. It
 * needs no connection, only the request's envelope, its origin and a sink, so requests
 * from a gateway, from a log entry or over a tunnel all run here. Sync handlers without
 * middleware run without a promise.
 */
export class Pipeline implements EdgeScope {
  readonly messages: MessageRegistry
  /** Set by the edge's cluster part when it has a tunnel (`ctx.execute`). */
  execute: Executor | undefined

  constructor(
    readonly serverId: string,
    private readonly handlers: HandlerRegistry,
    private readonly middleware: readonly Middleware[],
    private readonly work: WorkCounter,
    private readonly log: Logger,
    private readonly hooks: PipelineHooks,
  ) {
    this.messages = handlers.messages
  }

  /**
   * Runs `envelope`, a request for `entry`'s handler, answering through `sink`. A payload
   * that does not decode, a throw and a missing reply are answers too, so every request
   * gets one. Returns a promise (that never rejects) only when the handler or the
   * middleware chain is asynchronous. `stamp` is a replicated command's time and seed: a
   * command runs its handler alone, since its middleware ran on the edge that received it,
   * before it was replicated.
   */
  run(
    entry: HandlerEntry,
    envelope: Envelope,
    origin: RequestOrigin,
    sink: ReplySink,
    stamp?: CommandStamp,
  ): PromiseLike<void> | undefined {
    let request: unknown
    try {
      request = decodeRequest(entry, envelope)
    } catch (error) {
      sink.reply(errorReply(envelope.requestId, error as RonyError))
      return undefined
    }
    const ctx = new RequestContext(this, origin, envelope, request, entry.returns, sink, stamp)
    origin.inFlight++
    const generation = this.work.begin()
    const chained = this.middleware.length > 0 && stamp === undefined
    let result: unknown
    try {
      result = chained ? this.runChain(ctx, entry, 0) : entry.handler(request, ctx)
    } catch (error) {
      this.fail(ctx, error)
      this.settle(origin, generation)
      return undefined
    }
    if (isThenable(result)) {
      return result.then(
        (response) => {
          this.finish(ctx, chained ? ctx.response : response)
          this.settle(origin, generation)
        },
        (error: unknown) => {
          this.fail(ctx, error)
          this.settle(origin, generation)
        },
      )
    }
    this.finish(ctx, chained ? ctx.response : result)
    this.settle(origin, generation)
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

  private finish(ctx: RequestContext, response: unknown): void {
    if (response === undefined || response === null) {
      if (ctx.replies === 0) {
        if (this.log.error.enabled) {
          this.log.error(
            'the handler for %s returned no reply and sent none',
            this.handlers.describe(ctx.ctor),
          )
        }
        ctx.sink.reply(
          errorReply(
            ctx.requestId,
            new RonyError('E00', 'HANDLER', 'the handler returned no reply and sent none', {
              code: 'RONY_ERR_NO_REPLY',
            }),
          ),
        )
      }
      return
    }
    try {
      ctx.replies++
      ctx.sink.reply(
        messageReply(this.messages, ctx.requestId, response as object, ctx.responseType),
      )
    } catch (error) {
      // A reply that cannot be encoded is the handler's bug: report it, answer E00.
      this.fail(ctx, error)
    }
  }

  /** A throw is an answer: a `RonyError` as itself, anything else as E00/SERVER, reported. */
  private fail(ctx: RequestContext, error: unknown): void {
    if (error instanceof RonyError) {
      ctx.sink.reply(errorReply(ctx.requestId, error))
      return
    }
    ctx.sink.reply(
      errorReply(ctx.requestId, new RonyError('E00', 'SERVER', 'internal server error')),
    )
    try {
      this.hooks.handlerError(error, ctx)
    } catch (hookError) {
      this.log.error('a handler:error listener threw: %s', hookError)
    }
  }

  private settle(origin: RequestOrigin, generation: number): void {
    origin.inFlight--
    this.work.end(generation)
  }
}
