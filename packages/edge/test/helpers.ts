import {
  C_Error,
  C_MessageContainer,
  C_Ping,
  C_Pong,
  constructorOf,
  decodeContainer,
  decodeEnvelope,
  type Envelope,
  type EnvelopeInit,
  encodeContainer,
  encodeEnvelope,
  type MessageType,
  messageNameOf,
  rony,
} from '@rony/envelope'
import protobuf from 'protobufjs'
import { expect } from 'vitest'
import {
  createEdge,
  type Edge,
  type EdgeInit,
  type MemoryClient,
  type MemoryConnectInit,
  type MemoryGateway,
  memoryGateway,
  silentLogger,
} from '../src/index.js'

/** Generous bound for "a reply arrives": a hang fails with a clear message, not a timeout. */
export const REPLY_TIMEOUT_MS = 5_000

// ---------------------------------------------------------------------------------------
// Reflected (protobuf.parse) types used across the specs.

export interface Echo {
  text: string
}

const root = protobuf.parse(
  `syntax = "proto3";
  package demo;
  message EchoRequest { string text = 1; }
  message EchoResponse { string text = 1; }
  message Unregistered { string note = 1; }
  message Slow { uint32 delay = 1; uint32 tag = 2; }`,
  { keepCase: true },
).root

function reflected<T>(name: string): MessageType<T> & protobuf.Type {
  return root.lookupType(name) as unknown as MessageType<T> & protobuf.Type
}

export const EchoRequest = reflected<Echo>('demo.EchoRequest')
export const EchoResponse = reflected<Echo>('demo.EchoResponse')
export const Unregistered = reflected<{ note: string }>('demo.Unregistered')
export const Slow = reflected<{ delay: number; tag: number }>('demo.Slow')

export const C_EchoRequest = constructorOf('EchoRequest')
export const C_EchoResponse = constructorOf('EchoResponse')

// ---------------------------------------------------------------------------------------
// Encoding requests.

/** One request envelope for a message of `type`. */
export function request<T>(
  type: MessageType<T>,
  payload: T | Record<string, unknown>,
  requestId: bigint,
  extra: Partial<EnvelopeInit> = {},
): Uint8Array {
  return encodeEnvelope(requestInit(type, payload, requestId, extra))
}

export function requestInit<T>(
  type: MessageType<T>,
  payload: T | Record<string, unknown>,
  requestId: bigint,
  extra: Partial<EnvelopeInit> = {},
): EnvelopeInit {
  return {
    ctor: constructorOf(messageNameOf(type)),
    requestId,
    message: type.encode(payload as T).finish(),
    ...extra,
  }
}

/** A Ping request envelope; its Pong carries `id`. */
export function ping(requestId: bigint, id = 1): Uint8Array {
  return encodeEnvelope(pingInit(requestId, id))
}

export function pingInit(requestId: bigint, id = 1): EnvelopeInit {
  return { ctor: C_Ping, requestId, message: rony.Ping.encode({ ID: id }).finish() }
}

/** An envelope carrying a container of `envelopes`. */
export function container(
  envelopes: readonly EnvelopeInit[],
  syncRun = false,
  requestId = 0n,
): Uint8Array {
  return encodeEnvelope({
    ctor: C_MessageContainer,
    requestId,
    message: encodeContainer({ envelopes, syncRun }),
  })
}

// ---------------------------------------------------------------------------------------
// Decoding replies.

export interface WireErrorFields {
  code: string
  items: string
  description: string
}

/** The fields of an Error reply; fails the test when `envelope` is not an Error. */
export function errorOf(envelope: Envelope): WireErrorFields {
  expect(envelope.ctor, 'expected an Error reply').toBe(C_Error)
  const error = rony.Error.decode(envelope.message)
  return { code: error.Code, items: error.Items, description: error.Description }
}

/** The ID of a Pong reply; fails the test when `envelope` is not a Pong. */
export function pongId(envelope: Envelope): string {
  expect(envelope.ctor, 'expected a Pong reply').toBe(C_Pong)
  return String(rony.Pong.decode(envelope.message).ID)
}

/** The envelopes of a container reply; fails the test when `envelope` is not a container. */
export function containerOf(envelope: Envelope): Envelope[] {
  expect(envelope.ctor, 'expected a MessageContainer reply').toBe(C_MessageContainer)
  return decodeContainer(envelope.message).envelopes
}

export function decodeAs<T>(type: MessageType<T>, envelope: Envelope): T {
  expect(envelope.ctor).toBe(constructorOf(messageNameOf(type)))
  return type.decode(envelope.message)
}

