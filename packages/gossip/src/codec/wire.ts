import type { MemberState } from '@rony/interface'
import type Long from 'long'
import { rony } from '../gen/gossip.js'
import {
  ByteReader,
  ByteWriter,
  lenField,
  lenFieldAlways,
  readMetaEntry,
  uint64Field,
  uintField,
  utf8Length,
  varintSize,
} from './bytes.js'
import { PushNodes } from './pushnodes.js'

/**
 * Packet codec: every UDP packet and every stream message is one `rony.gossip.Compound`
 * (proto/rony/gossip.proto), built by concatenating already-encoded `Message`s. A repeated
 * message field is `tag, varint length, bytes` per element, so a compound is assembled from
 * cached encodings without re-encoding (broadcasts are encoded once, sent many times), and
 * its size is known exactly before it is built.
 *
 * Messages are encoded and decoded by hand (one exact allocation per message, plain objects
 * out, push-pull entries left as bytes until the member table asks for them), producing and
 * accepting exactly what the generated protobufjs code (`../gen/gossip.js`) does: the same
 * bytes out; any field order, unknown fields and defaults in. Input the hand reader does not
 * take (a non-canonical varint, a group, a repeated oneof body, malformed bytes) is decoded
 * by protobufjs instead, so it is accepted or refused, with the same error, exactly as before.
 */

const pb = rony.gossip

/** A message as the member table takes it: its incarnation already checked, a number. */
type Checked<T> = Omit<T, 'Incarnation'> & { Incarnation?: number | null }

export type Alive = Checked<rony.gossip.Alive.$Properties>
export type Suspect = Checked<rony.gossip.Suspect.$Properties>
export type Dead = Checked<rony.gossip.Dead.$Properties>
export const NodeStateWire = pb.NodeState
export { PushNodes }

/** Decoded messages: every field present (proto3 defaults), incarnations as numbers. */
export interface PingBody {
  SeqNo: number
  Target: string
}
export interface IndirectPingBody {
  SeqNo: number
  Target: string
  TargetAddr: string
  Nack: boolean
}
export interface SeqBody {
  SeqNo: number
}
/** `Incarnation` may be unsafe (above 2^53): `incarnationOf` refuses it. */
export interface AliveBody {
  Incarnation: number
  Node: string
  Addr: string
  Meta: Record<string, string>
}
export interface AccusationBody {
  Incarnation: number
  Node: string
  From: string
}
export interface UserEventBody {
  From: string
  Boot: number
  Seq: number
  Data: Uint8Array
}
export interface PushPullBody {
  Join: boolean
  From: string
  Nodes: PushNodes
}
interface Bodies {
  Ping: PingBody
  IndirectPing: IndirectPingBody
  Ack: SeqBody
  Nack: SeqBody
  Alive: AliveBody
  Suspect: AccusationBody
  Dead: AccusationBody
  UserEvent: UserEventBody
  PushPull: PushPullBody
}
type NoBodies<Except extends keyof Bodies | never> = {
  [J in Exclude<keyof Bodies, Except>]?: undefined
}
/** A decoded `Message`: `Body` names the one body it has (none for an empty or unknown one). */
export type Message =
  | { [K in keyof Bodies]: { Body: K } & { [J in K]: Bodies[J] } & NoBodies<K> }[keyof Bodies]
  | ({ Body: undefined } & NoBodies<never>)

/**
 * The largest incarnation: uint64 on the wire, but a JS number in memory, exact up to
 * 2^53 - 1. Incarnations never wrap: larger ones are refused, and so is an accusation (suspect
 * or dead) at this one, since the accused could not refute it with a higher one.
 */
export const MAX_INCARNATION = Number.MAX_SAFE_INTEGER

/**
 * An incarnation from the wire as a number, or `undefined` when refused (see
 * {@link MAX_INCARNATION}).
 *
 * @param accusation - Whether it comes with a suspect or dead message.
 */
export function incarnationOf(
  v: number | Long | null | undefined,
  accusation: boolean,
): number | undefined {
  const n = v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber()
  if (!Number.isSafeInteger(n) || n < 0) return undefined
  if (accusation && n >= MAX_INCARNATION) return undefined
  return n
}

