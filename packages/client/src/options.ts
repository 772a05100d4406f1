import {
  createRegistry,
  type EnvelopeLimits,
  type KeyValue,
  type MessageRegistry,
  resolveLimits,
} from '@rony/envelope'
import { type BackoffOptions, DEFAULT_BACKOFF, resolveBackoff } from './backoff.js'
import type { WebSocketConstructor } from './transport/ws.js'

/**
 * Time source and timers, the same shape as `Clock` in `@rony/interface` (not imported: the
 * client depends on `@rony/envelope` only). Tests inject a fake one.
 */
export interface ClientClock {
  /** Milliseconds since the epoch (`Date.now()`). */
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Uniform random numbers in [0, 1), the shape of `Random` in `@rony/interface`. */
export interface ClientRandom {
  next(): number
}

/**
 * Headers sent with a request, as a record or as key/value pairs (kept in order, duplicates
 * allowed, as the wire carries them).
 */
export type HeaderInit = Readonly<Record<string, string>> | readonly KeyValue[]

/** Options of `createClient`. Every field is optional. */
export interface ClientInit {
  /**
   * How long a request waits for its reply, in milliseconds, counted from the call
   * (time spent waiting for a connection included). Per-request `timeout` overrides it.
   * On expiry the request rejects with `RonyError` E06, code `RONY_ERR_TIMEOUT`.
   * Default: 10_000.
   */
  timeout?: number
  /**
   * How long one connection attempt may take, in milliseconds, before it counts as
   * failed (and, with `reconnect`, is retried). Default: 10_000.
   */
  connectTimeout?: number
  /**
   * Reconnect after a connection drops or an attempt fails, with exponential backoff and
   * jitter; `false` to never reconnect on its own (the next request or `connect()` dials
   * again). Default: `{ initialDelay: 100, maxDelay: 10_000, factor: 2, jitter: 0.5 }`.
   */
  reconnect?: false | Partial<BackoffOptions>
  /**
   * After this many milliseconds without receiving anything, send a `rony.Ping`; if
   * nothing arrives within `timeout` after it, the connection is deemed dead, closed and
   * (with `reconnect`) replaced. Browsers cannot send WebSocket ping frames, hence an
   * application-level ping. `0` or `false` disables it. Default: 30_000.
   */
  keepalive?: number | false
  /**
   * Most requests in flight or waiting for a connection at once; one more rejects with
   * `RonyError` E03, code `RONY_ERR_TOO_MANY_PENDING`. Default: 10_000.
   */
  maxPending?: number
  /**
   * Decodes replies and updates by constructor id when no response type is given.
   * Request types are registered on first use. Default: `createRegistry()` (the
   * built-in messages: `Error`, `Ping`, `Pong`, `Edges`, …).
   */
  registry?: MessageRegistry
  /** Headers sent with every request; a request's own `header` wins per key. Default: none. */
  header?: HeaderInit
  /** Credentials sent with every request (a string is sent as UTF-8). Default: none. */
  auth?: Uint8Array | string
  /**
   * Size limits for what the server sends: larger envelopes or containers are dropped with
   * an `'error'` event. Default: `DEFAULT_LIMITS` of `@rony/envelope` (1 MiB, 1024
   * envelopes per container).
   */
  limits?: Partial<EnvelopeLimits>
  /**
   * The WebSocket class to use, e.g. `WebSocket` from the `ws` package. Default:
   * `globalThis.WebSocket` (browsers; Node 22 and later).
   */
  WebSocket?: WebSocketConstructor
  /** Time and timers. Default: `Date.now` and the global `setTimeout`. */
  clock?: ClientClock
  /** Random numbers for backoff jitter and the first request id. Default: `Math.random`. */
  random?: ClientRandom
  /**
   * This client's session id, sent in the `rony-session` header of idempotent requests so
   * that a clustered edge applies each of them once (see the README, "Exactly once with a
   * clustered edge"). 1 to 128 printable ASCII characters, unique to this client among
   * those using the cluster (clients sharing a session could be given each other's
   * answers). Default: 128 random bits from `crypto.getRandomValues`, as 22 base64url
   * characters.
   */
  session?: string
}

/** `ClientInit` with every default applied and checked. */
export interface ResolvedOptions {
  timeout: number
  connectTimeout: number
  reconnect: BackoffOptions | false
  keepalive: number
  maxPending: number
  registry: MessageRegistry
  header: readonly KeyValue[]
  auth: Uint8Array | undefined
  limits: EnvelopeLimits
  WebSocket: WebSocketConstructor | undefined
  clock: ClientClock
  random: ClientRandom
  session: string
}

export const systemClock: ClientClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

export const mathRandom: ClientRandom = { next: () => Math.random() }

const utf8 = new TextEncoder()

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`createClient: ${name} must be a positive number, got ${String(value)}`)
  }
  return value
}

