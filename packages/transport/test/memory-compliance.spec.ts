import { packetTransportSuite, streamTransportSuite, virtualDriver } from '@rony/testing/transport'
import { memoryNetwork, seededRandom, virtualClock } from '../src/index.js'

let n = 0
function network() {
  const clock = virtualClock()
  const net = memoryNetwork({
    clock,
    random: seededRandom(++n),
    faults: { delay: { min: 1, max: 5 } },
    streamHighWaterMark: 64 * 1024,
  })
  return { clock, net }
}

packetTransportSuite('memory network (virtual clock)', async () => {
  const { clock, net } = network()
  return {
    a: net.packet('memory:a'),
    b: net.packet('memory:b'),
    driver: virtualDriver(clock),
    nowhere: 'memory:nowhere',
  }
})

streamTransportSuite('memory network (virtual clock)', async () => {
  const { clock, net } = network()
  return {
    a: net.stream('memory:a'),
    b: net.stream('memory:b'),
    driver: virtualDriver(clock),
    nowhere: 'memory:nowhere',
  }
})
