import * as wire from '../codec/wire.js'
import type { GossipContext } from '../context.js'
import type { NodeRecord } from '../state/table.js'
import { exchange } from '../stream.js'

/**
 * memberlist's TCP fallback probe: a ping over a stream, for members whose datagrams are
 * lost (a bad link, a firewall dropping UDP) but who are alive.
 *
 * @returns Whether the member acked within `timeoutMs`.
 */
export async function streamPing(
  ctx: GossipContext,
  node: NodeRecord,
  timeoutMs: number,
): Promise<boolean> {
  const seq = ctx.nextSeq()
  const reply = await exchange(ctx, node.address, [wire.ping(seq, node.id)], timeoutMs)
  return reply?.some((m) => m.Body === 'Ack' && m.Ack?.SeqNo === seq) ?? false
}
