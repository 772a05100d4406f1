import {
  C_Error,
  C_MessageContainer,
  C_Ping,
  C_Redirect,
  decodeContainer,
  decodeEnvelope,
  decodeMessage,
  type Envelope,
  type EnvelopeInit,
  encodeEnvelope,
  encodeMessage,
  type MessageOf,
  type MessageRegistry,
  type MessageType,
  type MethodDescriptor,
  type RegisteredType,
  RonyError,
  rony,
  SESSION_HEADER,
} from '@rony/envelope'
import type { Client, ConnectOptions, RequestOptions } from './api.js'
import { clientClosed, redirected, tooManyPending, unexpectedResponse } from './errors.js'
import {
  type ClientEvents,
  Emitter,
  type EventName,
  type ReconnectInfo,
  type Update,
} from './events.js'
import { type ClientState, Link, type LinkHost } from './link.js'
import {
  authBytes,
  type ClientInit,
  mergeHeader,
  type ResolvedOptions,
  resolveOptions,
} from './options.js'
import { Pending, PendingTable } from './pending.js'
import { type Connection, transportFor } from './transport/transport.js'
import { UpdateStream, type UpdatesOptions } from './updates.js'

/** Largest request id on the wire (fixed64); the counter wraps to 1 after it. */
const MAX_REQUEST_ID = 2n ** 64n - 1n

interface OpenWaiter {
  resolve(): void
  reject(error: unknown): void
}

/**
 * Request correlation and delivery: requests go into the pending table under a fresh id,
 * replies come back through `frame()` and settle them, pushes go to listeners and
 * `updates()` iterators. The connection's life is the `Link`'s business.
 */
export class RonyClient implements Client, LinkHost {
  readonly url: string
  readonly registry: MessageRegistry
  readonly session: string
  private readonly options: ResolvedOptions
  private readonly link: Link
  private readonly events = new Emitter<ClientEvents>()
  private readonly pending: PendingTable
  private readonly streams = new Set<UpdateStream>()
  private readonly openWaiters = new Set<OpenWaiter>()
  private readonly responseTypes = new WeakMap<MessageType, RegisteredType>()
  private nextId: bigint
  private pingCount = 0
  private closing: Promise<void> | undefined

  constructor(url: string, init: ClientInit = {}) {
    this.options = resolveOptions(init)
    const transport = transportFor(url, this.options)
    this.url = transport.url
    this.registry = this.options.registry
    this.session = this.options.session
    this.pending = new PendingTable(
      this.options.clock,
      (pending) => {
        if (pending.sent) this.link.connection?.abandon?.(pending.frame)
      },
      () => this.link.lastError,
    )
    this.link = new Link(transport, this.options, this)
    // A random start, 53-bit safe and never 0 (0 marks updates), so the ids of two clients,
    // or of two runs of one, rarely meet in server logs.
    this.nextId = BigInt(Math.floor(this.options.random.next() * (2 ** 53 - 1))) + 1n
  }

  get state(): ClientState {
    return this.link.state
  }

  on<K extends EventName>(event: K, listener: ClientEvents[K]): () => void {
    this.events.on(event, listener)
    return () => this.events.off(event, listener)
  }

  off<K extends EventName>(event: K, listener: ClientEvents[K]): void {
    this.events.off(event, listener)
  }

  updates(options: UpdatesOptions = {}): AsyncIterableIterator<Update, undefined> {
    const stream = new UpdateStream(options, (s) => this.streams.delete(s))
    if (this.link.state === 'closed') stream.end()
    else this.streams.add(stream)
    return stream
  }