/** Tag byte of `Compound.Messages` (field 1, wire type 2). */
const COMPOUND_TAG = 0x0a

export { varintSize }

/** Bytes one encoded message takes inside a compound. */
export function framedSize(encoded: Uint8Array): number {
  return 1 + varintSize(encoded.byteLength) + encoded.byteLength
}

/** Bytes a compound of `parts` takes. */
export function compoundSize(parts: readonly Uint8Array[]): number {
  let size = 0
  for (const p of parts) size += framedSize(p)
  return size
}

/** Writes `parts` as `Compound.Messages` into `out` at `at`; returns the end. */
export function writeCompound(out: Uint8Array, at: number, parts: readonly Uint8Array[]): number {
  let pos = at
  for (const p of parts) {
    out[pos++] = COMPOUND_TAG
    let n = p.byteLength
    while (n >= 0x80) {
      out[pos++] = (n & 0x7f) | 0x80
      n >>>= 7
    }
    out[pos++] = n
    out.set(p, pos)
    pos += p.byteLength
  }
  return pos
}

/** Concatenates encoded messages into one `Compound`. */
export function buildCompound(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(compoundSize(parts))
  writeCompound(out, 0, parts)
  return out
}

// Encoding. Field tags are (number << 3) | wire type; a `Message` wraps each body in its oneof
// field, written even when the body is empty (as protobufjs writes a set message field).

const MESSAGE_TAG = {
  Ping: 0x0a,
  IndirectPing: 0x12,
  Ack: 0x1a,
  Nack: 0x22,
  Alive: 0x2a,
  Suspect: 0x32,
  Dead: 0x3a,
  UserEvent: 0x42,
  PushPull: 0x4a,
} as const

/** A writer for a `Message` whose body takes `bodySize` bytes, positioned at the body. */
function messageWriter(tag: number, bodySize: number): ByteWriter {
  const w = new ByteWriter(1 + varintSize(bodySize) + bodySize)
  w.byte(tag)
  w.varint(bodySize)
  return w
}

/** Bytes of a map<string, string> field's entries (each entry always has key and value). */
export function metaEntriesSize(meta: Readonly<Record<string, string>>): number {
  let size = 0
  for (const k in meta) {
    if (!Object.hasOwn(meta, k)) continue
    size += lenFieldAlways(metaEntrySize(k, meta[k]!))
  }
  return size
}

const metaEntrySize = (k: string, v: string): number =>
  lenFieldAlways(utf8Length(k)) + lenFieldAlways(utf8Length(v))

/** Writes a map<string, string> field's entries, in `Object.keys` order as protobufjs does. */
export function writeMeta(
  w: ByteWriter,
  tag: number,
  meta: Readonly<Record<string, string>>,
): void {
  for (const k of Object.keys(meta)) {
    const v = meta[k]!
    const kl = utf8Length(k)
    const vl = utf8Length(v)
    w.byte(tag)
    w.varint(lenFieldAlways(kl) + lenFieldAlways(vl))
    w.byte(0x0a)
    w.varint(kl)
    w.string(k, kl)
    w.byte(0x12)
    w.varint(vl)
    w.string(v, vl)
  }
}

/** Encoded size of a metadata map, as measured against `maxMetaBytes` (a `Meta` message). */
export function metaSize(meta: Readonly<Record<string, string>>): number {
  return metaEntriesSize(meta)
}

/** Encoded `Message` for a ping. */
export function ping(seqNo: number, target: string): Uint8Array {
  const tl = utf8Length(target)
  const w = messageWriter(MESSAGE_TAG.Ping, uintField(seqNo) + lenField(tl))
  w.uintField(0x08, seqNo)
  w.stringField(0x12, target, tl)
  return w.buf
}

const seqMessage = (tag: number, seqNo: number): Uint8Array => {
  const w = messageWriter(tag, uintField(seqNo))
  w.uintField(0x08, seqNo)
  return w.buf
}

/** Encoded `Message` for an ack. */
export const ack = (seqNo: number): Uint8Array => seqMessage(MESSAGE_TAG.Ack, seqNo)

/** Encoded `Message` for a nack. */
export const nack = (seqNo: number): Uint8Array => seqMessage(MESSAGE_TAG.Nack, seqNo)

