/**
 * One lifecycle for every Rony component: gateways, gossip, raft, transports and the edge
 * itself all implement {@link Startable}, so whoever wires them (the edge, a test, a user's
 * own process) starts and stops them the same way.
 *
 * @module
 */

import { CodedError } from './errors.js'

/**
 * A component with a start/stop lifecycle.
 *
 * ## Contract
 *
 * - **Idempotent start.** A second `start()` while started (or while starting) is a no-op:
 *   it resolves when the component is running, with the outcome of the first call, and
 *   never opens a second socket or schedules a second set of timers.
 * - **Idempotent stop.** `stop()` before `start()`, or a second `stop()`, is a no-op.
 * - **Prompt, complete stop.** `stop()` aborts a per-component shutdown `AbortController`, so
 *   in-flight work (dials, proposals, probes, handler calls) ends promptly; pending calls
 *   reject with a `CodedError` whose code is `RONY_ERR_STOPPED`. `stop()` resolves only once
 *   every socket, server, file handle and timer the component owns is released, so a test
 *   can assert "no open handles" right after `await stop()` and the process can exit.
 * - **No throw on stop.** `stop()` reports cleanup problems through the component's logger;
 *   it rejects only on a bug, never because a peer misbehaved.
 * - **Restart is optional.** A component may support `start()` after `stop()`; one that does
 *   not rejects that call with a `CodedError` whose code is `RONY_ERR_STOPPED`.
 *
 * ## Hooks and order
 *
 * When a group of components is started together (for example by the edge), the
 * orchestrator calls, across all components: every `beforeStart`, then every `start`, then
 * every `afterStart`. Stopping runs the mirror image: every `beforeStop`, every `stop`,
 * every `afterStop`. Within a phase, components that depend on others are started after
 * them and stopped before them. The hooks are optional; use them for work that needs the
 * whole group in a given state (for example, `afterStart` to join a cluster once every
 * gateway listens, `beforeStop` to leave the cluster while transports still work).
 *
 * Every method may be synchronous or return a promise; callers always `await` the result.
 *
 * @example
 * ```ts
 * import type { Startable } from '@rony/interface'
 *
 * class Heartbeat implements Startable {
 *   #timer: ReturnType<typeof setInterval> | undefined
 *
 *   start(): void {
 *     if (this.#timer !== undefined) return // second start(): no-op
 *     this.#timer = setInterval(() => console.log('beat'), 1_000)
 *   }
 *
 *   stop(): void {
 *     clearInterval(this.#timer) // resolves only once the timer is released
 *     this.#timer = undefined
 *   }
 * }
 * ```
 */
export interface Startable {
  /**
   * Optional hook called on every component of a group before any of them starts. Use it
   * to validate configuration or to prepare state that other components' `start` needs.
   */
  beforeStart?(): void | Promise<void>

  /**
   * Starts the component: binds sockets, opens files, schedules timers. Resolves once the
   * component is fully running (for a server, once it listens and its addresses are known).
   * A second call while started or starting is a no-op that resolves with the first call's
   * outcome.
   */
  start(): void | Promise<void>

  /**
   * Optional hook called on every component of a group after all of them have started.
   * Use it for work that needs peers to be running, such as joining a cluster.
   */
  afterStart?(): void | Promise<void>

  /**
   * Optional hook called on every component of a group before any of them stops. Use it to
   * announce departure (leave a cluster, hand off leadership) while transports still work.
   */
  beforeStop?(): void | Promise<void>

  /**
   * Stops the component: aborts in-flight work (pending calls reject with code
   * `RONY_ERR_STOPPED`), closes connections and servers, clears timers. Resolves only once
   * every socket, file handle and timer the component owns has been released. A call before
   * `start()`, or a second call, is a no-op.
   */
  stop(): void | Promise<void>

  /**
   * Optional hook called on every component of a group after all of them have stopped. Use
   * it for final cleanup that must wait until nothing else is running (for example, closing
   * a shared storage handle).
   */
  afterStop?(): void | Promise<void>
}

/**
 * Tells whether a value implements {@link Startable}: a non-null object (or function) with
 * callable `start` and `stop` members. The optional hooks are not checked, since they may be
 * absent; if present, callers should still check each with `typeof hook === 'function'`.
 *
 * Use it when wiring optional components: anything startable among the user's components is
 * started and stopped with the group; anything else is used as-is.
 *
 * @param value - Any value.
 * @returns `true` when `value.start` and `value.stop` are both functions.
 *
 * @example
 * ```ts
 * import { isStartable } from '@rony/interface'
 *
 * for (const component of components) {
 *   if (isStartable(component)) await component.start()
 * }
 * ```
 */
