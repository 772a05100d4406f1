import type { ComponentLogger, Logger, Membership, MembershipFactory } from '@rony/interface'
import { disabledLogger } from '@rony/interface'
import { memoryNetwork, virtualClock } from '@rony/transport'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { type GossipMembership, gossip } from '../src/index.js'

/** A logger factory that records the component names asked of it. */
function namesLogger(): ComponentLogger & { names: string[] } {
  const names: string[] = []
  return {
    names,
    forComponent(name: string): Logger {
      names.push(name)
      return disabledLogger
    },
  }
}

describe('gossip() overloads', () => {
  it('with an id: a standalone component; without: a factory the host completes', () => {
    expectTypeOf(gossip({ id: 'n1' })).toEqualTypeOf<GossipMembership>()
    expectTypeOf(gossip({ bind: '127.0.0.1:7946' })).toEqualTypeOf<MembershipFactory>()
    expectTypeOf(gossip({})).toEqualTypeOf<MembershipFactory>()
    expectTypeOf(gossip({ id: undefined, seeds: [] })).toEqualTypeOf<MembershipFactory>()
    expect(typeof gossip({ id: 'n1' })).toBe('object')
    expect(typeof gossip({})).toBe('function')
  })

  it('the factory takes the host id as the member id, and the host logger unless one is given', async () => {
    const clock = virtualClock({ now: 0 })
    const net = memoryNetwork({ clock })
    const transport = { packet: net.packet('memory:n1'), stream: net.stream('memory:n1') }
    const hostLogger = namesLogger()
    const g: Membership = gossip({ transport, clock, meta: { k: 'v' } })({
      id: 'n1',
      logger: hostLogger,
    })
    expect(g.local).toMatchObject({ id: 'n1', meta: { k: 'v' } })
    expect(hostLogger.names).toEqual(['rony:gossip:n1'])
    await g.start()
    expect(g.local.address).toBe('memory:n1')
    await g.stop()

    const own = namesLogger()
    gossip({ logger: own })({ id: 'n2', logger: hostLogger })
    expect(own.names).toEqual(['rony:gossip:n2'])
    expect(hostLogger.names).toEqual(['rony:gossip:n1'])
  })

  it('checks the options when the factory is made, not when the host calls it', () => {
    expect(() => gossip({ probeTimeout: 5_000, probeInterval: 1_000 })).toThrow(
      /probeTimeout \(5000 ms\) must not exceed probeInterval/,
    )
    expect(() => gossip({ meta: { big: 'x'.repeat(600) } })).toThrow(
      expect.objectContaining({ code: 'RONY_ERR_MESSAGE_TOO_LARGE' }),
    )
  })

  it('each call of the factory builds a new component (gossip does not restart)', () => {
    const factory = gossip({})
    const components = { id: 'n1', logger: namesLogger() }
    expect(factory(components)).not.toBe(factory(components))
  })
})
