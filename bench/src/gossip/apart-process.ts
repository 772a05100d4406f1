/**
 * The child process of {@link NodesApart} (`apart.ts`): gossip nodes on a virtual clock of
 * their own, whose packets and streams go through the parent's memory network.
 *
 * Each sync brings what reached the nodes up to the main clock's `until`; the child schedules
 * each event at its time, fires its timers up to `until` a simulated millisecond at a time
 * (only the milliseconds with something due), turning the event loop after each so that
 * promise continuations run, and replies with what its nodes sent. The CPU of those
 * milliseconds (timers and continuations) is summed apart from the bridge's own work.
 */

import type { GossipMembership } from '@rony/gossip'
import { type VirtualClock, virtualClock } from '@rony/transport'
import type {
  ApartStats,
  CalibrateReply,
  Inbound,
  MessageStream,
  Outbound,
  PacketTransport,
  Request,
  StreamTransport,
  SyncReply,
} from './apart.ts'
import { scaleNode } from './scale-node.ts'

type TimerHandle = ReturnType<VirtualClock['setTimeout']>
type AbortOptions = NonNullable<Parameters<StreamTransport['dial']>[1]>

/** The virtual clock, and when each pending timer is due: the sync needs the earliest. */
class TrackedClock implements Pick<VirtualClock, 'now' | 'setTimeout' | 'clearTimeout'> {
  readonly inner: VirtualClock
  readonly #due = new Map<TimerHandle, number>()

  constructor(now: number) {
    this.inner = virtualClock({ now })
  }

  now(): number {
    return this.inner.now()
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0
    const handle = this.inner.setTimeout(() => {
      this.#due.delete(handle)
      fn()
    }, delay)
    this.#due.set(handle, this.inner.now() + delay)
    return handle
  }

  clearTimeout(handle: TimerHandle): void {
    this.#due.delete(handle)
    this.inner.clearTimeout(handle)
  }

  /** The earliest pending timer's due time (a few dozen timers: a scan is cheap). */
  nextDue(): number {
    let next = Number.POSITIVE_INFINITY
    for (const due of this.#due.values()) if (due < next) next = due
    return next
  }
}

/** Set by the parent's first message, before any node. */
let clock = new TrackedClock(0)
let seed = 0
const out: Outbound[] = []
const emit = (e: Outbound): void => {
  out.push(e)
}

const closedError = (why: string): Error =>
  Object.assign(new Error(`stream ${why}`), { code: 'RONY_ERR_STREAM_CLOSED' })

/** One side of a stream whose other side is on the main network. */
class BridgedStream implements MessageStream {
  readonly remote: string
  readonly #id: number
  readonly #received: Uint8Array[] = []
  #ended = false
  #error: Error | undefined
  /** Closed or aborted here: nothing more is sent. */
  #done = false
  #wake: (() => void) | undefined

  constructor(id: number, remote: string) {
    this.#id = id
    this.remote = remote
  }

