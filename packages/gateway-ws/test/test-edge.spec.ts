import { Echo, EchoReply, startTestEdge } from '@rony/testing'
import { describe, expect, it } from 'vitest'
import { wsGateway } from '../src/index.js'

describe("@rony/testing's startTestEdge with the ws gateway", () => {
  it('starts an edge on port 0 with the test services and binds clients to it', async () => {
    const t = await startTestEdge({ gateways: [wsGateway({ port: 0 })], id: 'helper-edge' })
    try {
      expect(t.address).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/)
      const reply = await t.client().request(Echo.create({ Text: 'hi' }), EchoReply)
      expect([reply.Text, reply.ServerID]).toEqual(['hi', 'helper-edge'])
      expect(t.probe.started).toBe(1)
    } finally {
      await t.stop()
    }
    expect(t.edge.addresses()).toEqual([])
  })
})
