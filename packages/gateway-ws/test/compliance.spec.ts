import { gatewayComplianceSuite } from '@rony/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe } from 'vitest'
import { type FastifyWsGateway, fastifyWsGateway, wsGateway } from '../src/index.js'
import { rawConnect } from './helpers.js'

// The standalone gateway: each test of the suite gets a fresh one on a free port.
gatewayComplianceSuite('ws', {
  createGateway: ({ maxMessageSize }) => wsGateway({ port: 0, maxPayload: maxMessageSize }),
  connect: (address) => rawConnect(address),
})

/**
 * The Fastify-mounted gateway. A Fastify app takes no routes once it listens, and the
 * suite asks for a new gateway before each test, so one app mounts a pool of gateways
 * (one route each) before it listens; `createGateway` hands them out in turn. The app
 * outlives every edge.stop()/start() of the suite and is closed after the last test.
 */
describe('fastifyWsGateway in a Fastify app', () => {
  // The suite has 10 tests and asks once more for the features; a few spare.
  const POOL_SIZE = 16
  let app: FastifyInstance | undefined
  let poolMessageSize = 0
  const pool: FastifyWsGateway[] = []
  let handedOut = 0

  function mountPool(maxMessageSize: number): FastifyInstance {
    if (app !== undefined) {
      if (maxMessageSize !== poolMessageSize) {
        throw new Error(`pool built for ${poolMessageSize} bytes, asked for ${maxMessageSize}`)
      }
      return app
    }
    const instance = Fastify()
    poolMessageSize = maxMessageSize
    for (let i = 0; i < POOL_SIZE; i++) {
      const gateway = fastifyWsGateway({ path: `/rpc/${i}`, maxPayload: maxMessageSize })
      // Loaded when the app boots (in beforeAll); the first plugin brings @fastify/websocket.
      void instance.register(gateway.plugin)
      pool.push(gateway)
    }
    app = instance
    return instance
  }

  beforeAll(async () => {
    if (app === undefined) throw new Error('the suite never asked for a gateway')
    await app.listen({ port: 0, host: '127.0.0.1' })
  })

  afterAll(async () => {
    await app?.close() // also stops every gateway of the pool (preClose hooks)
  })

  gatewayComplianceSuite('fastify', {
    createGateway: ({ maxMessageSize }) => {
      mountPool(maxMessageSize)
      const gateway = pool[handedOut++]
      if (gateway === undefined) throw new Error(`gateway pool exhausted: raise POOL_SIZE`)
      return gateway
    },
    connect: (address) => rawConnect(address),
  })
})
