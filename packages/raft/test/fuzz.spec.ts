/**
 * The Raft fuzzer in CI: a fixed range of seeded schedules (see fuzz-schedule.ts), sized to
 * stay within about a minute on a loaded two-core machine. `RAFT_FUZZ_SEED=<n>` runs that
 * one seed instead (with `RAFT_FUZZ_WATCH=<server>` to trace that server's messages and
 * writes); `node packages/raft/scripts/fuzz.ts` soaks many more seeds.
 *
 * Below them, the bugs the fuzzer found, pinned as small deterministic tests that do not
 * depend on a seed staying meaningful as the code changes.
 */
import type { StateMachine } from '@rony/interface'
import { virtualClock } from '@rony/transport'
import { describe, expect, it } from 'vitest'
import type { Message } from '../src/core/messages.js'
import { type LogEntry, memoryStorage, type RaftTransport, raft } from '../src/index.js'
import { runSchedule } from './fuzz-schedule.js'

/** Seeds `FIRST_SEED` to `FIRST_SEED + SCHEDULES - 1` run in CI. */
const FIRST_SEED = 1
const SCHEDULES = 50

const replay = process.env.RAFT_FUZZ_SEED

describe.runIf(replay !== undefined)('raft fuzz replay', () => {
  it(`replays seed ${replay}`, async () => {
    const result = await runSchedule(Number(replay), { watch: process.env.RAFT_FUZZ_WATCH })
    console.log(result.ok ? result.summary : result.report)
    expect(result.failures).toEqual([])
  }, 300_000)
})

describe.runIf(replay === undefined)('raft fuzz', () => {
  it(`runs ${SCHEDULES} seeded schedules safely`, async () => {
    const started = performance.now()
    let ran = 0
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SCHEDULES; seed++) {
      const result = await runSchedule(seed)
      ran++
      if (!result.ok) throw new Error(`${result.report}\n(${ran} schedules ran)`)
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    console.log(
      `raft fuzz: ${ran} schedules (seeds ${FIRST_SEED}..${FIRST_SEED + ran - 1}), 0 violations, ${seconds} s`,
    )
  }, 180_000)

  it('replays a seed exactly', async () => {
    const [first, second] = [await runSchedule(7), await runSchedule(7)]
    expect(second.fingerprint).toBe(first.fingerprint)
  }, 60_000)
})

describe.runIf(replay === undefined)('bugs the fuzzer found', () => {
  /**
   * Seeds 70, 102, 115 (about 3% of soak seeds): a follower applies the committed entries
   * of a Ready while the leader's InstallSnapshot arrives; the core restores its log to the
   * snapshot at once, and the node's compaction after that Ready then asks the core for the
   * metadata of an entry the restore discarded. `snapshotMeta` throws and the node stops
   * itself (the cluster loses a replica until it is restarted).
   */
  it('a follower survives a snapshot that arrives while it applies entries', async () => {
    const clock = virtualClock()
    const inbox: { deliver: (m: Message) => void } = { deliver: () => {} }
    const transport: RaftTransport = {
      address: 'memory:n1',
      start: async (onMessage) => {
        inbox.deliver = onMessage
      },
      send: () => {},
      stop: async () => {},
      stats: () => ({ queueDrops: 0, malformed: 0 }),
    }
    let release: (() => void) | undefined
    const machine: StateMachine = {
      // Entry 2 takes a while to apply: the snapshot arrives meanwhile.
      apply: (_command, entry) =>
        entry.index === 2 ? new Promise<void>((resolve) => (release = resolve)) : undefined,
      snapshot: () => new Uint8Array(),
      restore: () => {},
    }
    const errors: unknown[] = []
    const silent = Object.assign(() => {}, { enabled: false })
    const error = Object.assign((...args: unknown[]) => errors.push(args), { enabled: true })
    const peers = [
      { id: 'n2', address: 'memory:n2' },
      { id: 'n3', address: 'memory:n3' },
    ]
    const node = raft({
      id: 'n1',
      address: 'memory:n1',
      peers,
      bootstrap: true,
      storage: memoryStorage(),
      stateMachine: machine,
      transport,
      clock,
      snapshotThreshold: 1,
      logger: { forComponent: () => Object.assign(silent, { error, trace: silent }) },
    })
    await node.start()
    const entry = (index: number): LogEntry => ({
      index,
      term: 1,
      kind: 'command',
      data: new Uint8Array([index]),
    })
    const from = { from: 'n2', to: 'n1', term: 1 } as const
    inbox.deliver({
      ...from,
      type: 'append-entries',
      prevIndex: 0,
      prevTerm: 0,
      entries: [entry(1), entry(2)],
      commit: 2,
    })
    while (release === undefined) await clock.advanceAsync(1)
    const configuration = { voters: [{ id: 'n1', address: 'memory:n1' }, ...peers], learners: [] }
    inbox.deliver({
      ...from,
      type: 'install-snapshot',
      meta: { index: 5, term: 1, configuration },
      offset: 0,
      data: new Uint8Array(),
      done: true,
    })
    release()
    await clock.advanceAsync(50)
    expect(errors).toEqual([])
    expect(node.appliedIndex).toBe(5)
    await node.stop()
  })
})
