import { disabledLogger, type MemberState, type Random } from '@rony/interface'
import { seededRandom, virtualClock } from '@rony/transport'
import Long from 'long'
import { describe, expect, it } from 'vitest'
import { Awareness } from '../src/awareness.js'
import { BroadcastQueue } from '../src/broadcast/queue.js'
import { setMeta } from '../src/codec/bytes.js'
import { frameMessages } from '../src/codec/crypto.js'
import * as wire from '../src/codec/wire.js'
import { rony } from '../src/gen/gossip.js'
import { resolveConfig } from '../src/options.js'
import { MemberTable } from '../src/state/table.js'

/**
 * The hand-written codec against the generated protobufjs code: the same bytes out for any
 * input; in, the same messages for any field order, unknown fields and defaults, and for
 * malformed bytes the same outcome (the same error class, or the same messages).
 */

const pb = rony.gossip
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

const STRINGS = [
  '',
  'n1',
  'memory:n12',
  'é',
  '日本',
  '😀x',
  '\u{d800}',
  'a'.repeat(70),
  'ü'.repeat(70),
]
const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r.next() * xs.length)]!
const int = (r: Random, max: number) => Math.floor(r.next() * max)
const str = (r: Random, strings = STRINGS) =>
  r.next() < 0.3 ? `m${int(r, 1000)}` : pick(r, strings)
/** What UTF-8 can carry (a lone surrogate cannot: both decoders refuse what it encodes to). */
const VALID = STRINGS.filter((s) => !/\p{Cs}/u.test(s))
const u32 = (r: Random) =>
  pick(r, [0, 1, 127, 128, 300, 2 ** 21, 2 ** 28, 2 ** 32 - 1, int(r, 2 ** 32)])
const inc = (r: Random) =>
  pick(r, [0, 1, 127, 128, 2 ** 31, 2 ** 32, 2 ** 35 + 3, wire.MAX_INCARNATION, int(r, 2 ** 53)])
function meta(r: Random, strings = STRINGS): Record<string, string> {
  const m: Record<string, string> = {}
  const n = r.next() < 0.5 ? 0 : int(r, 4)
  for (let i = 0; i < n; i++)
    setMeta(m, r.next() < 0.1 ? '__proto__' : str(r, strings), str(r, strings))
  return m
}

describe('hand codec: encoding', () => {
  it('writes every message byte for byte as protobufjs does', () => {
    const r = seededRandom(11)
    for (let i = 0; i < 400; i++) {
      const seq = u32(r)
      const target = str(r)
      const addr = str(r)
      const a = { Incarnation: inc(r), Node: str(r), Addr: str(r), Meta: meta(r) }
      const s = { Incarnation: inc(r), Node: str(r), From: str(r) }
      const data = new Uint8Array(pick(r, [0, 1, 200])).fill(int(r, 256))
      const cases: [Uint8Array, rony.gossip.Message.$Properties][] = [
        [wire.ping(seq, target), { Ping: { SeqNo: seq, Target: target } }],
        [wire.ack(seq), { Ack: { SeqNo: seq } }],
        [wire.nack(seq), { Nack: { SeqNo: seq } }],
        [
          wire.indirectPing(seq, target, addr),
          { IndirectPing: { SeqNo: seq, Target: target, TargetAddr: addr, Nack: true } },
        ],
        [wire.alive(a), { Alive: a }],
        [wire.suspect(s), { Suspect: s }],
        [wire.dead(s), { Dead: s }],
        [
          wire.userEvent(target, seq, u32(r) & 0, data),
          { UserEvent: { From: target, Boot: seq, Seq: 0, Data: data } },
        ],
      ]
      for (const [mine, props] of cases)
        expect(hex(mine)).toBe(hex(pb.Message.encode(props).finish()))
      expect(wire.metaSize(a.Meta)).toBe(
        pb.Meta.encode({ Entries: { ...a.Meta } }).finish().byteLength,
      )
    }
  })

  it('writes a push-pull straight from the records as protobufjs writes the same entries', () => {
    const r = seededRandom(12)
    const states: MemberState[] = ['alive', 'suspect', 'dead', 'left']
    const wireState = { alive: 0, suspect: 1, dead: 2, left: 3 }
    for (let i = 0; i < 50; i++) {
      const records = new Map<string, wire.PushRecord>()
      for (let k = int(r, 40); k > 0; k--) {
        const id = str(r)
        records.set(id, {
          id,
          address: str(r),
          incarnation: inc(r),
          state: pick(r, states),
          meta: meta(r),
        })
      }
      const join = r.next() < 0.5
      const from = str(r)
      const generated = pb.Message.encode({
        PushPull: {
          Join: join,
          From: from,
          Nodes: [...records.values()].map((x) => ({
            Node: x.id,
            Addr: x.address,
            Incarnation: x.incarnation,
            State: wireState[x.state],
            Meta: { ...x.meta },
          })),
        },
      }).finish()
      expect(hex(wire.pushPull(join, from, records))).toBe(hex(generated))
    }
  })

  it('frames parts and piggybacked messages in one compound', () => {
    const parts = [wire.ping(1, 'n1')]
    const extra = [wire.ack(2), wire.alive({ Incarnation: 3, Node: 'n2', Addr: 'memory:n2' })]
    const out = frameMessages(undefined, parts, extra)
    expect(out[0]).toBe(0)
    expect(hex(out.subarray(1))).toBe(hex(wire.buildCompound([...parts, ...extra])))
  })
})

