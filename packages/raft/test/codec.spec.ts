import { describe, expect, it } from 'vitest'
import type { ForwardRefusal, Message } from '../src/core/messages.js'
import { rony } from '../src/gen/raft.js'
import {
  decodeRaftFrame,
  decodeRaftMessage,
  encodeHello,
  encodeRaftMessage,
  RaftCodecError,
} from '../src/transport/codec.js'

const head = { from: 'n1', to: 'n2', term: 7 }
const configuration = {
  voters: [
    { id: 'n1', address: '127.0.0.1:9001' },
    { id: 'n2', address: '127.0.0.1:9002' },
  ],
  learners: [{ id: 'n3', address: '127.0.0.1:9003' }],
}
const entries = [
  { index: 11, term: 6, kind: 'noop' as const, data: new Uint8Array(0) },
  { index: 12, term: 7, kind: 'command' as const, data: Uint8Array.of(1, 2, 3) },
  { index: 13, term: 7, kind: 'configuration' as const, data: Uint8Array.of(9) },
]

const messages: Message[] = [
  { ...head, type: 'pre-vote', lastIndex: 10, lastTerm: 6 },
  { ...head, type: 'pre-vote-response', granted: true },
  { ...head, type: 'request-vote', lastIndex: 10, lastTerm: 6, transfer: true },
  { ...head, type: 'request-vote-response', granted: false },
  { ...head, type: 'append-entries', prevIndex: 10, prevTerm: 6, entries, commit: 9 },
  { ...head, type: 'append-entries', prevIndex: 0, prevTerm: 0, entries: [], commit: 0 },
  { ...head, type: 'append-response', success: true, matchIndex: 13 },
  {
    ...head,
    type: 'append-response',
    success: false,
    rejectedIndex: 10,
    hintIndex: 8,
    hintTerm: 5,
  },
  { ...head, type: 'heartbeat', commit: 13, context: 4 },
  { ...head, type: 'heartbeat-response', context: 4 },
  {
    ...head,
    type: 'install-snapshot',
    meta: { index: 100, term: 5, configuration },
    offset: 65_536,
    data: Uint8Array.of(5, 6),
    done: true,
  },
  {
    ...head,
    type: 'install-snapshot-response',
    done: false,
    snapshotIndex: 100,
    snapshotTerm: 5,
    nextOffset: 65_538,
  },
  { ...head, type: 'install-snapshot-response', done: true, matchIndex: 100 },
  { ...head, type: 'timeout-now' },
  { ...head, type: 'read-index', context: 'r-1' },
  { ...head, type: 'read-index-response', context: 'r-1', index: 13 },
  { ...head, type: 'propose', context: 'n2:x:1', data: Uint8Array.of(1, 2, 3) },
  { ...head, type: 'propose-response', context: 'n2:x:1', index: 14, refused: undefined },
  ...[
    { code: 'not-leader', leaderId: 'n3', leaderAddress: undefined },
    { code: 'not-leader', leaderId: undefined, leaderAddress: undefined },
    { code: 'transferring', to: 'n2' },
    { code: 'uncommitted-limit', uncommittedBytes: 70_000, limit: 65_536 },
  ].map(
    (refused): Message => ({
      ...head,
      type: 'propose-response',
      context: 'n2:x:2',
      index: 0,
      refused: refused as ForwardRefusal,
    }),
  ),
  // The largest index a JavaScript number holds exactly.
  { ...head, type: 'heartbeat', commit: Number.MAX_SAFE_INTEGER, context: 0 },
]

describe('raft wire codec', () => {
  it.each(messages.map((m) => [m.type, m] as const))('round-trips %s', (_type, message) => {
    expect(decodeRaftMessage(encodeRaftMessage(message))).toEqual(message)
  })

  it('refuses bytes that are not a message', () => {
    expect(() => decodeRaftMessage(Uint8Array.of(0xff, 0xff, 0xff))).toThrow(RaftCodecError)
  })

  it('refuses a message without a body', () => {
    const bytes = rony.raft.Message.encode({ From: 'n1', To: 'n2', Term: 1 }).finish()
    expect(() => decodeRaftMessage(bytes)).toThrow(/without a body/)
  })

  it('refuses an index beyond 2^53 instead of rounding it', () => {
    const bytes = rony.raft.Message.encode({
      From: 'n1',
      To: 'n2',
      Term: 1,
      Heartbeat: { Commit: '9007199254740993' as never, Context: 0 },
    }).finish()
    const error = (() => {
      try {
        decodeRaftMessage(bytes)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(RaftCodecError)
    expect(error).toMatchObject({ code: 'RONY_ERR_RAFT_MESSAGE', message: /commit/ })
  })

  it('refuses a proposal answer with both or neither of an index and a refusal, or an unknown refusal', () => {
    const answer = (ProposeResponse: rony.raft.ProposeResponse.$Properties) =>
      rony.raft.Message.encode({ From: 'n1', To: 'n2', Term: 1, ProposeResponse }).finish()
    expect(() =>
      decodeRaftMessage(answer({ Context: 'c', Index: 3, Refused: { Code: 'transferring' } })),
    ).toThrow(/exactly one/)
    expect(() => decodeRaftMessage(answer({ Context: 'c' }))).toThrow(/exactly one/)
    expect(() => decodeRaftMessage(answer({ Context: 'c', Refused: { Code: 'nope' } }))).toThrow(
      /unknown refusal "nope"/,
    )
  })

  it('refuses an unknown entry kind', () => {
    const bytes = rony.raft.Message.encode({
      From: 'n1',
      To: 'n2',
      Term: 1,
      AppendEntries: { Entries: [{ Index: 1, Term: 1, Kind: 7 as never }] },
    }).finish()
    expect(() => decodeRaftMessage(bytes)).toThrow(/entry kind 7/)
  })
})

describe('hello frames', () => {
  it('round-trips a hello and keeps it apart from messages', () => {
    expect(decodeRaftFrame(encodeHello('n1', 'n2'))).toEqual({
      type: 'hello',
      from: 'n1',
      to: 'n2',
    })
    expect(() => decodeRaftMessage(encodeHello('n1', 'n2'))).toThrow(/hello/)
  })
})