/** Header pairs from either form; a fresh array the caller may keep. */
export function headerPairs(init: HeaderInit | undefined): KeyValue[] {
  if (init === undefined) return []
  if (Array.isArray(init))
    return (init as readonly KeyValue[]).map(({ key, value }) => ({ key, value }))
  return Object.entries(init as Record<string, string>).map(([key, value]) => ({ key, value }))
}

/**
 * The defaults merged under `extra`: a key present in `extra` replaces every default pair
 * with that key. Returns `defaults` itself when there is nothing to add, so the common
 * request allocates nothing.
 */
export function mergeHeader(
  defaults: readonly KeyValue[],
  extra: HeaderInit | undefined,
): readonly KeyValue[] {
  if (extra === undefined) return defaults
  const pairs = headerPairs(extra)
  if (defaults.length === 0) return pairs
  const replaced = new Set(pairs.map((pair) => pair.key))
  return [...defaults.filter((pair) => !replaced.has(pair.key)), ...pairs]
}

export function authBytes(auth: Uint8Array | string | undefined): Uint8Array | undefined {
  return typeof auth === 'string' ? utf8.encode(auth) : auth
}

export function resolveOptions(init: ClientInit = {}): ResolvedOptions {
  const keepalive = init.keepalive === false ? 0 : (init.keepalive ?? 30_000)
  const maxPending = init.maxPending ?? 10_000
  if (!Number.isSafeInteger(maxPending) || maxPending < 1) {
    throw new RangeError(`createClient: maxPending must be a positive integer, got ${maxPending}`)
  }
  return {
    timeout: positive('timeout', init.timeout ?? 10_000),
    connectTimeout: positive('connectTimeout', init.connectTimeout ?? 10_000),
    reconnect:
      init.reconnect === false ? false : resolveBackoff({ ...DEFAULT_BACKOFF, ...init.reconnect }),
    keepalive: positive('keepalive', keepalive, true),
    maxPending,
    registry: init.registry ?? createRegistry(),
    header: headerPairs(init.header),
    auth: authBytes(init.auth),
    limits: resolveLimits(init.limits),
    WebSocket: init.WebSocket,
    clock: init.clock ?? systemClock,
    random: init.random ?? mathRandom,
    session: init.session === undefined ? randomSession() : checkSession(init.session),
  }
}

/** Printable ASCII, 1 to 128 characters: safe in any header, log line or JSON. */
const SESSION = /^[\x20-\x7e]{1,128}$/

function checkSession(session: string): string {
  if (typeof session !== 'string' || !SESSION.test(session)) {
    throw new RangeError(
      `createClient: session must be 1 to 128 printable ASCII characters, got ${JSON.stringify(session)}`,
    )
  }
  return session
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * 128 random bits as 22 base64url characters (the last one carries 2 bits). From
 * `crypto.getRandomValues`, which browsers and Node both have: session ids of different
 * clients must not meet, which `Math.random` does not promise.
 */
function randomSession(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  let id = ''
  for (let i = 0; i < 15; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    id += BASE64URL[n >>> 18]! + BASE64URL[(n >>> 12) & 63]! + BASE64URL[(n >>> 6) & 63]!
    id += BASE64URL[n & 63]!
  }
  return id + BASE64URL[bytes[15]! >>> 2]! + BASE64URL[(bytes[15]! & 3) << 4]!
}
