/**
 * A minimal, structural typed event emitter, so the contracts can declare their events
 * without depending on Node's `EventEmitter` type (this package has no dependencies, not
 * even `@types/node`).
 *
 * Server-side implementations extend Node's `EventEmitter` typed with the `typed-emitter`
 * package; both Node's `EventEmitter` and `typed-emitter`'s `TypedEventEmitter<Events>`
 * satisfy {@link TypedEmitter} structurally, so nothing needs to be adapted:
 *
 * ```ts
 * import { EventEmitter } from 'node:events'
 * import type TypedEventEmitter from 'typed-emitter'
 * import type { Membership, MembershipEvents } from '@rony/interface'
 *
 * class Gossip
 *   extends (EventEmitter as new () => TypedEventEmitter<MembershipEvents>)
 *   implements Membership { … }
 * ```
 *
 * The exception is Node's own generic form, `EventEmitter<{ 'member:join': [Member] }>`
 * (from `@types/node`): its `emit` takes `...args: K extends keyof T ? T[K] : never`, a
 * deferred conditional type that TypeScript cannot relate to a typed signature, so it is not
 * assignable. Use `typed-emitter` as above (or the untyped `EventEmitter`).
 *
 * @module
 */

/**
 * Map from event name to listener signature, the same constraint as `typed-emitter`'s
 * `EventMap`.
 *
 * Declare event maps with `type`, not `interface`: an interface has no implicit index
 * signature, so it would not satisfy this constraint (nor `typed-emitter`'s). Event names
 * are namespaced by component: `member:join`, `raft:leader`, `gateway:connection`.
 *
 * @example
 * ```ts
 * type CacheEvents = {
 *   'cache:evict': (key: string, sizeBytes: number) => void
 * }
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: listener parameters must be `any` (not `unknown`) so that listeners with specific parameter types fit the constraint, as in `typed-emitter`.
export type EventMap = Record<string, (...args: any[]) => void>

/**
 * The part of an event emitter that the contracts rely on, typed over an event map.
 *
 * Semantics are Node's: listeners run synchronously, in registration order, inside `emit`;
 * a listener that throws makes `emit` throw (so listeners should not throw); `once`
 * listeners are removed before they run. Adding the same listener twice registers it
 * twice, and `off` removes one registration.
 *
 * @typeParam Events - The event map: event name to listener signature.
 */
export interface TypedEmitter<Events extends EventMap> {
  /**
   * Adds a listener for `event`.
   *
   * @param event - Event name, a key of `Events`.
   * @param listener - Called with the event's arguments each time it is emitted.
   * @returns The emitter, for chaining.
   */
  on<E extends keyof Events>(event: E, listener: Events[E]): this

  /**
   * Removes one registration of `listener` for `event`; a no-op when it is not registered.
   *
   * @param event - Event name, a key of `Events`.
   * @param listener - The same function that was passed to `on` or `once`.
   * @returns The emitter, for chaining.
   */
  off<E extends keyof Events>(event: E, listener: Events[E]): this

  /**
   * Adds a listener that is removed the first time `event` is emitted, before it runs.
   *
   * @param event - Event name, a key of `Events`.
   * @param listener - Called with the event's arguments at most once.
   * @returns The emitter, for chaining.
   */
  once<E extends keyof Events>(event: E, listener: Events[E]): this

  /**
   * Calls every listener of `event`, synchronously, with `args`. Components emit their own
   * events; outside code should treat this as internal.
   *
   * @param event - Event name, a key of `Events`.
   * @param args - The listener's arguments.
   * @returns `true` when the event had listeners, `false` otherwise.
   */
  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): boolean
}