  connect(options: ConnectOptions = {}): Promise<void> {
    if (this.link.state === 'open') return Promise.resolve()
    if (this.link.state === 'closed') return Promise.reject(clientClosed())
    const { signal } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    const timeout = options.timeout ?? this.options.timeout
    const { clock } = this.options
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        this.openWaiters.delete(waiter)
        clock.clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      const waiter: OpenWaiter = {
        resolve: () => {
          done()
          resolve()
        },
        reject: (error) => {
          done()
          reject(error)
        },
      }
      const onAbort = (): void => waiter.reject(signal?.reason)
      const timer = clock.setTimeout(() => {
        const cause = this.link.lastError
        const text = `no connection to ${this.url} within ${timeout} ms`
        const code = 'RONY_ERR_TIMEOUT'
        waiter.reject(new RonyError('E06', 'TIMEOUT', text, cause ? { code, cause } : { code }))
      }, timeout)
      signal?.addEventListener('abort', onAbort)
      this.openWaiters.add(waiter)
      this.link.ensureConnecting()
    })
  }

  request<T extends MessageType>(
    message: object,
    responseType: T,
    options?: RequestOptions,
  ): Promise<MessageOf<T>>
  request(message: object, responseType?: undefined, options?: RequestOptions): Promise<unknown>
  request(
    message: object,
    responseType?: MessageType,
    options: RequestOptions = {},
  ): Promise<unknown> {
    let pending: Pending
    try {
      pending = this.prepare(message, responseType, options)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.submit(pending)
  }

  call<I, O>(
    method: MethodDescriptor<I, O>,
    input: I | object,
    options: RequestOptions = {},
  ): Promise<O> {
    let pending: Pending
    try {
      const route = { ctor: method.ctor, type: method.input as MessageType, name: method.name }
      pending = this.prepare(input as object, method.output, options, route)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.submit(pending) as Promise<O>
  }

  /** Sends a prepared request now, or once connected. */
  private submit(pending: Pending): Promise<unknown> {
    this.pending.add(pending)
    const { connection } = this.link
    if (connection !== undefined) this.transmit(pending, connection)
    else this.link.ensureConnecting()
    return pending.promise
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  // ---- requests ----

  /**
   * Checks and encodes a request; throws what `request()` rejects with. `route` sends it
   * under a service method's id, its payload typed by the method's input type.
   */
  private prepare(
    message: object,
    responseType: MessageType | undefined,
    options: RequestOptions,
    route?: Pick<RegisteredType, 'ctor' | 'type' | 'name'>,
  ): Pending {
    if (this.link.state === 'closed') throw clientClosed()
    if (typeof message !== 'object' || message === null) {
      throw new TypeError(`client.request: message must be a protobuf message, got ${message}`)
    }
    const { signal } = options
    if (signal?.aborted) throw signal.reason
    if (this.pending.size >= this.options.maxPending) throw tooManyPending(this.options.maxPending)
    const timeout = options.timeout ?? this.options.timeout
    if (!(timeout > 0 && timeout < Number.POSITIVE_INFINITY)) {
      throw new RangeError(`client.request: timeout must be a positive number, got ${timeout}`)
    }
    const entry = route ?? this.registry.entryOf(message) // a TypeError for a plain object
    const response = responseType === undefined ? undefined : this.responseEntry(responseType)
    const id = this.nextRequestId()
    const idempotent = options.idempotent === true
    let header = mergeHeader(this.options.header, options.header)
    // Only an idempotent request may be re-sent, so only it needs the session that lets a
    // clustered edge recognize the re-send; the client's session wins over a header's.
    if (idempotent) header = mergeHeader(header, [{ key: SESSION_HEADER, value: this.session }])
    const init: EnvelopeInit = {
      ctor: entry.ctor,
      requestId: id,
      message: encodeMessage(entry.type, message),
      header,
    }
    const auth = options.auth === undefined ? this.options.auth : authBytes(options.auth)
    if (auth !== undefined) init.auth = auth
    const deadline = this.options.clock.now() + timeout
    return new Pending(
      this.pending,
      id,
      encodeEnvelope(init),
      entry.name,
      deadline,
      timeout,
      idempotent,
      response,
      signal,
    )
  }

  /** The registration of a response type, registering it on first use. */
  private responseEntry(type: MessageType): RegisteredType {
    let entry = this.responseTypes.get(type)
    if (entry === undefined) {
      entry = this.registry.get(this.registry.register(type))!
      this.responseTypes.set(type, entry)
    }
    return entry
  }

  private nextRequestId(): bigint {
    const id = this.nextId
    this.nextId = id === MAX_REQUEST_ID ? 1n : id + 1n
    return id
  }

  private transmit(pending: Pending, connection: Connection): void {
    try {
      connection.send(pending.frame, pending.id)
      pending.sent = true
    } catch (cause) {
      if (this.pending.take(pending.id) === pending) {
        pending.reject(
          new RonyError('E02', 'CONNECTION', `send failed: ${String(cause)}`, {
            code: 'RONY_ERR_CONNECTION_LOST',
            cause,
          }),
        )
      }
    }
  }

  // ---- what the server sends ----

  /** From the link: one binary frame. Never throws: bad bytes become an 'error' event. */
  frame(bytes: Uint8Array): void {
    let unpacked: Envelope | Envelope[]
    try {
      unpacked = this.unpack(bytes)
    } catch (error) {
      this.emitError(error)
      return
    }
    if (Array.isArray(unpacked)) for (const inner of unpacked) this.dispatch(inner)
    else this.dispatch(unpacked)
  }

  /**
   * From a per-request transport (HTTP): the response to request `requestId`. One
   * response answers one request, so if it does not (bytes that do not decode, a reply to
   * another id) the request fails now; nothing else would ever answer it.
   */
  reply(requestId: bigint, bytes: Uint8Array): void {
    let unpacked: Envelope | Envelope[]
    try {
      unpacked = this.unpack(bytes)
    } catch (error) {
      this.requestFailed(requestId, error as RonyError)
      return
    }
    for (const envelope of Array.isArray(unpacked) ? unpacked : [unpacked]) {
      // An Error under id 0 answers the request it was sent for (the edge could not read its id).
      if (envelope.requestId === 0n && envelope.ctor === C_Error) {
        this.requestFailed(requestId, this.wireError(envelope))
      } else {
        this.dispatch(envelope)
      }
    }
    const unanswered = this.pending.take(requestId)
    unanswered?.reject(
      unexpectedResponse(
        `the reply to ${unanswered.name} (request ${requestId})`,
        'none in the response',
      ),
    )
  }

  requestFailed(requestId: bigint, error: RonyError): void {
    this.pending.take(requestId)?.reject(error)
  }

  /** An envelope, or a container's envelopes; throws `RonyError` for bytes that are neither. */
  private unpack(bytes: Uint8Array): Envelope | Envelope[] {
    const envelope = decodeEnvelope(bytes, this.options.limits)
    if (envelope.ctor !== C_MessageContainer) return envelope
    return decodeContainer(envelope.message, this.options.limits).envelopes
  }

  invalid(error: RonyError): void {
    this.emitError(error)
  }

  private dispatch(envelope: Envelope): void {
    if (envelope.requestId === 0n) {
      this.dispatchUpdate(envelope)
      return
    }
    const pending = this.pending.take(envelope.requestId)
    // No such request: it timed out or was aborted (a late reply is dropped), or this is
    // the Pong of a keepalive ping.
    if (pending === undefined) return
    if (envelope.ctor === C_Error) {
      pending.reject(this.wireError(envelope))
      return
    }
    const expected = pending.response
    if (envelope.ctor === C_Redirect && expected?.ctor !== C_Redirect) {
      pending.reject(this.redirectError(envelope))
      return
    }
    if (expected !== undefined && envelope.ctor !== expected.ctor) {
      const got = this.registry.get(envelope.ctor)?.name ?? `constructor ${envelope.ctor}`
      pending.reject(unexpectedResponse(expected.name, got))
      return
    }
    const entry = expected ?? this.registry.get(envelope.ctor)
    if (entry === undefined) {
      pending.resolve(envelope)
      return
    }
    try {
      pending.resolve(decodeMessage(entry.type, envelope.message, entry.name))
    } catch (error) {
      pending.reject(error)
    }
  }

  private dispatchUpdate(envelope: Envelope): void {
    if (envelope.ctor === C_Error) {
      this.emitError(this.wireError(envelope))
      return
    }
    if (this.streams.size === 0 && !this.events.has('update')) return // nobody listens
    const entry = this.registry.get(envelope.ctor)
    let message: unknown
    if (entry !== undefined) {
      try {
        message = decodeMessage(entry.type, envelope.message, entry.name)
      } catch (error) {
        this.emitError(error)
        return
      }
    }
    const update: Update = {
      ctor: envelope.ctor,
      name: entry?.name,
      message,
      envelope,
      type: entry?.type,
    }
    this.events.emit('update', update)
    for (const stream of this.streams) stream.push(update)
  }

  /** The `RonyError` an Error envelope carries (or the E01 saying it does not decode). */
  private wireError(envelope: Envelope): RonyError {
    try {
      return RonyError.fromWire(decodeMessage(rony.Error, envelope.message, 'Error'))
    } catch (error) {
      return error as RonyError
    }
  }

  private redirectError(envelope: Envelope): RonyError {
    try {
      return redirected(decodeMessage(rony.Redirect, envelope.message, 'Redirect').Edges ?? [])
    } catch (error) {
      return error as RonyError
    }
  }

  private emitError(error: unknown): void {
    const ronyError =
      error instanceof RonyError
        ? error
        : new RonyError('E00', 'CLIENT', String(error), { cause: error })
    this.events.emit('error', ronyError)
  }

  // ---- the link's reports ----

  opened(connection: Connection): void {
    // Queued requests and idempotent re-sends go out in request order.
    for (const pending of this.pending.values()) {
      if (!pending.sent) this.transmit(pending, connection)
    }
    for (const waiter of this.openWaiters) waiter.resolve()
    this.events.emit('open')
  }

  lost(error: RonyError, code: number, reason: string, reconnecting: boolean): void {
    // Whether a sent request ran cannot be known: only idempotent ones go again.
    this.pending.rejectAll(
      error,
      (pending) => pending.sent && !(reconnecting && pending.idempotent),
    )
    for (const pending of this.pending.values()) pending.sent = false
    this.events.emit('close', { code, reason, reconnecting })
  }

  failed(error: RonyError): void {
    this.pending.rejectAll(error)
    for (const waiter of this.openWaiters) waiter.reject(error)
  }

  firstDialFailed(error: RonyError): void {
    this.pending.rejectAll(error)
  }

  awaitsConnect(): boolean {
    return this.openWaiters.size > 0
  }

  reconnecting(info: ReconnectInfo): void {
    this.events.emit('reconnecting', info)
  }

  ping(): { frame: Uint8Array; requestId: bigint } {
    const message = rony.Ping.encode({ ID: ++this.pingCount }).finish()
    const requestId = this.nextRequestId()
    return { frame: encodeEnvelope({ ctor: C_Ping, requestId, message }), requestId }
  }

  private async shutdown(): Promise<void> {
    const error = clientClosed()
    const wasOpen = this.link.state === 'open'
    const closed = this.link.close()
    this.pending.rejectAll(error)
    this.pending.dispose()
    for (const waiter of this.openWaiters) waiter.reject(error)
    for (const stream of this.streams) stream.end()
    if (wasOpen)
      this.events.emit('close', { code: 1000, reason: 'client closed', reconnecting: false })
    await closed
  }
}
