import { freePort, portInUse, startableSuite } from '@rony/testing/startable'
import { quicGateway } from '../src/index.js'
import { Recorder } from './helpers.js'

// A libp2p node listening for QUIC on a known loopback UDP port: running means it is bound.
startableSuite('quicGateway', {
  restart: 'restarts',
  async create() {
    const port = await freePort({ protocol: 'udp' })
    const gateway = quicGateway({ listen: [`/ip4/127.0.0.1/udp/${port}/quic-v1`] })
    gateway.attach(new Recorder())
    return {
      component: gateway,
      isRunning: () => portInUse(port, { protocol: 'udp' }),
      pendingCall: undefined,
    }
  },
})
