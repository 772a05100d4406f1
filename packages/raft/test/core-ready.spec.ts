import { describe, expect, it } from 'vitest'
import {
  encodeConfiguration,
  type Message,
  RaftCore,
  type RaftCoreOptions,
  type Ready,
} from '../src/core/index.js'

const config = {
  voters: [
    { id: 'a', address: 'addr-a' },
    { id: 'b', address: 'addr-b' },
  ],
  learners: [],
}

const fresh = (id: string, more: Partial<RaftCoreOptions> = {}) =>
  new RaftCore({
    id,
    random: () => 0,
    recovered: { hardState: { term: 0, votedFor: undefined }, snapshot: undefined, entries: [] },
    bootstrap: config,
    electionTicks: 5,
    ...more,
  })

/** Ticks until the core has a Ready, and takes it. */
function tickToReady(core: RaftCore): Ready {
  for (let i = 0; i < 20 && !core.hasReady(); i++) core.tick()
  return core.ready()
}

const all = (rd: Ready): Message[] => [...rd.eagerMessages, ...rd.messages]

/** Two voters; `a` wins the election (its first entry is in its next Ready). */
function electA(more: Partial<RaftCoreOptions> = {}): { a: RaftCore; b: RaftCore } {
  const a = fresh('a', { preVote: false, ...more })
  const b = fresh('b', { preVote: false, ...more })
  const vote = tickToReady(a)
  a.advance(vote)
  b.step(vote.messages[0]!)
  const granted = b.ready()
  expect(granted.hardState).toEqual({ term: 1, votedFor: 'a' })
  expect(granted.messages.map((m) => m.type)).toEqual(['request-vote-response'])
  b.advance(granted)
  a.step(granted.messages[0]!)
  expect(a.role).toBe('leader')
  return { a, b }
}

/**
 * {@link electA}, then `a`'s first entry and the no-op that ends the founding (once every
 * founder holds the first entry) replicated to `b` and committed.
 */
function withFirstEntryCommitted(more: Partial<RaftCoreOptions> = {}): {
  a: RaftCore
  b: RaftCore
} {
  const { a, b } = electA(more)
  for (const index of [1, 2]) {
    const rd = a.ready()
    for (const m of deliver(rd, b)) a.step(m)
    a.advance(rd)
    expect(a.commitIndex).toBe(index)
  }
  a.advance(a.ready())
  return { a, b }
}

/** Delivers every message of `rd` addressed to `to`, and hands the answers back. */
function deliver(rd: Ready, to: RaftCore): Message[] {
  for (const m of all(rd)) if (m.to === to.id) to.step(m)
  const answer = to.ready()
  to.advance(answer)
  return all(answer)
}