/** Encoded `Message` for an indirect ping request (always asking for a nack). */
export function indirectPing(seqNo: number, target: string, targetAddr: string): Uint8Array {
  const tl = utf8Length(target)
  const al = utf8Length(targetAddr)
  const w = messageWriter(
    MESSAGE_TAG.IndirectPing,
    uintField(seqNo) + lenField(tl) + lenField(al) + 2,
  )
  w.uintField(0x08, seqNo)
  w.stringField(0x12, target, tl)
  w.stringField(0x1a, targetAddr, al)
  w.uintField(0x20, 1)
  return w.buf
}

/** Encoded `Message` for an alive announcement. */
export function alive(a: Alive): Uint8Array {
  const inc = a.Incarnation ?? 0
  const node = a.Node ?? ''
  const addr = a.Addr ?? ''
  const meta = a.Meta ?? NO_META
  const nl = utf8Length(node)
  const al = utf8Length(addr)
  const w = messageWriter(
    MESSAGE_TAG.Alive,
    uint64Field(inc) + lenField(nl) + lenField(al) + metaEntriesSize(meta),
  )
  w.uint64Field(0x08, inc)
  w.stringField(0x12, node, nl)
  w.stringField(0x1a, addr, al)
  writeMeta(w, 0x22, meta)
  return w.buf
}

function accusation(tag: number, s: Suspect | Dead): Uint8Array {
  const inc = s.Incarnation ?? 0
  const node = s.Node ?? ''
  const from = s.From ?? ''
  const nl = utf8Length(node)
  const fl = utf8Length(from)
  const w = messageWriter(tag, uint64Field(inc) + lenField(nl) + lenField(fl))
  w.uint64Field(0x08, inc)
  w.stringField(0x12, node, nl)
  w.stringField(0x1a, from, fl)
  return w.buf
}

/** Encoded `Message` for a suspicion. */
export const suspect = (s: Suspect): Uint8Array => accusation(MESSAGE_TAG.Suspect, s)

/** Encoded `Message` for a death or leave. */
export const dead = (d: Dead): Uint8Array => accusation(MESSAGE_TAG.Dead, d)

/** Encoded `Message` for a user broadcast. */
export function userEvent(from: string, boot: number, seq: number, data: Uint8Array): Uint8Array {
  const fl = utf8Length(from)
  const w = messageWriter(
    MESSAGE_TAG.UserEvent,
    lenField(fl) + uintField(boot) + uintField(seq) + lenField(data.byteLength),
  )
  w.stringField(0x0a, from, fl)
  w.uintField(0x10, boot)
  w.uintField(0x18, seq)
  if (data.byteLength > 0) {
    w.byte(0x22)
    w.varint(data.byteLength)
    w.bytes(data)
  }
  return w.buf
}

/** What a push-pull says about one member (a member table record). */
export interface PushRecord {
  readonly id: string
  readonly address: string
  readonly incarnation: number
  readonly state: MemberState
  readonly meta: Readonly<Record<string, string>>
}

const STATE_TO_WIRE: Record<MemberState, number> = {
  alive: pb.NodeState.ALIVE,
  suspect: pb.NodeState.SUSPECT,
  dead: pb.NodeState.DEAD,
  left: pb.NodeState.LEFT,
}

/**
 * Encoded `Message` for a push-pull state exchange, written straight from the member
 * records, in the map's order: a pass for the sizes, then one for the bytes (no per-entry
 * objects, no meta copies).
 */
export function pushPull(
  join: boolean,
  from: string,
  records: { readonly size: number; values(): Iterable<PushRecord> },
): Uint8Array {
  const fl = utf8Length(from)
  const sizes = new Uint32Array(records.size)
  let body = (join ? 2 : 0) + lenField(fl)
  let i = 0
  for (const r of records.values()) {
    const size =
      lenField(utf8Length(r.id)) +
      lenField(utf8Length(r.address)) +
      uint64Field(r.incarnation) +
      uintField(STATE_TO_WIRE[r.state]) +
      metaEntriesSize(r.meta)
    sizes[i++] = size
    body += lenFieldAlways(size)
  }
  const w = messageWriter(MESSAGE_TAG.PushPull, body)
  if (join) w.uintField(0x08, 1)
  w.stringField(0x12, from, fl)
  i = 0
  for (const r of records.values()) {
    w.byte(0x1a)
    w.varint(sizes[i++]!)
    w.stringField(0x0a, r.id, utf8Length(r.id))
    w.stringField(0x12, r.address, utf8Length(r.address))
    w.uint64Field(0x18, r.incarnation)
    w.uintField(0x20, STATE_TO_WIRE[r.state])
    writeMeta(w, 0x2a, r.meta)
  }
  return w.buf
}

