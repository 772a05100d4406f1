import { freePort, portInUse, startableSuite } from '@rony/testing/startable'
import { wsGateway } from '../src/index.js'
import { Recorder } from './helpers.js'

// A standalone server on a known loopback port: running means the port is bound.
startableSuite('wsGateway', {
  restart: 'restarts',
  async create() {
    const port = await freePort()
    const gateway = wsGateway({ host: '127.0.0.1', port })
    gateway.attach(new Recorder())
    return { component: gateway, isRunning: () => portInUse(port), pendingCall: undefined }
  },
})
