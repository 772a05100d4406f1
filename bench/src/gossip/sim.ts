/**
 * The same three steps as on sockets, simulated: @rony/gossip nodes on a memory network
 * (1–5 ms per packet, no loss) under a virtual clock, as the package's tests build them.
 * Times are simulated milliseconds, stepped in 10 ms (join) or 50 ms (detection) slices.
 */
import type { GossipMembership } from '@rony/gossip'
import { gossip } from '@rony/gossip'
import { memoryNetwork, seededRandom, virtualClock } from '@rony/transport'
import { ids as idsOf, Views } from './cluster.ts'
import { nodeRandom } from './scale-node.ts'

export interface SimResult {
  n: number
  /** All but the last node started at t = 0 until they all see each other. */
  formMs: number | undefined
  /** The last node's start until every node sees every node. */
  joinMs: number | undefined
  /** The crash until every survivor has the victim failed: the last survivor, and the median. */
  detectLastMs: number | undefined
  detectMedianMs: number | undefined
  /** `failed` declarations of anyone but the victim. */
  falseFailures: number
  /** Probes that ended in a suspicion before the crash. */
  suspicionsBeforeCrash: number
  wallMs: number
}

export async function simulate(n: number, profile: 'lan' | 'local', seed = 1): Promise<SimResult> {
  const wall = performance.now()
  const clock = virtualClock({ now: 1_700_000_000_000 })
  const net = memoryNetwork({
    clock,
    random: seededRandom(seed),
    faults: { delay: { min: 1, max: 5 } },
  })
  const views = new Views(() => clock.now())
  const nodes = new Map<string, GossipMembership>()
  const all = idsOf(n, 'n')
  const victim = 'n1'
  const spawn = async (id: string): Promise<void> => {
    const g = gossip({
      id,
      profile,
      seeds: id === 'n0' ? [] : ['memory:n0'],
      transport: { packet: net.packet(`memory:${id}`), stream: net.stream(`memory:${id}`) },
      clock,
      random: nodeRandom(id, seed),
    })
    g.on('member:join', (m) => views.record(id, m.id, 'alive'))
    g.on('member:leave', (m, r) => views.record(id, m.id, r === 'failed' ? 'failed' : 'left'))
    nodes.set(id, g)
    await g.start()
  }
  /** Advances in `step` slices until `check` holds; the simulated ms it took, or undefined. */
  const runUntil = async (check: () => boolean, step: number, maxMs: number) => {
    const start = clock.now()
    while (!check()) {
      if (clock.now() - start >= maxMs) return undefined
      await clock.advanceAsync(step)
    }
    return clock.now() - start
  }
  try {
    const initial = all.slice(0, -1)
    for (const id of initial) await spawn(id)
    const formMs = await runUntil(() => views.converged(initial), 100, 120_000)
    const last = all.at(-1) as string
    const joinStart = clock.now()
    await spawn(last)
    const joined = await runUntil(() => views.converged(all), 10, 60_000)
    const joinMs = joined === undefined ? undefined : clock.now() - joinStart
    await clock.advanceAsync(5_000)
    let suspicionsBeforeCrash = 0
    for (const g of nodes.values()) suspicionsBeforeCrash += g.stats().probesFailed
    const crashedAt = clock.now()
    net.crash(`memory:${victim}`)
    await nodes.get(victim)?.stop()
    nodes.delete(victim)
    const survivors = all.filter((id) => id !== victim)
    const detectLastMs = await runUntil(() => views.detected(survivors, victim), 50, 200_000)
    const times = views.failures
      .filter((f) => f.member === victim && f.at >= crashedAt)
      .map((f) => f.at - crashedAt)
      .sort((a, b) => a - b)
    return {
      n,
      formMs,
      joinMs,
      detectLastMs,
      detectMedianMs: times.length ? times[Math.floor(times.length / 2)] : undefined,
      falseFailures: views.failures.filter((f) => f.member !== victim).length,
      suspicionsBeforeCrash,
      wallMs: performance.now() - wall,
    }
  } finally {
    for (const g of nodes.values()) await g.stop()
  }
}
