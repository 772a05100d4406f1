/**
 * The wire codec: core {@link Message}s to and from `rony.raft.Message`
 * (proto/rony/raft.proto). Decoding is for bytes from the network, so it never throws
 * anything but a {@link RaftCodecError}: a missing body, an unknown entry kind, or an index,
 * term or offset beyond 2^53 is refused rather than guessed.
 */
import { CodedError } from '@rony/interface'
import type Long from 'long'
import type { ForwardRefusal, Message } from '../core/messages.js'
import { rony } from '../gen/raft.js'
import type {
  Configuration,
  EntryKind,
  LogEntry,
  ServerInfo,
  SnapshotMeta,
} from '../storage/types.js'

const pb = rony.raft
type WireMessage = rony.raft.Message.$Properties
type Uint64 = number | Long | null | undefined

/** Bytes that are not a valid Raft message. */
export class RaftCodecError extends CodedError {
  override readonly name = 'RaftCodecError'
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'RONY_ERR_RAFT_MESSAGE', options)
  }
}

const KINDS: readonly EntryKind[] = ['command', 'configuration', 'noop']
const KIND_WIRE: Record<EntryKind, rony.raft.EntryKind> = {
  command: pb.EntryKind.COMMAND,
  configuration: pb.EntryKind.CONFIGURATION,
  noop: pb.EntryKind.NOOP,
}
const EMPTY = new Uint8Array(0)

function num(v: Uint64, field: string): number {
  if (v === null || v === undefined) return 0
  const n = typeof v === 'number' ? v : v.toNumber()
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RaftCodecError(`${field} is not an integer below 2^53`)
  }
  return n
}

const str = (v: string | null | undefined): string => v ?? ''
/** A plain Uint8Array view (protobufjs hands out Buffers in Node), without copying. */
const bytes = (v: Uint8Array | null | undefined): Uint8Array =>
  v == null || v.byteLength === 0 ? EMPTY : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)

function servers(list: rony.raft.ServerInfo.$Properties[] | null | undefined): ServerInfo[] {
  return (list ?? []).map((s) => ({ id: str(s.Id), address: str(s.Address) }))
}

function configurationOf(c: rony.raft.Configuration.$Properties | null | undefined): Configuration {
  return { voters: servers(c?.Voters), learners: servers(c?.Learners) }
}

function configurationWire(c: Configuration): rony.raft.Configuration.$Properties {
  const wire = (s: ServerInfo) => ({ Id: s.id, Address: s.address })
  return { Voters: c.voters.map(wire), Learners: c.learners.map(wire) }
}

function metaOf(m: rony.raft.SnapshotMeta.$Properties | null | undefined): SnapshotMeta {
  if (m === null || m === undefined) throw new RaftCodecError('snapshot without meta')
  return {
    index: num(m.Index, 'snapshot index'),
    term: num(m.Term, 'snapshot term'),
    configuration: configurationOf(m.Configuration),
  }
}

const metaWire = (m: SnapshotMeta): rony.raft.SnapshotMeta.$Properties => ({
  Index: m.index,
  Term: m.term,
  Configuration: configurationWire(m.configuration),
})

function entryOf(e: rony.raft.Entry.$Properties): LogEntry {
  const kind = KINDS[e.Kind ?? 0]
  if (kind === undefined) throw new RaftCodecError(`unknown entry kind ${e.Kind}`)
  return {
    index: num(e.Index, 'entry index'),
    term: num(e.Term, 'entry term'),
    kind,
    data: bytes(e.Data),
  }
}

const entryWire = (e: LogEntry): rony.raft.Entry.$Properties => ({
  Index: e.index,
  Term: e.term,
  Kind: KIND_WIRE[e.kind],
  Data: e.data,
})

