/**
 * What every cluster simulation shares: a virtual clock and a memory network on it with
 * 1–5 ms delays, seeded, and each node's address.
 */
import {
  type MemoryNetwork,
  memoryNetwork,
  seededRandom,
  type VirtualClock,
  virtualClock,
} from '@rony/transport'

/** Simulated minutes on the virtual clock; CPU-bound, so a generous bound for a loaded machine. */
export const SIM_TIMEOUT_MS = 60_000

/** A node's address on the memory network. */
export const addr = (id: string): string => `memory:${id}`

export interface SimNetwork {
  readonly clock: VirtualClock
  readonly net: MemoryNetwork
}

export function simNetwork(seed: number): SimNetwork {
  const clock = virtualClock({ now: 1_700_000_000_000 })
  const net = memoryNetwork({
    clock,
    random: seededRandom(seed),
    faults: { delay: { min: 1, max: 5 } },
  })
  return { clock, net }
}
