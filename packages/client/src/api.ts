import type { MessageOf, MessageRegistry, MessageType } from '@rony/envelope'
import type { ClientEvents, EventName, Update } from './events.js'
import type { ClientState } from './link.js'
import type { HeaderInit } from './options.js'
import type { UpdatesOptions } from './updates.js'

/** Options of one `client.request(...)`. */
export interface RequestOptions {
  /**
   * Milliseconds to wait for the reply, time spent waiting for a connection included.
   * Default: the client's `timeout` (10_000).
   */
  timeout?: number
  /** Aborting rejects the request with `signal.reason` and forgets it; a late reply is dropped. */
  signal?: AbortSignal
  /**
   * The request may safely run twice: if the connection drops before the reply, it is
   * sent again (same request id) once reconnected, instead of rejecting with
   * `RONY_ERR_CONNECTION_LOST`. It carries the client's session (`rony-session` header), so
   * a clustered edge's `replicated` handler applies it once. Default: false.
   */
  idempotent?: boolean
  /** Headers for this request, merged over the client's `header` (this one wins per key). */
  header?: HeaderInit
  /** Credentials for this request instead of the client's `auth`. */
  auth?: Uint8Array | string
}

/** Options of `client.connect()`. */
export interface ConnectOptions {
  signal?: AbortSignal
  /**
   * Milliseconds to wait for a connection, across reconnect attempts.
   * Default: the client's `timeout` (10_000).
   */
  timeout?: number
}

/** A Rony client; made by `createClient`. */
export interface Client {
  /** The server address, normalized (`ws://127.0.0.1:8080/`). */
  readonly url: string
  /** `'idle'` → `'connecting'` → `'open'` ⇄ `'reconnecting'`; `'closed'` after `close()`. */
  readonly state: ClientState
  /** Decodes replies and updates by constructor; register your reply and update types here. */
  readonly registry: MessageRegistry
  /**
   * This client's session id (the `session` option, or a random one), sent in the
   * `rony-session` header of idempotent requests.
   */
  readonly session: string
  /**
   * Connects if not yet connected and resolves once open, waiting across attempts (with
   * the backoff) for a server that is not up yet. Optional: `request()` connects on
   * demand, but fails with the first failed attempt while the client has never been
   * connected. Rejects with `RonyError` E06 `RONY_ERR_TIMEOUT` after `timeout` (`cause`:
   * the last attempt's error), with `signal.reason`, or with `RONY_ERR_CLIENT_CLOSED`; with
   * `reconnect: false`, or when no attempt can work (no `WebSocket` implementation), with
   * the failure itself (`RONY_ERR_DIAL_FAILED`). Once nobody waits, a client that was
   * never connected stops trying; one that was keeps reconnecting until `close()`.
   */
  connect(options?: ConnectOptions): Promise<void>
  /**
   * Sends `message`, a protobufjs message instance (of a generated class, or
   * `Type.create(...)` of a reflected type), and resolves with the reply decoded as
   * `responseType`. Rejects with `RonyError`: the server's error (`RonyError.fromWire`), or
   * one of the client's own (`RONY_ERR_TIMEOUT`, `RONY_ERR_CONNECTION_LOST`, …; see the
   * README); with a `TypeError` for a plain object, whose type cannot be known.
   */
  request<T extends MessageType>(
    message: object,
    responseType: T,
    options?: RequestOptions,
  ): Promise<MessageOf<T>>
  /**
   * Without a response type the reply is decoded through `registry` by its constructor;
   * a reply whose constructor is not registered resolves as the raw `Envelope`.
   */
  request(message: object, responseType?: undefined, options?: RequestOptions): Promise<unknown>
  /** Adds a listener; returns a function that removes it. */
  on<K extends EventName>(event: K, listener: ClientEvents[K]): () => void
  off<K extends EventName>(event: K, listener: ClientEvents[K]): void
  /**
   * Server pushes as an async iterable. The iteration ends at `close()` (or `break`), and
   * throws `signal.reason` when `signal` aborts.
   */
  updates(options?: UpdatesOptions): AsyncIterableIterator<Update, undefined>
  /**
   * Rejects everything pending with `RONY_ERR_CLIENT_CLOSED`, ends every `updates()`
   * iteration, stops reconnecting and closes the connection. Resolves once the socket has
   * closed (or after a one-second grace if the server does not answer the close).
   * Calling it again returns the same promise.
   */
  close(): Promise<void>
}
