import type { StateMachine } from '@rony/interface'
import { freePort, portInUse, startableSuite } from '@rony/testing/startable'
import { memoryStorage, raft } from '../src/index.js'

const stateless: StateMachine = {
  apply: () => undefined,
  snapshot: () => new Uint8Array(),
  restore: () => {},
}

/** Polls `cond` in real time, failing after `limitMs`. */
async function until(cond: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached after ${limitMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

// A single-server cluster on the default TCP transport, on a known loopback port: running
// means the port is bound.
startableSuite('raft node', {
  restart: 'rejects',
  async create() {
    const port = await freePort()
    const node = raft({
      id: 'n1',
      bind: `127.0.0.1:${port}`,
      bootstrap: true,
      storage: memoryStorage(),
      stateMachine: stateless,
    })
    return {
      component: node,
      isRunning: () => portInUse(port),
      // Adding a voter nothing answers for: the new configuration {n1, n2} cannot commit.
      async pendingCall() {
        await until(() => node.leaderId === 'n1', 'n1 leads')
        return { call: node.addVoter('n2', '127.0.0.1:9') }
      },
    }
  },
})
