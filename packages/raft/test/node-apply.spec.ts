import { virtualClock } from '@rony/transport'
import { describe, expect, it } from 'vitest'
import { type LogEntry, type LogStorage, memoryStorage } from '../src/index.js'
import { committedEntries, follower, stateless } from './single-node.js'

/** `memoryStorage()` whose appends become durable only when the test releases them. */
function heldAppends(): { storage: LogStorage; release(): void } {
  const inner = memoryStorage()
  const held: (() => void)[] = []
  const storage: LogStorage = {
    open: () => inner.open(),
    setHardState: (state) => inner.setHardState(state),
    append: (entries: readonly LogEntry[]) =>
      new Promise((resolve, reject) => {
        held.push(() => inner.append(entries).then(resolve, reject))
      }),
    saveSnapshot: (snapshot) => inner.saveSnapshot(snapshot),
    close: () => inner.close(),
  }
  const release = (): void => {
    for (const write of held.splice(0)) write()
  }
  return { storage, release }
}

describe('RaftNode Ready handling', () => {
  it('applies committed entries while its own write of them is in progress, and acknowledges them once durable', async () => {
    const clock = virtualClock()
    const { storage, release } = heldAppends()
    const applied: number[] = []
    const n1 = await follower(clock, storage, {
      ...stateless,
      apply: (_command, { index }) => void applied.push(index),
    })
    // The leader's entries 1 and 2, committed already (the leader and n3 hold them).
    n1.deliver(committedEntries(2))
    await clock.advanceAsync(5)
    expect(applied).toEqual([1, 2])
    expect(n1.sent.filter((m) => m.type === 'append-response')).toEqual([])
    release()
    await clock.advanceAsync(5)
    expect(n1.sent.filter((m) => m.type === 'append-response')).toMatchObject([
      { success: true, matchIndex: 2 },
    ])
    expect(n1.errors).toEqual([])
    await n1.node.stop()
  })
})
