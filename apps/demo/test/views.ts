import type { demo } from '../src/gen/playground.js'

/** What polling needs of `serviceClient(Cluster, client)`. */
interface ClusterWatch {
  watch(input: { Watch: boolean }, options: { timeout: number }): Promise<demo.ClusterView>
}

/**
 * Polls node `id`'s Cluster.Watch view through `cluster` every 100 ms until `done` holds;
 * fails with the last view after `timeout` ms. Each call is bounded by `call`.
 */
export async function viewUntil(
  cluster: ClusterWatch,
  id: string,
  done: (view: demo.ClusterView) => boolean,
  timeout: number,
  call: { timeout: number },
): Promise<demo.ClusterView> {
  const deadline = Date.now() + timeout
  for (;;) {
    const view = await cluster.watch({ Watch: false }, call)
    if (done(view)) return view
    if (Date.now() > deadline) {
      throw new Error(`view of ${id} after ${timeout} ms: ${JSON.stringify(view.toJSON())}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
