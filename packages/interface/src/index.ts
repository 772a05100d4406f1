/**
 * `@rony/interface`: the contracts every Rony package implements.
 *
 * Rony is composed the way js-libp2p is: each capability (a gateway, gossip membership,
 * Raft consensus, a transport, a logger, a clock) is a component built by a factory, and
 * the edge receives components and talks to them only through the interfaces below. Swap
 * any of them for your own, or for an in-memory one in tests.
 *
 * | Contract | Purpose | Implemented by |
 * | --- | --- | --- |
 * | {@link Startable} | `start` / `stop` lifecycle with optional hooks | every component |
 * | {@link Gateway}, {@link GatewayConn} | client connections in, bytes out | `@rony/gateway-ws`, `@rony/gateway-http`, `@rony/gateway-quic` |
 * | {@link Membership} | who is in the cluster, with metadata | `@rony/gossip` |
 * | {@link Consensus}, {@link StateMachine} | replicated log and the user's state | `@rony/raft`; the edge supplies the state machine |
 * | {@link LogStorage} | the durable log, term and vote of a Raft node | `@rony/raft` (`memoryStorage`, `fileStorage`), or yours |
 * | {@link Tunnel} | request/response between nodes (forwarding, sharding) | `@rony/transport` (`tunnel`) |
 * | {@link PacketTransport}, {@link StreamTransport} | the network gossip and Raft use | `@rony/gossip`, `@rony/raft`; in-memory ones in `@rony/testing` |
 * | {@link ComponentLogger}, {@link Logger} | scoped debug-style logging | `@rony/edge` (default), or yours |
 * | {@link Clock}, {@link Random} | injectable time and randomness | real ones by default; simulated ones in `@rony/testing` |
 * | {@link CodedError} | errors with stable codes | the base of every Rony error |
 *
 * The package is types only, apart from {@link CodedError} and the guards
 * {@link isCodedError} and {@link isStartable}. It has no dependencies, and its types use
 * nothing beyond ES2023 and the global `AbortSignal`, so it works in Node and browsers.
 *
 * Optional properties of option bags and event payloads accept an explicit `undefined`
 * (`signal?: AbortSignal | undefined`), so callers compiled with
 * `exactOptionalPropertyTypes` can forward optional values without spreading.
 *
 * @example
 * ```ts
 * import { CodedError, type Clock, type Startable, type TimerHandle } from '@rony/interface'
 *
 * // A component that ticks on an injected clock, so tests can drive it deterministically.
 * class Ticker implements Startable {
 *   readonly #clock: Clock
 *   readonly #periodMs: number
 *   #timer: TimerHandle | undefined
 *   ticks = 0
 *
 *   constructor(clock: Clock, periodMs = 1_000) {
 *     this.#clock = clock
 *     this.#periodMs = periodMs
 *   }
 *
 *   start(): void {
 *     if (this.#timer !== undefined) return // a second start() is a no-op
 *     const tick = (): void => {
 *       this.ticks++
 *       this.#timer = this.#clock.setTimeout(tick, this.#periodMs)
 *     }
 *     this.#timer = this.#clock.setTimeout(tick, this.#periodMs)
 *   }
 *
 *   stop(): void {
 *     if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
 *     this.#timer = undefined // every timer released before stop() returns
 *   }
 *
 *   assertRunning(): void {
 *     if (this.#timer === undefined) throw new CodedError('ticker not started', 'RONY_ERR_NOT_STARTED')
 *   }
 * }
 *
 * const clock: Clock = {
 *   now: () => Date.now(),
 *   setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
 *   clearTimeout: (h) => clearTimeout(h as unknown as ReturnType<typeof setTimeout>),
 * }
 * const ticker = new Ticker(clock, 100)
 * ticker.start()
 * setTimeout(() => { ticker.stop(); console.log(ticker.ticks) }, 1_050) // prints about 10
 * ```
 *
 * @packageDocumentation
 */

export type { Clock, Random, TimerHandle } from './clock.js'
export type {
  ClusterServer,
  Consensus,
  ConsensusComponents,
  ConsensusEvents,
  ConsensusFactory,
  LogPosition,
  ProposeOptions,
  ProposeResult,
  RaftRole,
  ServerSuffrage,
  StateMachine,
} from './consensus.js'
export type { RonyErrorCode } from './errors.js'
export { CodedError, isCodedError } from './errors.js'
export type { EventMap, TypedEmitter } from './events.js'
export type {
  CloseReason,
  Gateway,
  GatewayConn,
  GatewayFeatures,
  GatewayHandlers,
  PayloadFormat,
  RequestMeta,
  RestMethod,
  RestParam,
  RestRequest,
  RestRoute,
} from './gateway.js'
export { GatewayConnections } from './gateway-connections.js'
export type { AbortOptions, LifecycleOptions, Startable } from './lifecycle.js'
export { isStartable, Lifecycle } from './lifecycle.js'
export type {
  ClusterConfiguration,
  EntryKind,
  HardState,
  LogEntry,
  LogStorage,
  RecoveredState,
  ServerInfo,
  Snapshot,
  SnapshotMeta,
} from './log-storage.js'
export type { ComponentLogger, LogFunction, Logger } from './logger.js'
export { disabledLogger } from './logger.js'
export type {
  LeaveReason,
  Member,
  MemberState,
  Membership,
  MembershipComponents,
  MembershipEvents,
  MembershipFactory,
} from './membership.js'
export { integerOption, truncateCloseReason } from './options.js'
export type { MessageStream, PacketTransport, StreamTransport } from './transport.js'
export type {
  Tunnel,
  TunnelComponents,
  TunnelFactory,
  TunnelHandler,
  TunnelPeer,
  TunnelRequestOptions,
} from './tunnel.js'