// ---------------------------------------------------------------------------------------
// A memory-gateway client that records what it receives, synchronously.

/**
 * The client end of a memory connection, built on `onMessage` so that a test can check
 * what has arrived at any moment (`inbox`) as well as await the next message.
 */
export class Peer {
  readonly client: MemoryClient
  /** Received and not yet taken by `next()`, decoded, oldest first. */
  readonly inbox: Envelope[] = []
  /** Every message received, decoded, in order (never emptied). */
  readonly received: Envelope[] = []
  private readonly waiters: ((envelope: Envelope) => void)[] = []

  constructor(gateway: MemoryGateway, init: Omit<MemoryConnectInit, 'onMessage'> = {}) {
    this.client = gateway.connect({ ...init, onMessage: (bytes) => this.receive(bytes) })
  }

  get closed(): boolean {
    return this.client.closed
  }

  send(bytes: Uint8Array): void {
    this.client.send(bytes)
  }

  close(): void {
    this.client.close()
  }

  /** The next message from the edge; rejects after `timeout` ms so a hang names itself. */
  next(timeout = REPLY_TIMEOUT_MS): Promise<Envelope> {
    const queued = this.inbox.shift()
    if (queued) return Promise.resolve(queued)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter)
        if (index >= 0) this.waiters.splice(index, 1)
        reject(new Error(`no message from the edge within ${timeout} ms`))
      }, timeout)
      const waiter = (envelope: Envelope): void => {
        clearTimeout(timer)
        resolve(envelope)
      }
      this.waiters.push(waiter)
    })
  }

  /** Takes the next message if one already arrived; fails the test otherwise. */
  take(): Envelope {
    const envelope = this.inbox.shift()
    expect(envelope, 'expected a message to have arrived already').toBeDefined()
    return envelope!
  }

  private receive(bytes: Uint8Array): void {
    // Copy: the edge's buffers may be views into a shared slab.
    const envelope = decodeEnvelope(bytes.slice())
    this.received.push(envelope)
    const waiter = this.waiters.shift()
    if (waiter) waiter(envelope)
    else this.inbox.push(envelope)
  }
}

// ---------------------------------------------------------------------------------------
// Edges that every test stops.

const running = new Set<Edge>()

export interface TestEdge {
  edge: Edge
  gw: MemoryGateway
  /** Opens a new connection through the memory gateway. */
  connect(init?: Omit<MemoryConnectInit, 'onMessage'>): Peer
}

/**
 * A not-yet-started edge with one memory gateway, remembered for `stopEdges`. Register
 * handlers, then `await edge.start()`.
 */
export function testEdge(init: Partial<EdgeInit> = {}): TestEdge {
  const gw = memoryGateway()
  // Silent unless a test brings its own logger: the default one prints handler failures.
  const edge = createEdge({ id: 'n1', gateways: [gw], logger: silentLogger, ...init })
  running.add(edge)
  return { edge, gw, connect: (connectInit) => new Peer(gw, connectInit) }
}

/** A started edge with one memory gateway, and one connection to it. */
export async function startedEdge(
  init: Partial<EdgeInit> = {},
  setup: (edge: Edge) => void = () => {},
): Promise<TestEdge & { peer: Peer }> {
  const t = testEdge(init)
  setup(t.edge)
  await t.edge.start()
  return { ...t, peer: t.connect() }
}

/** `afterEach(stopEdges)`: stops every edge a test built; never waits on stuck handlers. */
export async function stopEdges(): Promise<void> {
  const edges = [...running]
  running.clear()
  await Promise.all(edges.map((edge) => edge.stop({ timeout: 50 })))
}

// ---------------------------------------------------------------------------------------
// Async utilities.

export interface Deferred<T = void> {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

/** Lets every pending microtask and `n` macrotask turns run. */
export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

/** Tracks whether a promise settled, for "has not resolved yet" checks. */
export function track<T>(promise: Promise<T>): { readonly settled: boolean; promise: Promise<T> } {
  const state = { settled: false, promise }
  promise.then(
    () => {
      state.settled = true
    },
    () => {
      state.settled = true
    },
  )
  return state
}

/** Resolves to 'settled' or, after `ms` (a generous bound), to 'pending'. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  const outcome = await Promise.race([
    promise.then(
      () => 'settled',
      () => 'settled',
    ),
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('pending'), ms)
    }),
  ])
  clearTimeout(timer)
  return outcome
}
