/**
 * @packageDocumentation
 *
 * `@rony/transport/sim`: only the simulation half of `@rony/transport` (the in-memory
 * network, the virtual and system clocks, the seeded and system random sources), without
 * the UDP and TCP transports. Nothing reachable from this entry imports a Node built-in, so
 * browsers and other runtimes load it as is. The same names are exported by the main entry.
 *
 * @example
 * ```ts
 * import { memoryNetwork, seededRandom, virtualClock } from '@rony/transport/sim'
 *
 * const clock = virtualClock()
 * const net = memoryNetwork({ clock, random: seededRandom(1) })
 * ```
 */

export {
  systemClock,
  type VirtualClock,
  type VirtualClockInit,
  virtualClock,
} from './clock.js'
export { type MemoryNetwork, memoryNetwork } from './memory/network.js'
export type {
  DelayRange,
  DropReason,
  LinkFaults,
  MemoryEndpointInit,
  MemoryNetworkInit,
  NetworkStats,
} from './memory/options.js'
export { MEMORY_NETWORK_DEFAULTS } from './memory/options.js'
export { type SeededRandom, seededRandom, systemRandom } from './random.js'
