import { createServer, type Server } from 'node:net'
import { createEdge, memoryGateway } from '@rony/edge'
import type { Gateway } from '@rony/interface'
import { freePort, portInUse, startableSuite } from '../src/startable/index.js'

// The edge's own spec would need @rony/testing as a devDependency of @rony/edge, a cycle
// (@rony/testing depends on @rony/edge); it runs here, as the memory gateway's compliance does.

/** A gateway that only holds a TCP port while started: what the edge must release. */
function portGateway(port: number): Gateway {
  let server: Server | undefined
  return {
    name: 'port',
    features: { serverPush: false, json: false, maxMessageSize: 1024 },
    attach() {},
    addresses: () => (server ? [`tcp://127.0.0.1:${port}`] : []),
    start: () =>
      new Promise<void>((resolve, reject) => {
        const s = createServer()
        s.once('error', reject)
        s.listen({ port, host: '127.0.0.1' }, () => {
          server = s
          resolve()
        })
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        const s = server
        server = undefined
        if (s) s.close(() => resolve())
        else resolve()
      }),
  }
}

startableSuite('edge', {
  restart: 'restarts',
  async create() {
    const port = await freePort()
    return {
      component: createEdge({ id: 'startable', gateways: [portGateway(port)] }),
      isRunning: () => portInUse(port),
      pendingCall: undefined, // the edge has no call of its own that waits
    }
  },
})

// The in-process gateway holds no socket: running means it lists its address.
startableSuite('memoryGateway', {
  restart: 'restarts',
  create() {
    const gateway = memoryGateway()
    gateway.attach({ onConnect() {}, onMessage() {}, onClose() {} })
    return {
      component: gateway,
      isRunning: () => gateway.addresses().length > 0,
      pendingCall: undefined,
    }
  },
})