describe('RaftCore Ready batches', () => {
  it('holds a candidate’s vote requests until its term and vote are durable', () => {
    const a = fresh('a', { preVote: false })
    const rd = tickToReady(a)
    expect(rd.hardState).toEqual({ term: 1, votedFor: 'a' })
    expect(rd.softState).toEqual({ role: 'candidate', leaderId: undefined, term: 1 })
    expect(rd.eagerMessages).toEqual([])
    expect(rd.messages).toEqual([
      {
        type: 'request-vote',
        from: 'a',
        to: 'b',
        term: 1,
        lastIndex: 0,
        lastTerm: 0,
        transfer: false,
      },
    ])
    a.advance(rd)
    expect(a.hasReady()).toBe(false)
  })

  it('lets a leader replicate its entries while they are being persisted, but not count them', () => {
    const { a, b } = electA()
    const first = a.ready()
    // Term and vote were durable already: the append goes out with the entry's own write.
    expect(first.hardState).toBeUndefined()
    expect(first.entries.map((e) => e.kind)).toEqual(['configuration'])
    expect(first.eagerMessages.map((m) => m.type)).toEqual(['append-entries'])
    expect(first.messages).toEqual([])
    // b acknowledges; a does not count itself before its own write is done.
    b.step(first.eagerMessages[0]!)
    const ack = b.ready()
    expect(ack.eagerMessages).toEqual([])
    expect(ack.messages.map((m) => m.type)).toEqual(['append-response'])
    b.advance(ack)
    a.step(ack.messages[0]!)
    expect(a.commitIndex).toBe(0) // in two voters, both are needed
    a.advance(first)
    expect(a.commitIndex).toBe(1)
    const commit = a.ready()
    expect(commit.committedEntries.map((e) => e.index)).toEqual([1])
  })

  it('tells followers a new commit index with the next entries or at the next tick, not with a message per commit', () => {
    const { a, b } = electA()
    // The first entry, then the no-op that ends the founding, which carries commit 1.
    for (const index of [1, 2]) {
      const rd = a.ready()
      for (const m of deliver(rd, b)) a.step(m)
      a.advance(rd)
      expect(a.commitIndex).toBe(index)
    }
    const committed = a.ready()
    expect(all(committed)).toEqual([])
    a.advance(committed)
    expect(b.commitIndex).toBe(1)
    // The next proposal's AppendEntries carries the commit index.
    a.propose(new Uint8Array([7]))
    const next = a.ready()
    expect(all(next)).toMatchObject([{ type: 'append-entries', to: 'b', commit: 2 }])
    for (const m of deliver(next, b)) a.step(m)
    a.advance(next)
    expect(a.commitIndex).toBe(3)
    a.advance(a.ready())
    expect(b.commitIndex).toBe(2)
    // With nothing more to send, the next tick does (heartbeats aside), once.
    const appendsAtTick = (): Message[] => {
      a.tick()
      if (!a.hasReady()) return []
      const rd = a.ready()
      a.advance(rd)
      deliver(rd, b)
      return all(rd).filter((m) => m.type === 'append-entries')
    }
    expect(appendsAtTick()).toMatchObject([{ to: 'b', entries: [], commit: 3 }])
    expect(b.commitIndex).toBe(3)
    expect(appendsAtTick()).toEqual([])
  })

  it('forwards a follower’s proposal to the leader and reports where it went, or why not', () => {
    const { a, b } = withFirstEntryCommitted()
    const data = Uint8Array.of(9)
    expect(b.forward(data, 'b:1')).toEqual({ ok: true })
    const asked = b.ready()
    b.advance(asked)
    expect(all(asked)).toEqual([
      { type: 'propose', from: 'b', to: 'a', term: 1, context: 'b:1', data },
    ])
    const answers = deliver(asked, a)
    expect(answers).toMatchObject([
      { type: 'propose-response', to: 'b', context: 'b:1', index: 3, refused: undefined },
      { type: 'append-entries', to: 'b' },
    ])
    b.step(answers[0]!)
    expect(b.ready().forwardStates).toEqual([{ context: 'b:1', ok: true, index: 3, term: 1 }])
    // Refused while leadership moves: the refusal comes back as the leader's rejection.
    const c = withFirstEntryCommitted()
    expect(c.a.transferLeadership('b')).toEqual({ ok: true })
    c.a.advance(c.a.ready())
    c.b.forward(data, 'b:2')
    const askedC = c.b.ready()
    c.b.advance(askedC)
    const refused = deliver(askedC, c.a).find((m) => m.type === 'propose-response')!
    expect(refused).toMatchObject({ index: 0, refused: { code: 'transferring', to: 'b' } })
    c.b.step(refused)
    expect(c.b.ready().forwardStates).toEqual([
      { context: 'b:2', ok: false, rejection: { code: 'transferring', to: 'b' } },
    ])
  })

  it('drops a copy of a forwarded proposal, refused or not', () => {
    // (No check-quorum: `a` keeps leading while it ticks without hearing from `b`.)
    const { a } = withFirstEntryCommitted({ checkQuorum: false })
    const request = { type: 'propose', from: 'b', to: 'a', term: 1, context: 'b:7' } as const
    a.step({ ...request, data: Uint8Array.of(1) })
    a.step({ ...request, data: Uint8Array.of(1) })
    const rd = a.ready()
    expect(rd.entries.map((e) => e.index)).toEqual([3])
    expect(all(rd).filter((m) => m.type === 'propose-response')).toMatchObject([
      { context: 'b:7', index: 3 },
    ])
    a.advance(rd)
    // Refused during a transfer; the copy arriving after the transfer was abandoned is
    // dropped too (the sender was told "no effect").
    a.transferLeadership('b')
    a.step({ ...request, context: 'b:8', data: Uint8Array.of(2) })
    for (let i = 0; i < 30; i++) a.tick() // an election timeout: the transfer is abandoned
    a.step({ ...request, context: 'b:8', data: Uint8Array.of(2) })
    const later = a.ready()
    expect(a.role).toBe('leader')
    expect(later.entries).toEqual([])
    expect(all(later).filter((m) => m.type === 'propose-response')).toMatchObject([
      { context: 'b:8', index: 0, refused: { code: 'transferring' } },
    ])
  })

  it('does not refuse a proposal forwarded in a term it may have led before a restart', () => {
    const restarted = (votedFor: string) =>
      fresh('b', {
        recovered: { hardState: { term: 5, votedFor }, snapshot: undefined, entries: [] },
      })
    const propose = (term: number) =>
      ({
        type: 'propose',
        from: 'a',
        to: 'b',
        term,
        context: `a:${term}`,
        data: Uint8Array.of(1),
      }) as const
    const answers = (core: RaftCore) => {
      const rd = core.ready()
      core.advance(rd)
      return all(rd).filter((m) => m.type === 'propose-response')
    }
    // It voted for itself in term 5, so it may have appended this copy's original then.
    const self = restarted('b')
    self.step(propose(5))
    expect(answers(self)).toEqual([])
    self.step(propose(6))
    expect(answers(self)).toMatchObject([{ term: 6, index: 0, refused: { code: 'not-leader' } }])
    // It voted for another server: it never led term 5.
    const other = restarted('a')
    other.step(propose(5))
    expect(answers(other)).toMatchObject([{ term: 5, index: 0, refused: { code: 'not-leader' } }])
  })

  it('answers a proposal forwarded to a follower with the leader it knows', () => {
    const { a, b } = electA()
    const first = a.ready()
    deliver(first, b) // b now follows a
    b.step({ type: 'propose', from: 'c', to: 'b', term: 1, context: 'c:1', data: Uint8Array.of(1) })
    const rd = b.ready()
    expect(all(rd)).toContainEqual({
      type: 'propose-response',
      from: 'b',
      to: 'c',
      term: 1,
      context: 'c:1',
      index: 0,
      refused: { code: 'not-leader', leaderId: 'a', leaderAddress: 'addr-a' },
    })
    // A leader does not forward, and nobody forwards without a leader.
    expect(a.forward(Uint8Array.of(1), 'a:1')).toMatchObject({
      ok: false,
      rejection: { code: 'invalid' },
    })
    expect(fresh('c').forward(Uint8Array.of(1), 'c:2')).toEqual({
      ok: false,
      rejection: { code: 'not-leader', leaderId: undefined, leaderAddress: undefined },
    })
  })

  it('keeps even a leader’s messages until its term is durable, when it is elected in one step', () => {
    const solo = fresh('solo', {
      preVote: false,
      bootstrap: { voters: [{ id: 'solo', address: 'x' }], learners: [{ id: 'l', address: 'y' }] },
    })
    const rd = tickToReady(solo)
    expect(solo.role).toBe('leader')
    expect(rd.hardState).toEqual({ term: 1, votedFor: 'solo' })
    expect(rd.eagerMessages).toEqual([])
    expect(rd.messages.map((m) => [m.type, m.to])).toEqual([['append-entries', 'l']])
  })

  it('hands each committed entry out once, in order, and one Ready at a time', () => {
    const solo = fresh('solo', {
      bootstrap: { voters: [{ id: 'solo', address: 'x' }], learners: [] },
    })
    const rd = tickToReady(solo)
    expect(solo.role).toBe('leader')
    expect(solo.hasReady()).toBe(false) // one is in flight
    expect(() => solo.ready()).toThrow(/advance/)
    expect(() => solo.advance({ ...rd })).toThrow(/advance/)
    solo.advance(rd)
    const applied: number[] = []
    for (let i = 0; i < 5; i++) {
      const r = solo.propose(new Uint8Array([i]))
      expect(r).toEqual({ ok: true, index: i + 3, term: 1 }) // after the first entry and no-op
      while (solo.hasReady()) {
        const next = solo.ready()
        applied.push(...next.committedEntries.map((e) => e.index))
        solo.advance(next)
      }
    }
    expect(applied).toEqual([1, 2, 3, 4, 5, 6, 7])
  })

  it('tells a proposer on a follower who leads and where', () => {
    const b = fresh('b')
    b.step({ type: 'heartbeat', from: 'a', to: 'b', term: 3, commit: 0, context: 0 })
    expect(b.propose(new Uint8Array([1]))).toEqual({
      ok: false,
      rejection: { code: 'not-leader', leaderId: 'a', leaderAddress: 'addr-a' },
    })
    const rd = b.ready()
    expect(rd.softState).toEqual({ role: 'follower', leaderId: 'a', term: 3 })
    expect(rd.hardState).toEqual({ term: 3, votedFor: undefined })
  })

  it('answers a stale leader with the newer term, so that it steps down', () => {
    const b = fresh('b')
    b.step({ type: 'heartbeat', from: 'a', to: 'b', term: 3, commit: 0, context: 0 })
    b.advance(b.ready())
    b.step({
      type: 'append-entries',
      from: 'x',
      to: 'b',
      term: 2,
      prevIndex: 0,
      prevTerm: 0,
      entries: [],
      commit: 0,
    })
    expect(all(b.ready())).toEqual([
      expect.objectContaining({ type: 'append-response', to: 'x', term: 3, success: false }),
    ])
  })

  it('reports a configuration change in the Ready that follows it', () => {
    const b = fresh('b')
    const next = { voters: config.voters, learners: [{ id: 'l', address: 'addr-l' }] }
    b.step({
      type: 'append-entries',
      from: 'a',
      to: 'b',
      term: 1,
      prevIndex: 0,
      prevTerm: 0,
      entries: [{ index: 1, term: 1, kind: 'configuration', data: encodeConfiguration(next) }],
      commit: 0,
    })
    expect(b.ready().configuration).toEqual(next)
  })

  it('validates its options', () => {
    expect(() => fresh('a', { electionTicks: 1 })).toThrow(/electionTicks/)
    expect(() => fresh('a', { heartbeatTicks: 5 })).toThrow(/heartbeatTicks/)
    expect(() => fresh('a', { maxInflight: 0 })).toThrow(/maxInflight/)
    expect(() => fresh('')).toThrow(/id/)
  })
})
