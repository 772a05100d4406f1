import { gatewayComplianceSuite } from '@rony/testing'
import { httpGateway } from '../src/index.js'
import { rawHttpConnect } from './helpers.js'

// The standalone gateway on real sockets: each test of the suite gets a fresh one on a free
// port. (Plugin mode boots with the host app, after the edge started: see plugin.spec.ts.)
gatewayComplianceSuite('http', {
  createGateway: ({ maxMessageSize }) => httpGateway({ port: 0, bodyLimit: maxMessageSize }),
  connect: (address) => rawHttpConnect(address),
})
