/**
 * The bugs the Raft fuzzer found (fuzz.spec.ts, scripts/fuzz.ts), pinned as small
 * deterministic tests: one node driven message by message through a fake transport, so
 * that they keep testing the bug after unrelated changes make its seeds do something else.
 */
import type { StateMachine } from '@rony/interface'
import { virtualClock } from '@rony/transport'
import { describe, expect, it } from 'vitest'
import { memoryStorage } from '../src/index.js'
import {
  committedEntries,
  configuration,
  entry,
  follower,
  fromLeader,
  stateless,
} from './single-node.js'

/**
 * Commits entries 1 and 2 on n1, waits until `slow` holds the node inside the state machine
 * (it sets the `release` it is given), delivers the leader's snapshot at index 5, releases,
 * and expects the node to install it without a fatal error.
 */
async function snapshotDuringStateMachineCall(
  slow: (hold: (release: () => void) => void) => StateMachine,
): Promise<void> {
  const clock = virtualClock()
  let release: (() => void) | undefined
  const n1 = await follower(
    clock,
    memoryStorage(),
    slow((r) => (release = r)),
  )
  n1.deliver(committedEntries(2))
  while (release === undefined) await clock.advanceAsync(1)
  const meta = { index: 5, term: 1, configuration }
  const data = new Uint8Array()
  n1.deliver({ ...fromLeader, type: 'install-snapshot', meta, offset: 0, data, done: true })
  release()
  await clock.advanceAsync(50)
  expect(n1.errors).toEqual([])
  expect(n1.node.appliedIndex).toBe(5)
  await n1.node.stop()
}

describe('bugs the fuzzer found', () => {
  /**
   * Soak seeds 70, 102, 115 and about 2% of the others: a follower applies the committed
   * entries of a Ready while the leader's InstallSnapshot arrives. The core restores its log
   * to the snapshot at once, and the node's compaction after that Ready asks the core for
   * the metadata of an entry the restore discarded: `snapshotMeta` throws, the node stops.
   */
  it('a follower survives a snapshot that arrives while it applies entries', () =>
    snapshotDuringStateMachineCall((hold) => ({
      ...stateless,
      // Entry 2 takes a while to apply: the snapshot arrives meanwhile.
      apply: (_command, { index }) =>
        index === 2 ? new Promise<void>((resolve) => hold(resolve)) : undefined,
    })))

  /**
   * The same race while the node awaits an asynchronous `snapshot()` of the state machine
   * (which `StateMachine` allows): the node takes the snapshot's metadata before that await,
   * since the leader's snapshot may replace the log meanwhile.
   */
  it('a follower survives a snapshot that arrives while it snapshots its state', () =>
    snapshotDuringStateMachineCall((hold) => ({
      ...stateless,
      snapshot: () => new Promise<Uint8Array>((resolve) => hold(() => resolve(new Uint8Array()))),
    })))

  /**
   * Soak seed 27283: a follower forwards a ReadIndex request, crashes, and restarts; the
   * leader's answer, held in the leader's send queue while the follower was down, reaches
   * the new run of the follower. Contexts are `<id>:<n>` with `n` counted from 1 again after
   * every start, so the answer matches a new request with the same number, which then reads
   * at the old, stale index: a stale read (the history was not linearizable).
   */
  it('a read is not answered by the reply to a read of an earlier run of the server', async () => {
    const clock = virtualClock()
    const storage = memoryStorage()
    const first = await follower(clock, storage, stateless)
    const entries = [entry(1), entry(2), entry(3)]
    first.deliver({
      ...fromLeader,
      type: 'append-entries',
      prevIndex: 0,
      prevTerm: 0,
      entries,
      commit: 1,
    })
    await clock.advanceAsync(10)
    first.node.readIndex().catch(() => {}) // rejected by the crash
    await clock.advanceAsync(10)
    const stale = first.sent.find((m) => m.type === 'read-index')
    await first.node.stop()

    const second = await follower(clock, storage, stateless)
    second.deliver({ ...fromLeader, type: 'heartbeat', commit: 3, context: 0 })
    await clock.advanceAsync(10)
    let answer: number | undefined
    void second.node.readIndex().then((index) => {
      answer = index
    })
    await clock.advanceAsync(10)
    const request = second.sent.find((m) => m.type === 'read-index')
    if (stale?.type !== 'read-index' || request?.type !== 'read-index') {
      throw new Error('the follower did not forward its reads to the leader')
    }
    const reply = { ...fromLeader, type: 'read-index-response' } as const
    second.deliver({ ...reply, context: stale.context, index: 1 })
    await clock.advanceAsync(10)
    expect(answer).toBeUndefined()
    second.deliver({ ...reply, context: request.context, index: 3 })
    await clock.advanceAsync(10)
    expect(answer).toBe(3)
    await second.node.stop()
  })
})
