import { isCodedError, type Startable } from '@rony/interface'
import { freePort, portInUse, startableSuite } from '@rony/testing/startable'
import {
  memoryNetwork,
  peerLinks,
  seededRandom,
  tcpTransport,
  tunnel,
  udpTransport,
  virtualClock,
} from '../src/index.js'

// Socket transports on a known loopback port: running means the port is bound. They refuse
// to start again once stopped.
startableSuite('udpTransport', {
  restart: 'rejects',
  async create() {
    const port = await freePort({ protocol: 'udp' })
    return {
      component: udpTransport({ bind: `127.0.0.1:${port}` }),
      isRunning: () => portInUse(port, { protocol: 'udp' }),
      pendingCall: undefined, // send() is fire-and-forget
    }
  },
})

startableSuite('tcpTransport', {
  restart: 'rejects',
  async create() {
    const port = await freePort()
    const tcp = tcpTransport({ bind: `127.0.0.1:${port}` })
    const peer = tcpTransport({ bind: '127.0.0.1:0' })
    peer.onStream(() => {}) // accepts, never writes
    return {
      component: tcp,
      isRunning: () => portInUse(port),
      // A dial, then a read of a stream the peer never writes to.
      async pendingCall() {
        await peer.start()
        const stream = await tcp.dial(peer.address)
        return { call: stream[Symbol.asyncIterator]().next() }
      },
      teardown: () => peer.stop(),
    }
  },
})

/**
 * Whether `address` is held on the memory network: a second endpoint there cannot start
 * (`RONY_ERR_ADDRESS_IN_USE`).
 */
function memoryProbe(other: () => Startable): () => Promise<boolean> {
  return async () => {
    const probe = other()
    try {
      await probe.start()
    } catch (err) {
      if (isCodedError(err, 'RONY_ERR_ADDRESS_IN_USE')) return true
      throw err
    }
    await probe.stop()
    return false
  }
}

// Memory endpoints on a virtual clock that never advances: a dial stays pending.
startableSuite('memory network packet endpoint', {
  restart: 'restarts',
  create() {
    const net = memoryNetwork({ clock: virtualClock(), random: seededRandom(1) })
    return {
      component: net.packet('memory:a'),
      isRunning: memoryProbe(() => net.packet('memory:a')),
      pendingCall: undefined, // send() is fire-and-forget
    }
  },
})

startableSuite('memory network stream endpoint', {
  restart: 'restarts',
  create() {
    const net = memoryNetwork({ clock: virtualClock(), random: seededRandom(1) })
    const stream = net.stream('memory:a')
    return {
      component: stream,
      isRunning: memoryProbe(() => net.stream('memory:a')),
      pendingCall: async () => ({ call: stream.dial('memory:b') }),
    }
  },
})

startableSuite('peerLinks', {
  restart: 'restarts',
  create() {
    const net = memoryNetwork({ clock: virtualClock(), random: seededRandom(1) })
    return {
      component: peerLinks({ id: 'a', transport: net.stream('memory:a'), clock: net.clock }),
      isRunning: memoryProbe(() => net.stream('memory:a')),
      pendingCall: undefined, // send() queues and returns
    }
  },
})

startableSuite('tunnel', {
  restart: 'restarts',
  create() {
    const net = memoryNetwork({ clock: virtualClock(), random: seededRandom(1) })
    const a = tunnel({ id: 'a', transport: net.stream('memory:a'), clock: net.clock })
    return {
      component: a,
      isRunning: memoryProbe(() => net.stream('memory:a')),
      // A request to a peer that is never reached: pending until its timeout.
      pendingCall: async () => ({
        call: a.request({ id: 'b', address: 'memory:b' }, new Uint8Array([1])),
      }),
    }
  },
})

startableSuite('tunnel on TCP', {
  restart: 'rejects',
  async create() {
    const port = await freePort()
    return {
      component: tunnel({ id: 'a', bind: `127.0.0.1:${port}` }),
      isRunning: () => portInUse(port),
      pendingCall: undefined, // covered on the memory network above
    }
  },
})