  send(msg: Uint8Array): Promise<void> {
    if (this.#done || this.#ended || this.#error !== undefined) {
      return Promise.reject(closedError('closed'))
    }
    emit({ k: 'data', stream: this.#id, data: msg })
    return Promise.resolve()
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const next = this.#received.shift()
      if (next !== undefined) yield next
      else if (this.#error !== undefined) throw this.#error
      else if (this.#ended) return
      else await new Promise<void>((resolve) => (this.#wake = resolve))
    }
  }

  async close(): Promise<void> {
    if (this.#done) return
    this.#done = true
    emit({ k: 'close', stream: this.#id })
    this.#finish()
  }

  abort(err?: Error): void {
    if (this.#done) return
    this.#done = true
    emit({ k: 'abort', stream: this.#id })
    this.fail(err ?? closedError('aborted'))
  }

  /** From the main side: a message arrived. */
  deliver(data: Uint8Array): void {
    this.#received.push(data)
    this.#notify()
  }

  /** From the main side: the remote closed its side. */
  end(): void {
    this.#finish()
  }

  fail(err: Error): void {
    this.#error ??= err
    this.#notify()
  }

  #finish(): void {
    this.#ended = true
    this.#notify()
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}

/** Streams by bridge id: this process numbers its dials 1, 2…; the parent its accepts −1, −2… */
const streams = new Map<number, BridgedStream>()
const dials = new Map<
  number,
  { to: string; resolve: (s: MessageStream) => void; reject: (e: Error) => void }
>()
let dialed = 0

interface Endpoints {
  packet: PacketTransport & { deliver(data: Uint8Array, from: string): void }
  stream: StreamTransport & { accept(s: BridgedStream): void }
}

function endpoints(address: string): Endpoints {
  let onPacket: ((data: Uint8Array, from: string) => void) | undefined
  let onStream: ((s: MessageStream) => void) | undefined
  let running = false
  return {
    packet: {
      address,
      maxPacketSize: 1400,
      start: () => {
        running = true
      },
      stop: () => {
        running = false
      },
      send: (to, data) => {
        if (running) emit({ k: 'packet', from: address, to, data })
      },
      onPacket: (handler) => {
        onPacket = handler
      },
      deliver: (data, from) => {
        if (running) onPacket?.(data, from)
      },
    },
    stream: {
      address,
      maxMessageSize: 8 * 1024 * 1024,
      start: () => {},
      stop: () => {},
      onStream: (handler) => {
        onStream = handler
      },
      dial: (to: string, opts: AbortOptions = {}) =>
        new Promise<MessageStream>((resolve, reject) => {
          const id = ++dialed
          const signal = opts.signal
          signal?.addEventListener(
            'abort',
            () => {
              if (!dials.delete(id)) return
              emit({ k: 'abort', stream: id })
              reject(signal.reason)
            },
            { once: true },
          )
          dials.set(id, { to, resolve, reject })
          emit({ k: 'dial', stream: id, from: address, to })
        }),
      accept: (s) => {
        if (onStream === undefined) s.abort()
        else onStream(s)
      },
    },
  }
}

const nodes = new Map<number, GossipMembership>()
const byAddress = new Map<string, Endpoints>()

function start(o: number, id: string, seeds: string[]): void {
  const io = endpoints(`memory:${id}`)
  const g = scaleNode({
    o,
    id,
    seeds,
    transport: io,
    clock,
    seed,
    events: {
      join: (o, member) => emit({ k: 'join', o, member }),
      leave: (o, member, failed) => emit({ k: 'leave', o, member, failed }),
      update: (o, member, meta) => emit({ k: 'update', o, member, meta: { ...meta } }),
      message: (o, tag) => emit({ k: 'message', o, tag }),
    },
  })
  nodes.set(o, g)
  byAddress.set(io.packet.address, io)
  void g.start()
}

function apply(e: Inbound): void {
  switch (e.k) {
    case 'start':
      start(e.o, e.id, e.seeds)
      return
    case 'stop': {
      const g = nodes.get(e.o)
      nodes.delete(e.o)
      void g?.stop()
      return
    }
    case 'packet':
      byAddress.get(e.to)?.packet.deliver(e.data, e.from)
      return
    case 'accept': {
      const s = new BridgedStream(e.stream, e.from)
      streams.set(e.stream, s)
      const io = byAddress.get(e.to)
      if (io === undefined) s.abort()
      else io.stream.accept(s)
      return
    }
    case 'dialed': {
      const dial = dials.get(e.stream)
      if (dial === undefined) return
      dials.delete(e.stream)
      const s = new BridgedStream(e.stream, dial.to)
      streams.set(e.stream, s)
      dial.resolve(s)
      return
    }
    case 'dialFailed': {
      const dial = dials.get(e.stream)
      dials.delete(e.stream)
      dial?.reject(Object.assign(new Error(e.reason), { code: 'RONY_ERR_DIAL_FAILED' }))
      return
    }
    case 'data':
      streams.get(e.stream)?.deliver(e.data)
      return
    case 'end':
      streams.get(e.stream)?.end()
      streams.delete(e.stream)
      return
    case 'reset':
      streams.get(e.stream)?.fail(closedError(`reset: ${e.reason}`))
      streams.delete(e.stream)
      return
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * This process's CPU time, µs. getrusage counts the calling thread up to the call, other
 * threads only up to their last tick; with V8's `--single-threaded` (set by the parent) GC
 * runs on this thread, and the others (libuv's, Node's) are idle here.
 */
const cpuClock = (): number => {
  const u = process.cpuUsage()
  return u.user + u.system
}

let busyUs = 0
let turns = 0

/**
 * Fires the clock's timers up to `until`, a simulated millisecond at a time (only those with
 * something due), turning the event loop after each; counts their CPU and turns.
 */
async function runTo(c: TrackedClock, until: number): Promise<void> {
  let t = cpuClock()
  for (let due = c.nextDue(); due <= until; due = c.nextDue()) {
    c.inner.advance(Math.min(until, Math.max(due, c.now()) + 1) - c.now())
    await turn()
    const t1 = cpuClock()
    busyUs += t1 - t
    t = t1
    turns++
  }
  if (c.now() < until) c.inner.advance(until - c.now())
}

/** What `turns` turns cost on an empty clock, measured as {@link runTo} measures. */
async function calibrate(count: number): Promise<number> {
  const empty = virtualClock({ now: 0 })
  const t0 = cpuClock()
  let t = t0
  for (let i = 0; i < count; i++) {
    empty.advance(1)
    await turn()
    t = cpuClock()
  }
  return t - t0
}

const stats = (g: GossipMembership): ApartStats => {
  const s = g.stats()
  return {
    queued: s.queued,
    pushPulls: s.pushPulls,
    bytesSent: s.bytesSent,
    packetsSent: s.packetsSent,
    packetsReceived: s.packetsReceived,
    probesFailed: s.probesFailed,
  }
}

const reply = (message: SyncReply | CalibrateReply): void => {
  if (process.connected) process.send?.(message)
}

process.on('message', async (request: Request) => {
  if (request.k === 'init') {
    clock = new TrackedClock(request.now)
    seed = request.seed
    return
  }
  if (request.k === 'calibrate') {
    reply({ k: 'calibrate', busyUs: await calibrate(request.turns) })
    return
  }
  for (const e of request.events) clock.setTimeout(() => apply(e), e.at - clock.now())
  await runTo(clock, request.until)
  reply({
    k: 'sync',
    next: clock.nextDue(),
    events: out.splice(0),
    stats: [...nodes].map(([o, g]) => [o, stats(g)]),
    busyUs,
    turns,
  })
})
process.on('disconnect', () => process.exit(0))
