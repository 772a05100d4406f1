import { type MemoryGateway, memoryGateway } from '@rony/edge'
import { gatewayComplianceSuite, memoryConnect } from '../src/index.js'

// The in-process gateway is the reference implementation of the contract.
const gateways = new Map<string, MemoryGateway>()

gatewayComplianceSuite('memory', {
  createGateway: ({ maxMessageSize }) => {
    const gateway = memoryGateway({ maxMessageSize })
    gateways.set('memory://memory', gateway)
    return gateway
  },
  connect: async (address) => memoryConnect(gateways.get(address)!),
})