// Decoding: protobufjs's bytes, then the same fields shuffled and salted with unknown ones.

type Kind = 'Compound' | 'Message' | 'Alive' | 'PushPull' | 'PushNode' | 'Body' | 'Entry'
/** Which fields hold nested messages, so that those are shuffled and salted too. */
const NESTED: Record<Kind, Record<number, Kind>> = {
  Compound: { 1: 'Message' },
  Message: {
    1: 'Body',
    2: 'Body',
    3: 'Body',
    4: 'Body',
    5: 'Alive',
    6: 'Body',
    7: 'Body',
    8: 'Body',
    9: 'PushPull',
  },
  Alive: { 4: 'Entry' },
  PushPull: { 3: 'PushNode' },
  PushNode: { 5: 'Entry' },
  Body: {},
  Entry: {},
}

function varint(n: number): number[] {
  const out: number[] = []
  let v = n
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.push(v)
  return out
}

/** Splits a message into its fields (raw bytes each) with protobufjs's reader. */
function fields(
  bytes: Uint8Array,
): { num: number; type: number; raw: number[]; body?: Uint8Array }[] {
  const out: { num: number; type: number; raw: number[]; body?: Uint8Array }[] = []
  let pos = 0
  const readVar = () => {
    let v = 0
    let mul = 1
    for (;;) {
      const b = bytes[pos++]!
      v += (b & 0x7f) * mul
      mul *= 128
      if (b < 0x80) return v
    }
  }
  while (pos < bytes.length) {
    const start = pos
    const tag = readVar()
    const type = tag & 7
    let body: Uint8Array | undefined
    if (type === 0) readVar()
    else if (type === 1) pos += 8
    else if (type === 5) pos += 4
    else {
      const len = readVar()
      body = bytes.subarray(pos, pos + len)
      pos += len
    }
    out.push({
      num: tag >>> 3,
      type,
      raw: [...bytes.subarray(start, pos)],
      ...(body ? { body } : {}),
    })
  }
  return out
}