// Decoding.

const NO_META: Readonly<Record<string, string>> = Object.freeze({})

/**
 * Decodes a compound. Throws (any error) on malformed or truncated bytes, exactly where
 * protobufjs throws (a `RangeError` for reads past the end); the caller counts and drops.
 */
export function decodeCompound(bytes: Uint8Array): Message[] {
  try {
    return readCompound(new ByteReader(bytes))
  } catch {
    return fromGenerated(pb.Compound.decode(bytes).Messages)
  }
}

function readCompound(r: ByteReader): Message[] {
  const out: Message[] = []
  while (r.pos < r.limit) {
    const tag = r.tag()
    if (tag !== COMPOUND_TAG) {
      r.skip(tag & 7)
      continue
    }
    const end = r.lengthEnd()
    const outer = r.limit
    r.limit = end
    out.push(readMessage(r))
    r.limit = outer
  }
  return out
}

function readMessage(r: ByteReader): Message {
  let m: Message = { Body: undefined }
  while (r.pos < r.limit) {
    const tag = r.tag()
    const field = tag >>> 3
    if ((tag & 7) !== 2 || field > 9) {
      r.skip(tag & 7)
      continue
    }
    // A second body (the same one again or another) is for protobufjs to merge.
    if (m.Body !== undefined) throw new Error('repeated body')
    const end = r.lengthEnd()
    const outer = r.limit
    r.limit = end
    m = readBody(r, field)
    r.limit = outer
  }
  return m
}

function readBody(r: ByteReader, field: number): Message {
  switch (field) {
    case 1: {
      const p: PingBody = { SeqNo: 0, Target: '' }
      while (r.pos < r.limit) {
        const tag = r.tag()
        if (tag === 0x08) p.SeqNo = r.varint()
        else if (tag === 0x12) p.Target = r.string()
        else r.skip(tag & 7)
      }
      return { Body: 'Ping', Ping: p }
    }
    case 2: {
      const p: IndirectPingBody = { SeqNo: 0, Target: '', TargetAddr: '', Nack: false }
      while (r.pos < r.limit) {
        const tag = r.tag()
        if (tag === 0x08) p.SeqNo = r.varint()
        else if (tag === 0x12) p.Target = r.string()
        else if (tag === 0x1a) p.TargetAddr = r.string()
        else if (tag === 0x20) p.Nack = r.varint() !== 0
        else r.skip(tag & 7)
      }
      return { Body: 'IndirectPing', IndirectPing: p }
    }
    case 3:
    case 4: {
      const s: SeqBody = { SeqNo: 0 }
      while (r.pos < r.limit) {
        const tag = r.tag()
        if (tag === 0x08) s.SeqNo = r.varint()
        else r.skip(tag & 7)
      }
      return field === 3 ? { Body: 'Ack', Ack: s } : { Body: 'Nack', Nack: s }
    }
    case 5: {
      const a: AliveBody = {
        Incarnation: 0,
        Node: '',
        Addr: '',
        Meta: NO_META as Record<string, string>,
      }
      while (r.pos < r.limit) {
        const tag = r.tag()
        if (tag === 0x08) a.Incarnation = r.varint64()
        else if (tag === 0x12) a.Node = r.string()
        else if (tag === 0x1a) a.Addr = r.string()
        else if (tag === 0x22) {
          if (a.Meta === NO_META) a.Meta = {}
          readMetaEntry(r, a.Meta)
        } else r.skip(tag & 7)
      }
      return { Body: 'Alive', Alive: a }
    }
    case 6:
    case 7: {
      const s: AccusationBody = { Incarnation: 0, Node: '', From: '' }
      while (r.pos < r.limit) {
        const tag = r.tag()
        if (tag === 0x08) s.Incarnation = r.varint64()
        else if (tag === 0x12) s.Node = r.string()
        else if (tag === 0x1a) s.From = r.string()
        else r.skip(tag & 7)
      }
      return field === 6 ? { Body: 'Suspect', Suspect: s } : { Body: 'Dead', Dead: s }
    }
    case 8: {
      const u: UserEventBody = { From: '', Boot: 0, Seq: 0, Data: EMPTY }
      while (r.pos < r.limit) {
        const tag = r.tag()
        if (tag === 0x0a) u.From = r.string()
        else if (tag === 0x10) u.Boot = r.varint()
        else if (tag === 0x18) u.Seq = r.varint()
        else if (tag === 0x22) {
          const end = r.lengthEnd()
          u.Data = r.buf.subarray(r.pos, end)
          r.pos = end
        } else r.skip(tag & 7)
      }
      return { Body: 'UserEvent', UserEvent: u }
    }
    default: {
      const p: PushPullBody = { Join: false, From: '', Nodes: new PushNodes(r.buf) }
      while (r.pos < r.limit) {
        const tag = r.tag()
        if (tag === 0x08) p.Join = r.varint() !== 0
        else if (tag === 0x12) p.From = r.string()
        else if (tag === 0x1a) {
          const end = r.lengthEnd()
          const outer = r.limit
          r.limit = end
          p.Nodes.scan(r)
          r.limit = outer
        } else r.skip(tag & 7)
      }
      return { Body: 'PushPull', PushPull: p }
    }
  }
}

