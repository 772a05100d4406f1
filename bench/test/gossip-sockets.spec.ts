import { describe, expect, it } from 'vitest'
import { readProc, sleep, Tally } from '../src/gossip/cluster.ts'
import { RonyCluster } from '../src/gossip/rony.ts'

// The gossip sockets suite's bookkeeping: views kept as counts per observer (what makes
// N = 2,000 real nodes observable without N² IPC messages), and a small real cluster in
// counts mode (seconds), so `pnpm bench --filter 'gossip sockets'` keeps working.
describe('Tally', () => {
  it('counts each observer’s alive others from single changes', () => {
    const t = new Tally()
    t.event('a', 'b', 'alive', 10)
    t.event('a', 'c', 'alive', 20)
    t.event('a', 'c', 'alive', 25) // no change: keeps the time it got full
    t.event('b', 'a', 'alive', 15)
    expect(t.fullAt(['a', 'b'], 2)).toBeUndefined()
    expect(t.progress(['a', 'b'], 2)).toEqual({ full: 1, fewest: 1, none: 0, never: 0 })
    t.event('b', 'c', 'alive', 30)
    expect(t.fullAt(['a', 'b'], 2)).toBe(30)
    t.event('b', 'c', 'failed', 40)
    expect(t.fullAt(['a', 'b'], 2)).toBeUndefined()
    expect(t.failures).toEqual([{ observer: 'b', member: 'c', at: 40 }])
  })

  it('times a detection per survivor from the kill on, once all had it', () => {
    const t = new Tally()
    t.failed('a', 'v', 5) // before the kill: not this detection
    t.failed('b', 'v', 130)
    expect(t.detected(['a', 'b'], 'v', 100)).toBeUndefined()
    expect(t.detectedBy(['a', 'b'], 'v', 100)).toBe(1)
    t.failed('a', 'v', 120)
    t.failed('a', 'v', 150) // a repeat keeps the first
    expect(t.detected(['a', 'b'], 'v', 100)).toEqual([20, 30])
  })
})

describe('RonyCluster in counts mode', () => {
  it('reports every node’s full view and leaves no process behind', {
    timeout: 30_000,
  }, async () => {
    const all = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5']
    const cluster = new RonyCluster('local', 2, ['n5'], 'counts')
    try {
      await cluster.start('n0', [])
      await Promise.all(all.slice(1).map((id) => cluster.start(id, ['n0'])))
      let full: number | undefined
      for (let i = 0; i < 200 && full === undefined; i++) {
        full = cluster.tally.fullAt(all, all.length - 1)
        if (full === undefined) await sleep(50)
      }
      expect(full).toBeGreaterThan(0)
      expect(await cluster.crossCheck(all)).toBeUndefined()
      expect(cluster.pids()).toHaveLength(3) // 2 workers + the victim alone
    } finally {
      const pids = cluster.pids()
      await cluster.close()
      expect(pids.map((pid) => readProc(pid))).toEqual(pids.map(() => undefined))
    }
  })
})