/** Shuffles the fields of `bytes` (repeated ones keep their order) and adds unknown ones. */
function scramble(r: Random, bytes: Uint8Array, kind: Kind): Uint8Array {
  const fs = fields(bytes).map((f) => {
    const nested = NESTED[kind][f.num]
    if (nested === undefined || f.body === undefined) return f
    const inner = scramble(r, f.body, nested)
    return { ...f, raw: [...varint((f.num << 3) | 2), ...varint(inner.length), ...inner] }
  })
  // Keep repeated fields in order: shuffle groups by field number, not elements.
  const groups = new Map<number, number[][]>()
  for (const f of fs) groups.set(f.num, [...(groups.get(f.num) ?? []), f.raw])
  const order = [...groups.keys()]
  for (let i = order.length - 1; i > 0; i--) {
    const j = int(r, i + 1)
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const out: number[] = []
  for (const num of order) for (const raw of groups.get(num)!) out.push(...raw)
  if (kind !== 'Compound' && r.next() < 0.5) {
    const num = 20 + int(r, 100)
    const type = pick(r, [0, 1, 2, 5])
    const value =
      type === 0
        ? varint(int(r, 2 ** 40))
        : type === 1
          ? Array(8).fill(7)
          : type === 5
            ? [1, 2, 3, 4]
            : [3, 9, 9, 9]
    out.splice(pick(r, [0, out.length]), 0, ...varint((num << 3) | type), ...value)
  }
  return Uint8Array.from(out)
}

/** protobufjs's decoded compound in the hand decoder's shape (push-pull entries read out). */
function normalize(msgs: readonly unknown[]): unknown[] {
  const num = (v: unknown) =>
    v === undefined || v === null ? 0 : typeof v === 'number' ? v : (v as Long).toNumber()
  return msgs.map((raw) => {
    const m = raw as Record<string, Record<string, unknown> | string | undefined>
    const body = m.Body as string | undefined
    if (body === undefined) return { Body: undefined }
    const b = m[body] as Record<string, unknown>
    const defaults: Record<string, Record<string, unknown>> = {
      Ping: { SeqNo: 0, Target: '' },
      IndirectPing: { SeqNo: 0, Target: '', TargetAddr: '', Nack: false },
      Ack: { SeqNo: 0 },
      Nack: { SeqNo: 0 },
      Alive: { Incarnation: 0, Node: '', Addr: '', Meta: {} },
      Suspect: { Incarnation: 0, Node: '', From: '' },
      Dead: { Incarnation: 0, Node: '', From: '' },
      UserEvent: { From: '', Boot: 0, Seq: 0, Data: new Uint8Array(0) },
      PushPull: { Join: false, From: '', Nodes: [] },
    }
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(defaults[body]!)) out[k] = b[k] ?? defaults[body]![k]
    if ('Incarnation' in out) out.Incarnation = num(out.Incarnation)
    if (body === 'Alive') out.Meta = { ...(out.Meta as object) }
    if (body === 'UserEvent') out.Data = [...(out.Data as Uint8Array)]
    if (body === 'PushPull') {
      out.Nodes = (out.Nodes as rony.gossip.IPushNode[]).map((n) => ({
        id: n.Node ?? '',
        incarnation: num(n.Incarnation),
        state: n.State ?? 0,
        addr: n.Addr ?? '',
        meta: { ...n.Meta },
      }))
    }
    return { Body: body, [body]: out }
  })
}

/** The hand decoder's messages, comparable with `normalize`'s. */
function mine(msgs: wire.Message[]): unknown[] {
  return msgs.map((m) => {
    if (m.Body === undefined) return { Body: undefined }
    const b = { ...((m as Record<string, unknown>)[m.Body] as Record<string, unknown>) }
    if (m.Body === 'Alive') b.Meta = { ...m.Alive.Meta }
    if (m.Body === 'UserEvent') b.Data = [...m.UserEvent.Data]
    if (m.Body === 'PushPull') {
      const n = m.PushPull.Nodes
      b.Nodes = n.ids.map((id, i) => ({
        id,
        incarnation: n.incarnations[i],
        state: n.states[i],
        addr: n.addr(i),
        meta: { ...n.meta(i) },
      }))
    }
    return { Body: m.Body, [m.Body]: b }
  })
}

