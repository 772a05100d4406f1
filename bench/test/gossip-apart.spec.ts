import { memoryNetwork, seededRandom, virtualClock } from '@rony/transport'
import { describe, expect, it } from 'vitest'
import { NodesApart } from '../src/gossip/apart.ts'
import { advance } from '../src/gossip/scale.ts'
import { type ScaleEvents, scaleNode } from '../src/gossip/scale-node.ts'

// The bridge of the scale suite's nodes apart, with two members only, so that every packet
// and stream a node sees can only have come across it.
describe('nodes apart', () => {
  it('carries packets and streams both ways between a node here and a node apart', {
    timeout: 60_000,
  }, async () => {
    const clock = virtualClock({ now: 1_700_000_000_000 })
    const net = memoryNetwork({
      clock,
      random: seededRandom(1),
      faults: { delay: { min: 1, max: 5 } },
    })
    const seen: string[] = []
    const events: ScaleEvents = {
      join: (o, member) => seen.push(`${o} saw ${member}`),
      leave: (o, member) => seen.push(`${o} lost ${member}`),
      update: () => {},
      message: () => {},
    }
    const endpoints = (id: string) => ({
      packet: net.packet(`memory:${id}`),
      stream: net.stream(`memory:${id}`),
    })
    const apart = new NodesApart(1, () => clock.now(), events)
    const here = scaleNode({
      o: 0,
      id: 'n0',
      seeds: [],
      transport: endpoints('n0'),
      clock,
      seed: 1,
      events,
    })
    try {
      await here.start()
      const away = await apart.start(1, 'n1', ['memory:n0'], endpoints('n1'))
      // Long enough for n0's own push-pull to n1 (a period is 30 s at N = 2).
      await advance(clock, 65_000, Infinity, () => apart.sync())
      // n1 joined by a push-pull it dialed, and n0 took it in: streams from apart.
      expect(seen).toEqual(expect.arrayContaining(['0 saw n1', '1 saw n0']))
      expect(seen.filter((e) => e.includes('lost'))).toEqual([])
      // n0 dialed n1 for its own push-pulls: streams to apart.
      expect(here.stats().pushPulls).toBeGreaterThan(0)
      expect(here.stats().pushPullsFailed).toBe(0)
      // Probes both ways, by packet: n0 hears only from n1, and n1 only from n0.
      expect(here.stats().packetsReceived).toBeGreaterThan(50)
      expect(away.stats().packetsReceived).toBeGreaterThan(50)
      expect(here.stats().probesFailed + away.stats().probesFailed).toBe(0)
    } finally {
      await here.stop()
      apart.close()
    }
  })
})
