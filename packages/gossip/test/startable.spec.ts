import { freePort, portInUse, startableSuite } from '@rony/testing/startable'
import { gossip } from '../src/index.js'

/** Polls `cond` in real time, failing after `limitMs`. */
async function until(cond: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached after ${limitMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

// The default transports on a known loopback port, UDP and TCP: running means both are
// bound, stopped means neither is (one without the other fails the probe).
startableSuite('gossip', {
  restart: 'rejects',
  async create() {
    const port = await freePort()
    const bind = `127.0.0.1:${port}`
    const node = gossip({ id: 'a', bind, profile: 'local' })
    const peer = gossip({ id: 'b', bind: '127.0.0.1:0', profile: 'local', seeds: [bind] })
    return {
      component: node,
      async isRunning() {
        const udp = await portInUse(port, { protocol: 'udp' })
        const tcp = await portInUse(port)
        if (udp !== tcp)
          throw new Error(
            `half running: udp ${udp ? 'bound' : 'free'}, tcp ${tcp ? 'bound' : 'free'}`,
          )
        return udp
      },
      // With another member, leave() waits for the announcement to spread.
      async pendingCall() {
        await peer.start()
        await until(() => node.members().length === 2, 'the peer joined')
        return { call: node.leave() }
      },
      teardown: () => peer.stop(),
    }
  },
})