const EMPTY = new Uint8Array(0)

// protobufjs's objects (input the hand reader did not take) in the decoded shape.

const num = (v: number | Long | null | undefined): number =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber()

function fromGenerated(msgs: readonly rony.gossip.IMessage[]): Message[] {
  return msgs.map((m): Message => {
    const g = m as rony.gossip.Message
    switch (g.Body) {
      case 'Ping':
        return { Body: 'Ping', Ping: { SeqNo: g.Ping?.SeqNo ?? 0, Target: g.Ping?.Target ?? '' } }
      case 'IndirectPing': {
        const p = g.IndirectPing
        return {
          Body: 'IndirectPing',
          IndirectPing: {
            SeqNo: p?.SeqNo ?? 0,
            Target: p?.Target ?? '',
            TargetAddr: p?.TargetAddr ?? '',
            Nack: p?.Nack ?? false,
          },
        }
      }
      case 'Ack':
        return { Body: 'Ack', Ack: { SeqNo: g.Ack?.SeqNo ?? 0 } }
      case 'Nack':
        return { Body: 'Nack', Nack: { SeqNo: g.Nack?.SeqNo ?? 0 } }
      case 'Alive': {
        const a = g.Alive
        return {
          Body: 'Alive',
          Alive: {
            Incarnation: num(a?.Incarnation),
            Node: a?.Node ?? '',
            Addr: a?.Addr ?? '',
            Meta: (a?.Meta ?? NO_META) as Record<string, string>,
          },
        }
      }
      case 'Suspect':
      case 'Dead': {
        const s = g.Body === 'Suspect' ? g.Suspect : g.Dead
        const body = { Incarnation: num(s?.Incarnation), Node: s?.Node ?? '', From: s?.From ?? '' }
        return g.Body === 'Suspect'
          ? { Body: 'Suspect', Suspect: body }
          : { Body: 'Dead', Dead: body }
      }
      case 'UserEvent': {
        const u = g.UserEvent
        return {
          Body: 'UserEvent',
          UserEvent: {
            From: u?.From ?? '',
            Boot: u?.Boot ?? 0,
            Seq: u?.Seq ?? 0,
            Data: u?.Data ?? EMPTY,
          },
        }
      }
      case 'PushPull': {
        const p = g.PushPull
        return {
          Body: 'PushPull',
          PushPull: {
            Join: p?.Join ?? false,
            From: p?.From ?? '',
            Nodes: PushNodes.of(p?.Nodes ?? []),
          },
        }
      }
      default:
        return { Body: undefined }
    }
  })
}