function randomMessage(r: Random): rony.gossip.Message.$Properties {
  const bigInc = () =>
    r.next() < 0.2
      ? Long.fromString(pick(r, ['9007199254740993', '18446744073709551615']), true)
      : inc(r)
  switch (int(r, 9)) {
    case 0:
      return { Ping: { SeqNo: u32(r), Target: str(r, VALID) } }
    case 1:
      return {
        IndirectPing: {
          SeqNo: u32(r),
          Target: str(r, VALID),
          TargetAddr: str(r, VALID),
          Nack: r.next() < 0.5,
        },
      }
    case 2:
      return { Ack: { SeqNo: u32(r) } }
    case 3:
      return { Nack: { SeqNo: u32(r) } }
    case 4:
      return {
        Alive: {
          Incarnation: bigInc(),
          Node: str(r, VALID),
          Addr: str(r, VALID),
          Meta: meta(r, VALID),
        },
      }
    case 5:
      return { Suspect: { Incarnation: bigInc(), Node: str(r, VALID), From: str(r, VALID) } }
    case 6:
      return { Dead: { Incarnation: bigInc(), Node: str(r, VALID), From: str(r, VALID) } }
    case 7:
      return {
        UserEvent: {
          From: str(r, VALID),
          Boot: u32(r),
          Seq: u32(r),
          Data: new Uint8Array(int(r, 5)).fill(9),
        },
      }
    default:
      return {
        PushPull: {
          Join: r.next() < 0.5,
          From: str(r, VALID),
          Nodes: Array.from({ length: int(r, 6) }, () => ({
            Node: str(r, VALID),
            Addr: str(r, VALID),
            Incarnation: bigInc(),
            State: int(r, 5),
            Meta: meta(r, VALID),
          })),
        },
      }
  }
}

const outcome = (decode: () => unknown[]): unknown => {
  try {
    return decode()
  } catch (err) {
    return err instanceof RangeError ? 'RangeError' : 'Error'
  }
}

describe('hand codec: decoding', () => {
  it('reads any field order, unknown fields and defaults as protobufjs does', () => {
    const r = seededRandom(21)
    for (let i = 0; i < 500; i++) {
      const msgs = Array.from({ length: 1 + int(r, 3) }, () => randomMessage(r))
      const bytes = scramble(r, pb.Compound.encode({ Messages: msgs }).finish(), 'Compound')
      expect(mine(wire.decodeCompound(bytes))).toEqual(
        normalize(pb.Compound.decode(bytes).Messages),
      )
    }
  })

  it('on damaged bytes, fails or succeeds exactly as protobufjs does (never another way)', () => {
    const r = seededRandom(22)
    let failed = 0
    for (let i = 0; i < 3_000; i++) {
      const msgs = Array.from({ length: 1 + int(r, 2) }, () => randomMessage(r))
      const good = pb.Compound.encode({ Messages: msgs }).finish()
      const bytes = Uint8Array.from(good)
      const how = int(r, 3)
      if (how === 0) bytes[int(r, bytes.length)] = int(r, 256)
      else if (how === 1) {
        const at = int(r, bytes.length)
        bytes[at] = bytes[at]! ^ (1 << int(r, 8))
      }
      const cut = how === 2 ? bytes.subarray(0, int(r, bytes.length)) : bytes
      const theirs = outcome(() => normalize(pb.Compound.decode(cut).Messages))
      if (typeof theirs === 'string') failed++
      expect(outcome(() => mine(wire.decodeCompound(cut)))).toEqual(theirs)
    }
    expect(failed).toBeGreaterThan(300)
  })

  it('hands a repeated body, a group or a long varint to protobufjs', () => {
    const ping = pb.Message.encode({ Ping: { SeqNo: 1, Target: 'a' } }).finish()
    const ack = pb.Message.encode({ Ack: { SeqNo: 2 } }).finish()
    const twice = Uint8Array.from([0x0a, ping.length + ack.length, ...ping, ...ack])
    expect(mine(wire.decodeCompound(twice))).toEqual(normalize(pb.Compound.decode(twice).Messages))
    // Ack with SeqNo as a 10-byte varint (protobufjs keeps the low 32 bits).
    const long = Uint8Array.from([
      0x0a, 13, 0x1a, 11, 0x08, 0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
    ])
    expect(mine(wire.decodeCompound(long))).toEqual(normalize(pb.Compound.decode(long).Messages))
    // A group (field 20) inside an Ack.
    const group = Uint8Array.from([0x0a, 6, 0x1a, 4, 0xa3, 0x01, 0xa4, 0x01])
    expect(mine(wire.decodeCompound(group))).toEqual(normalize(pb.Compound.decode(group).Messages))
  })
})

// The streaming merge against the merge it replaced (objects applied one by one).

