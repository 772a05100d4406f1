import { freePort, portInUse, startableSuite } from '@rony/testing/startable'
import { httpGateway } from '../src/index.js'
import { FakeEdge } from './helpers.js'

// The standalone server on a known loopback port: running means the port is bound.
startableSuite('httpGateway', {
  restart: 'restarts',
  async create() {
    const port = await freePort()
    const gateway = httpGateway({ host: '127.0.0.1', port })
    gateway.attach(new FakeEdge())
    return { component: gateway, isRunning: () => portInUse(port), pendingCall: undefined }
  },
})
