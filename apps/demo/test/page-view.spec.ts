// The page's reading of a ClusterView (src/page/view.ts): which node it calls the leader,
// and the order and defaults of the node cards.
import Long from 'long'
import { describe, expect, it } from 'vitest'
import { demo } from '../src/gen/playground.js'
import { toView } from '../src/page/view.ts'

const node = (id: string, fields: Partial<demo.INodeStatus> = {}): demo.INodeStatus => ({
  ID: id,
  Process: 'running',
  Gossip: 'alive',
  Role: 'follower',
  Term: Long.fromNumber(2),
  ...fields,
})

describe('toView', () => {
  it('names the running node that reports itself leader in the highest term', () => {
    // n1 is isolated in term 1 and still believes it leads; n3 leads in term 3. The view
    // comes from n1, which knows no leader.
    const view = toView(
      demo.ClusterView.create({
        Node: 'n1',
        Leader: '',
        Nodes: [
          node('n1', { Role: 'leader', Term: Long.fromNumber(1) }),
          node('n2'),
          node('n3', { Role: 'leader', Term: Long.fromNumber(3) }),
        ],
      }),
    )
    expect(view.leader).toBe('n3')
    expect(view.node).toBe('n1')
  })

  it('ignores a leader report of a node that is not running', () => {
    const view = toView(
      demo.ClusterView.create({
        Leader: 'n2',
        Nodes: [
          node('n1', { Role: 'leader', Term: Long.fromNumber(5), Process: 'paused' }),
          node('n2'),
        ],
      }),
    )
    expect(view.leader).toBe('n2')
  })

  it('falls back to the leader the answering node knows', () => {
    const view = toView(demo.ClusterView.create({ Leader: 'n2', Nodes: [node('n1'), node('n2')] }))
    expect(view.leader).toBe('n2')
  })

  it('orders nodes naturally and fills what a node did not report', () => {
    const view = toView(demo.ClusterView.create({ Nodes: [node('n10'), { ID: 'n2' }, node('n1')] }))
    expect(view.nodes.map((n) => n.id)).toEqual(['n1', 'n2', 'n10'])
    expect(view.nodes[1]).toEqual({
      id: 'n2',
      process: 'unknown',
      gossip: 'unknown',
      role: 'none',
      term: 0,
      commit: 0,
      applied: 0,
      reportedAt: 0,
      gateways: [],
    })
  })
})
