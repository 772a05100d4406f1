// The page's links to the nodes (src/page/links.ts) when a node moves: a node restarted on
// other ports (its own were taken) has new gateways in the next ClusterView.
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../src/cluster/supervisor.ts'
import { demo } from '../src/gen/playground.js'
import { type Link, Links } from '../src/page/links.ts'
import { toView } from '../src/page/view.ts'

/** Every link made, to close their clients (they keep dialing a port nobody listens on). */
const made: Link[] = []

afterAll(async () => {
  await Promise.all(made.map((link) => link.client.close()))
})

const view = (ports: Record<string, number>) =>
  toView(
    demo.ClusterView.create({
      Node: 'n1',
      Nodes: Object.entries(ports).map(([id, port]) => ({
        ID: id,
        Process: 'running',
        Gateways: [`ws://127.0.0.1:${port}/ws`, `http://127.0.0.1:${port}/`],
      })),
    }),
  )

describe('Links', () => {
  it('replaces the link of a node whose address changed, and closes the old one', async () => {
    const [a, b, moved] = [
      await freePort('127.0.0.1', false),
      await freePort('127.0.0.1', false),
      await freePort('127.0.0.1', false),
    ]
    const links = new Links()
    links.sync(view({ n1: a, n2: b }).nodes)
    const [n1, n2] = [links.get('n1')!, links.get('n2')!]
    made.push(n1, n2)

    links.sync(view({ n1: a, n2: moved }).nodes)
    const n2Moved = links.get('n2')!
    made.push(n2Moved)
    expect(links.get('n1')).toBe(n1)
    expect(n2Moved.url).toBe(`ws://127.0.0.1:${moved}/ws`)
    expect(n2.client.state).toBe('closed')
    expect(n2Moved.client).not.toBe(n2.client)
  })
})
