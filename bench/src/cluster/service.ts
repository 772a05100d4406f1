import type { ClusterInit, Edge } from '@rony/edge'
import { Count, ReadCount, ReplicatedEcho } from './messages.ts'

/**
 * The suite's replicated service on one edge: `ReplicatedEcho` counts and answers its input
 * (replicated: every replica runs it in log order), `ReadCount` reads the count
 * (linearizable). The count is the replicated state, saved and restored for snapshots.
 */
/** What `cluster.state` takes (the edge does not export the type by name). */
type ReplicatedState = NonNullable<ClusterInit['state']>

export function counterService(): { state: ReplicatedState; register(edge: Edge): void } {
  let count = 0
  return {
    state: {
      snapshot: () => new Uint8Array(new Float64Array([count]).buffer),
      restore(bytes) {
        count = new Float64Array(bytes.slice().buffer)[0] ?? 0
      },
    },
    register(edge) {
      edge.handle(
        ReplicatedEcho,
        (req) => {
          count++
          return ReplicatedEcho.create({ Payload: req.Payload })
        },
        { mode: 'replicated' },
      )
      edge.handle(ReadCount, () => Count.create({ Value: count }), {
        mode: 'read',
        consistency: 'linearizable',
      })
    },
  }
}
