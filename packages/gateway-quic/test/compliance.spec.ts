import { gatewayComplianceSuite } from '@rony/testing'
import { quicGateway } from '../src/index.js'
import { rawConnect } from './helpers.js'

// Real UDP sockets on loopback: each test of the suite gets a fresh gateway on a free port,
// and each raw connection its own libp2p node and one Rony stream.
gatewayComplianceSuite('quic', {
  createGateway: ({ maxMessageSize }) =>
    quicGateway({ listen: ['/ip4/127.0.0.1/udp/0/quic-v1'], maxMessageSize }),
  connect: (address) => rawConnect(address),
})
