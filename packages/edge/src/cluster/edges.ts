import { rony } from '@rony/envelope'
import type { Directory } from './directory.js'
import { type ClusterMember, isLive } from './member.js'

/**
 * A replica set id as a request carries it: a number, a bigint, or a protobufjs `Long` for a
 * uint64; compared through its decimal string.
 */
export type ReplicaSetKey = number | bigint | { toString(): string }

/**
 * The `Edges` answer to `GetNodes` and `GetAllNodes`, as the Go framework gives it: the
 * edges of the requested replica sets, in request order (each set once; an unknown set adds
 * nothing), or of the local edge's own set when none is requested, or of every set
 * (ascending) for `GetAllNodes`. Within a set its leader comes first, then the others by id.
 * Only live (alive or suspect) edges are listed, unlike the Go framework, which kept dead
 * ones and sent clients to dial them.
 *
 * @param directory - The cluster view.
 * @param replicaSets - `GetNodes.ReplicaSet`; `'all'` for `GetAllNodes`.
 */
export function edgesAnswer(
  directory: Directory,
  replicaSets: readonly ReplicaSetKey[] | 'all',
): rony.Edges {
  const sets =
    replicaSets === 'all'
      ? directory.replicaSets()
      : replicaSets.length === 0
        ? ownSet(directory)
        : requested(directory, replicaSets)
  return rony.Edges.create({
    Nodes: sets.flatMap((set) => directory.replicaSet(set).filter(isLive).map(toEdge)),
  })
}

function ownSet(directory: Directory): number[] {
  const self = directory.self
  return self === undefined ? [] : [self.replicaSet]
}

/** The requested sets that exist, each once, in request order. */
function requested(directory: Directory, keys: readonly ReplicaSetKey[]): number[] {
  const known = new Map(directory.replicaSets().map((set) => [String(set), set]))
  const sets = new Set<number>()
  for (const key of keys) {
    const set = known.get(String(key))
    if (set !== undefined) sets.add(set)
  }
  return [...sets]
}

function toEdge(member: ClusterMember): rony.Edge.$Properties {
  return { ReplicaSet: member.replicaSet, ServerID: member.id, HostPorts: [...member.gateways] }
}
