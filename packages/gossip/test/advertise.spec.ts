import type { NetworkInterfaceInfo } from 'node:os'
import { describe, expect, it, vi } from 'vitest'
import { advertiseAddress, isPrivateIPv4 } from '../src/advertise.js'
import { gossip } from '../src/index.js'
import { sim } from './sim.js'

/** The interfaces `os.networkInterfaces()` reports to the component (no real traffic). */
const machine = vi.hoisted(() => ({ interfaces: {} as NodeJS.Dict<NetworkInterfaceInfo[]> }))
vi.mock('node:os', async (original) => ({
  ...(await original<typeof import('node:os')>()),
  networkInterfaces: () => machine.interfaces,
}))

const v4 = (address: string, internal = false): NetworkInterfaceInfo => ({
  address,
  netmask: '255.255.255.0',
  family: 'IPv4',
  mac: '02:00:00:00:00:01',
  internal,
  cidr: `${address}/24`,
})
const v6 = (address: string): NetworkInterfaceInfo => ({
  address,
  netmask: 'ffff:ffff:ffff:ffff::',
  family: 'IPv6',
  mac: '02:00:00:00:00:01',
  internal: false,
  cidr: `${address}/64`,
  scopeid: 0,
})

describe('the advertised address', () => {
  it('is the bound one unless bound to every interface', () => {
    expect(advertiseAddress('127.0.0.1:7946', {})).toBe('127.0.0.1:7946')
    expect(advertiseAddress('10.0.0.5:7946', {})).toBe('10.0.0.5:7946')
    expect(advertiseAddress('[fd00::2]:7946', {})).toBe('[fd00::2]:7946')
    expect(advertiseAddress('memory:n1', {})).toBe('memory:n1')
  })

  it('for 0.0.0.0 or ::, is the first private IPv4 of a non-internal interface', () => {
    const interfaces = {
      lo: [v4('127.0.0.1', true)],
      eth0: [v6('fd00::2'), v4('203.0.113.7')], // public: never advertised unasked
      eth1: [v4('192.168.1.20'), v4('10.0.0.9')],
    }
    expect(advertiseAddress('0.0.0.0:7946', interfaces)).toBe('192.168.1.20:7946')
    expect(advertiseAddress('[::]:40000', interfaces)).toBe('192.168.1.20:40000')
    expect(advertiseAddress('0.0.0.0:7946', { tun0: [v4('100.64.3.4')] })).toBe('100.64.3.4:7946')
  })

  it('is an error when no private IPv4 exists (loopback, public and IPv6 only)', () => {
    const interfaces = { lo: [v4('127.0.0.1', true)], eth0: [v4('192.0.2.2'), v6('fd00::2')] }
    expect(() => advertiseAddress('0.0.0.0:7946', interfaces)).toThrow(
      expect.objectContaining({
        code: 'RONY_ERR_NO_ADVERTISE_ADDRESS',
        message: expect.stringMatching(/0\.0\.0\.0:7946.*set `advertise`/),
      }),
    )
  })

  it('knows the private ranges', () => {
    for (const a of ['10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.0.1', '100.64.0.1']) {
      expect(isPrivateIPv4(a)).toBe(true)
    }
    for (const a of ['172.15.0.1', '172.32.0.1', '192.169.0.1', '100.128.0.1', '8.8.8.8', 'x']) {
      expect(isPrivateIPv4(a)).toBe(false)
    }
  })

  it('a node bound to 0.0.0.0 advertises a private address, or refuses to start and releases its ports', async () => {
    const s = sim({ seed: 71 })
    const node = (id: string, port: number, advertise?: string) =>
      gossip({
        id,
        clock: s.clock,
        transport: {
          packet: s.net.packet(`0.0.0.0:${port}`),
          stream: s.net.stream(`0.0.0.0:${port}`),
        },
        ...(advertise === undefined ? {} : { advertise }),
      })
    machine.interfaces = { lo: [v4('127.0.0.1', true)], eth0: [v4('10.1.2.3')] }
    const a = node('a', 7946)
    await a.start()
    expect(a.local.address).toBe('10.1.2.3:7946')
    await a.stop()

    machine.interfaces = { lo: [v4('127.0.0.1', true)], eth0: [v4('192.0.2.2')] }
    const b = node('b', 7946)
    await expect(b.start()).rejects.toMatchObject({ code: 'RONY_ERR_NO_ADVERTISE_ADDRESS' })
    // Both endpoints were released: new ones can take the address.
    const packet = s.net.packet('0.0.0.0:7946')
    const stream = s.net.stream('0.0.0.0:7946')
    await packet.start()
    await stream.start()
    await packet.stop()
    await stream.stop()
    // An explicit advertise needs no interface.
    const c = node('c', 7946, '198.51.100.1:7946')
    await c.start()
    expect(c.local.address).toBe('198.51.100.1:7946')
    await c.stop()
  })
})