export function isStartable(value: unknown): value is Startable {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false
  const candidate = value as { start?: unknown; stop?: unknown }
  return typeof candidate.start === 'function' && typeof candidate.stop === 'function'
}

/**
 * Options accepted by every asynchronous public method in Rony.
 *
 * Each such method also has a default timeout (documented on the method or on the
 * component's `Init` options) after which it rejects with a `CodedError` whose code is
 * `RONY_ERR_TIMEOUT`; a `signal` can only shorten that, never extend it. To set a per-call
 * deadline, pass `AbortSignal.timeout(ms)`; to combine with a caller's own signal, pass
 * `AbortSignal.any([a, b])`.
 *
 * `signal` also accepts an explicit `undefined`, so that callers compiled with
 * `exactOptionalPropertyTypes` can forward their own optional signal as
 * `{ signal: opts?.signal }`.
 */
export interface AbortOptions {
  /**
   * Aborts the operation. When it fires (or has already fired when the call starts), the
   * returned promise rejects with `signal.reason`, as `fetch` does (by default a
   * `DOMException` named `AbortError`, or `TimeoutError` for `AbortSignal.timeout`).
   * Aborting only stops waiting: a side effect already under way (a proposal already in the
   * Raft log, a message already on the wire) may still complete. Default: no signal.
   */
  signal?: AbortSignal | undefined
}

/** Options of {@link Lifecycle}. */
export interface LifecycleOptions {
  /**
   * Whether `start()` after `stop()` starts the component again. When `false`, once `stop()`
   * has been called on a started or starting component, every later `start()` (including
   * one made while that stop is still running) rejects with a `CodedError` whose code is
   * `RONY_ERR_STOPPED`, as the {@link Startable} contract allows for components that cannot
   * restart. A `stop()` before any `start()` is a no-op and does not count.
   * Default: `true`.
   */
  restartable?: boolean | undefined
}

/**
 * The start/stop bookkeeping a {@link Startable} needs, around the component's own
 * `start` and `stop` steps: concurrent `start()` calls share one attempt and a failed one
 * may be retried; `stop()` waits for a start in progress, is a no-op when not started, and
 * concurrent calls share one stop; a `start()` during a stop starts again after it, or,
 * with `{ restartable: false }`, any `start()` once stopped rejects with code
 * `RONY_ERR_STOPPED`.
 *
 * @example
 * ```ts
 * class MyServer implements Startable {
 *   private readonly lifecycle = new Lifecycle({
 *     start: () => this.listen(),
 *     stop: () => this.close(),
 *   })
 *   start = (): Promise<void> => this.lifecycle.start()
 *   stop = (): Promise<void> => this.lifecycle.stop()
 *   // …listen() and close()
 * }
 *
 * // A component whose state cannot be rebuilt once stopped:
 * new Lifecycle({ start, stop }, { restartable: false })
 * ```
 */
export class Lifecycle {
  private starting: Promise<void> | undefined = undefined
  private stopping: Promise<void> | undefined = undefined
  /** `stop()` has been called on a started or starting component. */
  private stopped = false
  private readonly restartable: boolean

  constructor(
    private readonly steps: { start(): Promise<void>; stop(): Promise<void> },
    options: LifecycleOptions = {},
  ) {
    this.restartable = options.restartable ?? true
  }

  start(): Promise<void> {
    if (this.stopped && !this.restartable) {
      return Promise.reject(
        new CodedError('stopped: this component cannot be started again', 'RONY_ERR_STOPPED'),
      )
    }
    if (this.stopping !== undefined) return this.stopping.then(() => this.start())
    this.starting ??= this.steps.start().catch((err: unknown) => {
      this.starting = undefined
      throw err
    })
    return this.starting
  }

  stop(): Promise<void> {
    if (this.stopping !== undefined) return this.stopping
    const started = this.starting
    if (started === undefined) return Promise.resolve()
    this.stopped = true
    this.stopping = started
      .then(
        () => this.steps.stop(),
        () => {}, // a failed start left nothing to stop
      )
      .finally(() => {
        this.starting = undefined
        this.stopping = undefined
      })
    return this.stopping
  }
}
