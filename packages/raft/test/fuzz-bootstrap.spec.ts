/**
 * Founding under faults: 2–3 servers of a pool of 3–5 fresh ones bootstrap at random times
 * with random, pairwise overlapping voter lists, under delay, loss, duplication, partitions,
 * slow disks and crashes, on the simulated cluster of cores, whose safety checker runs after
 * every step. Servers that found two groups would apply different first entries (their
 * configurations) at index 1, which the checker reports. `RAFT_SEED=<n>` replays one
 * schedule (with `RAFT_TRACE=1` for the trace).
 */
import { describe, expect, it } from 'vitest'
import { Cluster } from './core-harness.js'
import { seeded } from './seeded.js'

const replay = process.env.RAFT_SEED
const SEEDS =
  replay === undefined ? Array.from({ length: 1000 }, (_, i) => i + 1) : [Number(replay)]
const TICKS = 300

interface Founding {
  readonly id: string
  readonly voters: readonly string[]
  readonly at: number
}

/** 2–3 founders with lists drawn until every two of them overlap (disjoint lists are two groups by design). */
function foundings(pool: readonly string[], rng: () => number): Founding[] {
  const count = Math.min(pool.length, 2 + Math.floor(rng() * 2))
  const founders = [...pool].sort(() => rng() - 0.5).slice(0, count)
  for (;;) {
    const lists = founders.map((id) => pool.filter((p) => p === id || rng() < 0.6))
    const overlap = lists.every((a) => lists.every((b) => a.some((id) => b.includes(id))))
    if (overlap) {
      return founders.map((id, i) => ({ id, voters: lists[i]!, at: Math.floor(rng() * 80) }))
    }
  }
}

function runSchedule(seed: number): { cluster: Cluster; foundings: Founding[] } {
  const rng = seeded(seed * 104_729)
  const pool = ['p', 'q', 'r', 's', 't'].slice(0, 3 + Math.floor(rng() * 3))
  const c = new Cluster({
    voters: [],
    seed,
    delay: [1, 1 + Math.floor(rng() * 4)],
    dropRate: rng() * 0.2,
    duplicateRate: rng() * 0.1,
    persistDelay: rng() < 0.3 ? [0, 0] : [0, 1 + Math.floor(rng() * 3)],
    core: { preVote: rng() < 0.8, checkQuorum: rng() < 0.8 },
  })
  for (const id of pool) c.addNode(id)
  const plan = foundings(pool, rng)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!
  try {
    for (let t = 0; t < TICKS; t++) {
      for (const f of plan) if (f.at === t) c.bootstrap(f.id, f.voters)
      const r = rng()
      const up = pool.filter((id) => c.node(id).up)
      const down = pool.filter((id) => !c.node(id).up)
      if (r < 0.01 && up.length > 0) c.crash(pick(up))
      else if (r < 0.04 && down.length > 0) c.restart(pick(down))
      else if (r < 0.07) c.partition(pool.filter(() => rng() < 0.5))
      else if (r < 0.1) c.heal()
      const leader = c.leader()
      if (leader !== undefined && rng() < 0.3) c.propose(`${seed}-${t}`, leader)
      c.tick()
    }
    // Calm: whatever group formed keeps running, still checked.
    c.heal()
    c.dropRate = 0
    for (const id of pool) c.restart(id)
    for (let t = 0; t < 200; t++) {
      const leader = c.leader()
      if (leader !== undefined && t % 20 === 0) c.propose(`${seed}-calm-${t}`, leader)
      c.tick()
    }
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause)
    const lists = plan.map((f) => `${f.id}@${f.at}:${f.voters.join('')}`).join(' ')
    throw new Error(`${message}\nfoundings ${lists}\n${c.describe()}`, { cause })
  }
  return { cluster: c, foundings: plan }
}

describe('founding a group under faults', () => {
  it(`never founds two groups from overlapping bootstrap lists, through ${SEEDS.length} seeded schedules`, () => {
    let founded = 0
    for (const seed of SEEDS) {
      try {
        if (runSchedule(seed).cluster.checker.maxApplied > 0) founded++
      } catch (cause) {
        const message = cause instanceof Error ? cause.message : String(cause)
        throw new Error(
          `seed ${seed}: ${message}\nreplay: RAFT_SEED=${seed} npx vitest run packages/raft/test/fuzz-bootstrap`,
          { cause },
        )
      }
    }
    // Not vacuous: most schedules do found a group.
    expect(founded).toBeGreaterThan(SEEDS.length / 2)
  }, 60_000)
})