/** The protobuf fields of `m`'s body. */
function bodyWire(m: Message): Partial<WireMessage> {
  switch (m.type) {
    case 'pre-vote':
      return { PreVote: { LastIndex: m.lastIndex, LastTerm: m.lastTerm } }
    case 'pre-vote-response':
      return { PreVoteResponse: { Granted: m.granted } }
    case 'request-vote':
      return {
        RequestVote: { LastIndex: m.lastIndex, LastTerm: m.lastTerm, Transfer: m.transfer },
      }
    case 'request-vote-response':
      return { RequestVoteResponse: { Granted: m.granted } }
    case 'append-entries':
      return {
        AppendEntries: {
          PrevIndex: m.prevIndex,
          PrevTerm: m.prevTerm,
          Entries: m.entries.map(entryWire),
          Commit: m.commit,
        },
      }
    case 'append-response':
      return {
        AppendResponse: m.success
          ? { Success: true, MatchIndex: m.matchIndex }
          : { RejectedIndex: m.rejectedIndex, HintIndex: m.hintIndex, HintTerm: m.hintTerm },
      }
    case 'heartbeat':
      return { Heartbeat: { Commit: m.commit, Context: m.context } }
    case 'heartbeat-response':
      return { HeartbeatResponse: { Context: m.context } }
    case 'install-snapshot':
      return {
        InstallSnapshot: { Meta: metaWire(m.meta), Offset: m.offset, Data: m.data, Done: m.done },
      }
    case 'install-snapshot-response':
      return {
        InstallSnapshotResponse: m.done
          ? { Done: true, MatchIndex: m.matchIndex }
          : {
              SnapshotIndex: m.snapshotIndex,
              SnapshotTerm: m.snapshotTerm,
              NextOffset: m.nextOffset,
            },
      }
    case 'timeout-now':
      return { TimeoutNow: {} }
    case 'read-index':
      return { ReadIndex: { Context: m.context } }
    case 'read-index-response':
      return { ReadIndexResponse: { Context: m.context, Index: m.index } }
    case 'propose':
      return { Propose: { Context: m.context, Data: m.data } }
    case 'propose-response':
      return {
        ProposeResponse: {
          Context: m.context,
          Index: m.index,
          Refused: m.refused === undefined ? null : refusalWire(m.refused),
        },
      }
  }
}

function refusalWire(r: ForwardRefusal): rony.raft.Refusal.$Properties {
  switch (r.code) {
    case 'not-leader':
      return { Code: r.code, Server: r.leaderId ?? '' }
    case 'transferring':
      return { Code: r.code, Server: r.to }
    case 'uncommitted-limit':
      return { Code: r.code, UncommittedBytes: r.uncommittedBytes, Limit: r.limit }
  }
}

function refusalOf(r: rony.raft.Refusal.$Properties): ForwardRefusal {
  switch (r.Code) {
    case 'not-leader':
      return { code: 'not-leader', leaderId: r.Server || undefined, leaderAddress: undefined }
    case 'transferring':
      return { code: 'transferring', to: str(r.Server) }
    case 'uncommitted-limit':
      return {
        code: 'uncommitted-limit',
        uncommittedBytes: num(r.UncommittedBytes, 'uncommitted bytes'),
        limit: num(r.Limit, 'limit'),
      }
    default:
      throw new RaftCodecError(`unknown refusal ${JSON.stringify(r.Code)}`)
  }
}

/** Encodes one message. */
export function encodeRaftMessage(m: Message): Uint8Array {
  return pb.Message.encode({ From: m.from, To: m.to, Term: m.term, ...bodyWire(m) }).finish()
}

/** The first frame of a connection: the dialing server `from`, meaning to reach `to`. */
export interface Hello {
  readonly type: 'hello'
  readonly from: string
  readonly to: string
}

export function encodeHello(from: string, to: string): Uint8Array {
  return pb.Message.encode({ From: from, To: to, Hello: {} }).finish()
}

/** Decodes one frame: a message or a hello. Throws {@link RaftCodecError} for anything else. */
export function decodeRaftFrame(data: Uint8Array): Message | Hello {
  let w: rony.raft.Message
  try {
    w = pb.Message.decode(data)
  } catch (error) {
    throw new RaftCodecError(`undecodable message: ${(error as Error).message}`, { cause: error })
  }
  if (w.Body === 'Hello') return { type: 'hello', from: str(w.From), to: str(w.To) }
  return messageOf(w)
}

/** Decodes one message; throws {@link RaftCodecError} for anything else (a hello included). */
export function decodeRaftMessage(data: Uint8Array): Message {
  const frame = decodeRaftFrame(data)
  if (frame.type === 'hello') throw new RaftCodecError('a hello where a message was expected')
  return frame
}

