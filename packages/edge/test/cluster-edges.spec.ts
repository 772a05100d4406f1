import { rony } from '@rony/envelope'
import { describe, expect, it } from 'vitest'
import { Directory, type EdgeMeta, edgesAnswer } from '../src/cluster/index.js'
import { ScriptedMembership } from './cluster-membership.js'

const edge = (replicaSet: number, role: EdgeMeta['role'], leader?: string): EdgeMeta => ({
  replicaSet,
  gateways: [`ws://${leader ?? 'x'}-${replicaSet}/`],
  role,
  term: 2,
  ...(leader === undefined ? {} : { leader }),
})

/** n0 (local) and n1, n2 in set 1 led by n2; n3, n4 in set 2 led by n4; n5 dead in set 2. */
async function cluster() {
  const membership = new ScriptedMembership('n0')
  const directory = new Directory({ membership })
  directory.start()
  directory.publish({ ...edge(1, 'follower', 'n2'), gateways: ['ws://n0/', 'http://n0/'] })
  await directory.flush()
  membership.putEdge('n1', { ...edge(1, 'follower', 'n2'), gateways: ['ws://n1/'] })
  membership.putEdge('n2', { ...edge(1, 'leader', 'n2'), gateways: ['ws://n2/'] })
  membership.putEdge('n4', { ...edge(2, 'leader', 'n4'), gateways: ['ws://n4/'] })
  membership.putEdge('n3', { ...edge(2, 'follower', 'n4'), gateways: [] })
  membership.putEdge('n5', { ...edge(2, 'follower', 'n4'), gateways: ['ws://n5/'] })
  membership.depart('n5', 'failed')
  membership.putEdge('n6', { ...edge(3, 'candidate'), gateways: ['ws://n6/'] }, 'suspect')
  return directory
}

/** `set/id` per node, after a round trip through the wire encoding. */
function nodes(answer: rony.Edges): string[] {
  const decoded = rony.Edges.decode(rony.Edges.encode(answer).finish())
  return decoded.Nodes.map((n) => `${String(n.ReplicaSet)}/${n.ServerID} ${n.HostPorts?.join(',')}`)
}

describe('GetNodes and GetAllNodes answers', () => {
  it('GetNodes without replica sets answers the local edge’s own set, leader first', async () => {
    expect(nodes(edgesAnswer(await cluster(), []))).toEqual([
      '1/n2 ws://n2/',
      '1/n0 ws://n0/,http://n0/',
      '1/n1 ws://n1/',
    ])
  })

  it('GetNodes answers the requested sets in request order, each once, live edges only', async () => {
    const directory = await cluster()
    expect(nodes(edgesAnswer(directory, [2, 9, 1, 2]))).toEqual([
      '2/n4 ws://n4/',
      '2/n3 ',
      '1/n2 ws://n2/',
      '1/n0 ws://n0/,http://n0/',
      '1/n1 ws://n1/',
    ])
    expect(nodes(edgesAnswer(directory, [3]))).toEqual(['3/n6 ws://n6/']) // suspect still counts
    expect(nodes(edgesAnswer(directory, [9]))).toEqual([])
  })

  it('matches uint64 replica sets as decoded from the wire', async () => {
    const directory = await cluster()
    const request = rony.GetNodes.decode(
      rony.GetNodes.encode(
        rony.GetNodes.fromObject({ ReplicaSet: ['18446744073709551615', '2'] }),
      ).finish(),
    )
    expect(nodes(edgesAnswer(directory, request.ReplicaSet))).toEqual(['2/n4 ws://n4/', '2/n3 '])
    expect(edgesAnswer(directory, [2n]).Nodes).toHaveLength(2)
  })

  it('GetAllNodes answers every set in ascending order', async () => {
    expect(nodes(edgesAnswer(await cluster(), 'all'))).toEqual([
      '1/n2 ws://n2/',
      '1/n0 ws://n0/,http://n0/',
      '1/n1 ws://n1/',
      '2/n4 ws://n4/',
      '2/n3 ',
      '3/n6 ws://n6/',
    ])
  })
})
