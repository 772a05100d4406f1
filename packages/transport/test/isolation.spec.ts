import { isCodedError, type MessageStream } from '@rony/interface'
import { collect, payload, rejection, virtualDriver } from '@rony/testing/transport'
import { describe, expect, it } from 'vitest'
import { isolation, memoryNetwork, virtualClock } from '../src/index.js'

function setup() {
  const clock = virtualClock()
  const net = memoryNetwork({ clock })
  return { clock, net, driver: virtualDriver(clock), cut: isolation() }
}

describe('isolation()', () => {
  it('drops datagrams in both directions while on, and lets them through once off', async () => {
    const { clock, net, cut } = setup()
    const a = cut.packet(net.packet('memory:a'))
    const b = net.packet('memory:b')
    const got: string[] = []
    a.onPacket((data, from) => got.push(`${from}->a #${data[0]}`))
    b.onPacket((data, from) => got.push(`${from}->b #${data[0]}`))
    await a.start()
    await b.start()
    expect(a.address).toBe('memory:a')
    cut.set(true)
    a.send('memory:b', new Uint8Array([1]))
    b.send('memory:a', new Uint8Array([2]))
    await clock.advanceAsync(100)
    expect(got).toEqual([])
    cut.set(false)
    a.send('memory:b', new Uint8Array([3]))
    b.send('memory:a', new Uint8Array([4]))
    await clock.advanceAsync(100)
    expect(got.sort()).toEqual(['memory:a->b #3', 'memory:b->a #4'])
  })

  it('aborts open streams, refuses dials both ways while on, and carries streams again once off', async () => {
    const { net, driver, cut } = setup()
    const a = cut.stream(net.stream('memory:a'))
    const b = net.stream('memory:b')
    const inboundA: MessageStream[] = []
    const inboundB: MessageStream[] = []
    a.onStream((s) => inboundA.push(s))
    b.onStream((s) => inboundB.push(s))
    await a.start()
    await b.start()
    const x = await driver.run(a.dial('memory:b'))
    const remote = rejection(collect(inboundB[0]!))
    cut.set(true)
    expect(await driver.run(remote)).toBeInstanceOf(Error)
    expect(isCodedError(await rejection(x.send(payload(1, 10))), 'RONY_ERR_STREAM_CLOSED')).toBe(
      true,
    )
    expect(
      isCodedError(await driver.run(rejection(a.dial('memory:b'))), 'RONY_ERR_DIAL_FAILED'),
    ).toBe(true)
    // b dials a: the connection is accepted by the network and aborted at once by a's side.
    const fromB = await driver.run(b.dial('memory:a'))
    expect(inboundA).toEqual([])
    expect(await driver.run(rejection(collect(fromB)))).toBeInstanceOf(Error)
    cut.set(false)
    const y = await driver.run(a.dial('memory:b'))
    await driver.run(y.send(payload(7, 10)))
    expect(await driver.run(collect(inboundB[1]!, 1))).toEqual([payload(7, 10)])
  })
})