function messageOf(w: rony.raft.Message): Message {
  const head = { from: str(w.From), to: str(w.To), term: num(w.Term, 'term') }
  switch (w.Body) {
    case 'PreVote': {
      const b = w.PreVote!
      return {
        ...head,
        type: 'pre-vote',
        lastIndex: num(b.LastIndex, 'last index'),
        lastTerm: num(b.LastTerm, 'last term'),
      }
    }
    case 'PreVoteResponse':
      return { ...head, type: 'pre-vote-response', granted: w.PreVoteResponse!.Granted === true }
    case 'RequestVote': {
      const b = w.RequestVote!
      return {
        ...head,
        type: 'request-vote',
        lastIndex: num(b.LastIndex, 'last index'),
        lastTerm: num(b.LastTerm, 'last term'),
        transfer: b.Transfer === true,
      }
    }
    case 'RequestVoteResponse':
      return {
        ...head,
        type: 'request-vote-response',
        granted: w.RequestVoteResponse!.Granted === true,
      }
    case 'AppendEntries': {
      const b = w.AppendEntries!
      return {
        ...head,
        type: 'append-entries',
        prevIndex: num(b.PrevIndex, 'prev index'),
        prevTerm: num(b.PrevTerm, 'prev term'),
        entries: (b.Entries ?? []).map(entryOf),
        commit: num(b.Commit, 'commit'),
      }
    }
    case 'AppendResponse': {
      const b = w.AppendResponse!
      return b.Success === true
        ? {
            ...head,
            type: 'append-response',
            success: true,
            matchIndex: num(b.MatchIndex, 'match index'),
          }
        : {
            ...head,
            type: 'append-response',
            success: false,
            rejectedIndex: num(b.RejectedIndex, 'rejected index'),
            hintIndex: num(b.HintIndex, 'hint index'),
            hintTerm: num(b.HintTerm, 'hint term'),
          }
    }
    case 'Heartbeat': {
      const b = w.Heartbeat!
      return {
        ...head,
        type: 'heartbeat',
        commit: num(b.Commit, 'commit'),
        context: num(b.Context, 'context'),
      }
    }
    case 'HeartbeatResponse':
      return {
        ...head,
        type: 'heartbeat-response',
        context: num(w.HeartbeatResponse!.Context, 'context'),
      }
    case 'InstallSnapshot': {
      const b = w.InstallSnapshot!
      return {
        ...head,
        type: 'install-snapshot',
        meta: metaOf(b.Meta),
        offset: num(b.Offset, 'offset'),
        data: bytes(b.Data),
        done: b.Done === true,
      }
    }
    case 'InstallSnapshotResponse': {
      const b = w.InstallSnapshotResponse!
      return b.Done === true
        ? {
            ...head,
            type: 'install-snapshot-response',
            done: true,
            matchIndex: num(b.MatchIndex, 'match index'),
          }
        : {
            ...head,
            type: 'install-snapshot-response',
            done: false,
            snapshotIndex: num(b.SnapshotIndex, 'snapshot index'),
            snapshotTerm: num(b.SnapshotTerm, 'snapshot term'),
            nextOffset: num(b.NextOffset, 'next offset'),
          }
    }
    case 'TimeoutNow':
      return { ...head, type: 'timeout-now' }
    case 'ReadIndex':
      return { ...head, type: 'read-index', context: str(w.ReadIndex!.Context) }
    case 'ReadIndexResponse': {
      const b = w.ReadIndexResponse!
      return {
        ...head,
        type: 'read-index-response',
        context: str(b.Context),
        index: num(b.Index, 'index'),
      }
    }
    case 'Propose': {
      const b = w.Propose!
      return { ...head, type: 'propose', context: str(b.Context), data: bytes(b.Data) }
    }
    case 'ProposeResponse': {
      const b = w.ProposeResponse!
      const refused = b.Refused == null ? undefined : refusalOf(b.Refused)
      const index = num(b.Index, 'index')
      if ((refused === undefined) === (index === 0)) {
        throw new RaftCodecError('a proposal answer needs exactly one of an index and a refusal')
      }
      return { ...head, type: 'propose-response', context: str(b.Context), index, refused }
    }
    default:
      throw new RaftCodecError('message without a body')
  }
}
