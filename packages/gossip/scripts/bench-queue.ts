/**
 * Broadcast queue cost at 100, 1k and 10k queued messages: the indexed queue against the old
 * sorted array (the tests' reference model). A measurement, not a test:
 *
 *   node packages/gossip/scripts/bench-queue.ts
 *
 * - steady: a queue of n alive messages; each op re-announces a queued member (invalidating
 *   its message) and takes one 1,400-byte packet (nothing reaches its limit).
 * - join storm: n members announced into an empty queue, 20 (a packet's worth) per packet
 *   taken, so it backs up to about n as in a rollout, then drained, at the retransmit limit
 *   of n members; the cost per member (its push and its share of the takes).
 *
 * No build: the workspace's module hooks (scripts/ts-sources.ts) load the sources, so it
 * measures them.
 */
import { registerSourceHooks } from '../../../scripts/ts-sources.ts'

registerSourceHooks()
const { BroadcastQueue } = await import('../src/broadcast/queue.js')
const { retransmitLimit } = await import('../src/options.js')
const { ModelQueue } = await import('../test/queue-model.js')

interface Queue {
  readonly length: number
  push(key: string | undefined, msg: Uint8Array): void
  take(budget: number, limit: number): Uint8Array[]
}

const PACKET = 1_400
/** Join storm: news of this many members (one packet's worth) arrive per packet sent. */
const BURST = 20
/** Each case runs SAMPLES × SAMPLE_MS of wall time (at least one round per sample). */
const SAMPLES = 5
const SAMPLE_MS = 200
/** Alive messages of 50–80 bytes, as a member id, address and a little metadata make. */
const alive = (i: number): Uint8Array => new Uint8Array(50 + (i % 31))

const impls: [string, (max: number) => Queue][] = [
  ['indexed', (max) => new BroadcastQueue(max)],
  ['old', (max) => new ModelQueue(max)],
]

/**
 * Runs `round` (`ops` operations) in SAMPLES samples: µs per operation in the fastest
 * sample, the least disturbed by the other processes sharing the machine.
 */
function measure(ops: number, round: () => void): number {
  round() // warm-up
  let best = Number.POSITIVE_INFINITY
  for (let s = 0; s < SAMPLES; s++) {
    let rounds = 0
    const start = performance.now()
    do {
      round()
      rounds++
    } while (performance.now() - start < SAMPLE_MS)
    best = Math.min(best, ((performance.now() - start) * 1000) / (rounds * ops))
  }
  return best
}

const rows: string[][] = [['case', 'n', ...impls.map(([name]) => `${name} µs/op`), 'speed-up']]
for (const n of [100, 1_000, 10_000]) {
  const steady = impls.map(([, make]) => {
    const q = make(n)
    for (let i = 0; i < n; i++) q.push(`m${i}`, alive(i))
    let next = 0
    return measure(100, () => {
      for (let k = 0; k < 100; k++) {
        const i = next++ % n
        q.push(`m${i}`, alive(i))
        q.take(PACKET, Number.MAX_SAFE_INTEGER)
      }
    })
  })
  const limit = retransmitLimit(4, n)
  const storm = impls.map(([, make]) =>
    measure(n, () => {
      const q = make(2 * n)
      for (let i = 0; i < n; i++) {
        q.push(`m${i}`, alive(i))
        if (i % BURST === BURST - 1) q.take(PACKET, limit)
      }
      while (q.length > 0) q.take(PACKET, limit)
    }),
  )
  const fmt = (t: number[]) => [...t.map((x) => x.toFixed(2)), `${(t[1]! / t[0]!).toFixed(1)}×`]
  rows.push(['steady: push invalidating + take', String(n), ...fmt(steady)])
  rows.push([`join storm: per member (limit ${limit})`, String(n), ...fmt(storm)])
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '))