function table() {
  const clock = virtualClock({ now: 1_000_000 })
  const cfg = resolveConfig({ id: 'local', advertise: 'memory:local' })
  const log: string[] = []
  const events = {
    join: (m: { id: string }) => log.push(`join ${m.id}`),
    update: (m: { id: string }) => log.push(`update ${m.id}`),
    suspect: (m: { id: string }) => log.push(`suspect ${m.id}`),
    leave: (m: { id: string }, why: string) => log.push(`leave ${m.id} ${why}`),
  }
  const queue = new BroadcastQueue()
  const t = new MemberTable(cfg, clock, new Awareness(8), queue, events, disabledLogger)
  return { t, log, queue }
}

/**
 * The merge before the hand codec: every entry a message object, applied in turn (with the
 * one rule added since: a table that knows no other live member gossips none of it).
 */
function objectMerge(t: MemberTable, nodes: rony.gossip.IPushNode[]): number {
  const spread = t.liveCount() > 1
  let refused = 0
  for (const n of nodes) {
    const state = n.State ?? 0
    const inc = wire.incarnationOf(n.Incarnation, state !== 0)
    if (inc === undefined) {
      refused++
      continue
    }
    const base = { Incarnation: inc, Node: n.Node ?? '' }
    if (state === 0) t.alive({ ...base, Addr: n.Addr ?? '', Meta: n.Meta ?? {} }, spread)
    else if (state === 3) t.dead({ ...base, From: base.Node })
    else t.suspect({ ...base, From: t.local.id })
  }
  return refused
}

const view = (t: MemberTable) => [...t.nodes.values()].map((r) => ({ ...r }))

describe('streaming push-pull merge', () => {
  it('leaves the table, its events and its queue exactly as the object merge did', () => {
    const r = seededRandom(31)
    const ids = ['local', ...Array.from({ length: 12 }, (_, i) => `m${i}`)]
    for (let round = 0; round < 200; round++) {
      const a = table()
      const b = table()
      // The same history on both, then the same push-pull.
      for (let k = 0; k < 3; k++) {
        const nodes = Array.from({ length: int(r, 15) }, () => ({
          Node: pick(r, ids),
          Addr: `memory:${pick(r, ['x', 'y'])}`,
          Incarnation: r.next() < 0.05 ? Long.fromString('9007199254740993', true) : int(r, 4),
          State: pick(r, [0, 0, 0, 1, 2, 3, 7]),
          Meta: r.next() < 0.3 ? { role: pick(r, ['db', 'web']) } : {},
        }))
        const bytes = pb.Message.encode({ PushPull: { From: 'peer', Nodes: nodes } }).finish()
        const [m] = wire.decodeCompound(wire.buildCompound([bytes]))
        if (m?.Body !== 'PushPull') throw new Error('not a push-pull')
        expect(b.t.merge(m.PushPull.Nodes)).toBe(objectMerge(a.t, nodes))
      }
      expect(view(b.t)).toEqual(view(a.t))
      expect(b.log).toEqual(a.log)
      expect(b.queue.take(1e9, 100).map(hex)).toEqual(a.queue.take(1e9, 100).map(hex))
      a.t.close()
      b.t.close()
    }
  })

  it('reads no address or meta of an entry that brings nothing new', () => {
    const { t } = table()
    t.alive({ Node: 'm1', Addr: 'memory:m1', Incarnation: 5 })
    const bytes = wire.pushPull(
      false,
      'peer',
      new Map([
        [
          'm1',
          { id: 'm1', address: 'memory:other', incarnation: 5, state: 'alive' as const, meta: {} },
        ],
      ]),
    )
    const [m] = wire.decodeCompound(wire.buildCompound([bytes]))
    if (m?.Body !== 'PushPull') throw new Error('not a push-pull')
    const nodes = m.PushPull.Nodes
    const read: string[] = []
    nodes.addr = (i) => {
      read.push(`addr ${i}`)
      return 'memory:other'
    }
    nodes.meta = (i) => {
      read.push(`meta ${i}`)
      return {}
    }
    t.merge(nodes)
    expect(read).toEqual([])
    expect(t.nodes.get('m1')?.address).toBe('memory:m1')
  })
})
