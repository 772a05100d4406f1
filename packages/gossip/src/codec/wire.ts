import type Long from 'long'
import { rony } from '../gen/gossip.js'

/**
 * Packet codec: every UDP packet and every stream message is one `rony.gossip.Compound`
 * (proto/rony/gossip.proto), built by concatenating already-encoded `Message`s. A repeated
 * message field is `tag, varint length, bytes` per element, so a compound is assembled from
 * cached encodings without re-encoding (broadcasts are encoded once, sent many times), and
 * its size is known exactly before it is built.
 */

const pb = rony.gossip

/** A message as the member table takes it: its incarnation already checked, a number. */
type Checked<T> = Omit<T, 'Incarnation'> & { Incarnation?: number | null }

export type Message = rony.gossip.Message
export type Alive = Checked<rony.gossip.Alive.$Properties>
export type Suspect = Checked<rony.gossip.Suspect.$Properties>
export type Dead = Checked<rony.gossip.Dead.$Properties>
export type PushNode = rony.gossip.PushNode.$Properties
export type PushPull = rony.gossip.PushPull.$Properties
export const NodeStateWire = pb.NodeState

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

/** Bytes a varint of `n` (an unsigned 32-bit integer) takes. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1
  if (n < 0x4000) return 2
  if (n < 0x200000) return 3
  if (n < 0x10000000) return 4
  return 5
}

/** Bytes one encoded message takes inside a compound. */
export function framedSize(encoded: Uint8Array): number {
  return 1 + varintSize(encoded.byteLength) + encoded.byteLength
}

/** Encodes one `Message` (a oneof of every protocol message). */
export function encodeMessage(msg: rony.gossip.Message.$Properties): Uint8Array {
  return pb.Message.encode(msg).finish()
}

/** Concatenates encoded messages into one `Compound`. */
export function buildCompound(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0
  for (const p of parts) size += framedSize(p)
  const out = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    out[at++] = COMPOUND_TAG
    let n = p.byteLength
    while (n >= 0x80) {
      out[at++] = (n & 0x7f) | 0x80
      n >>>= 7
    }
    out[at++] = n
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

/**
 * Decodes a compound. Throws (any error) on malformed or truncated bytes; the caller counts
 * and drops, never lets it escape.
 */
export function decodeCompound(bytes: Uint8Array): Message[] {
  return pb.Compound.decode(bytes).Messages as Message[]
}

/** Encoded size of a metadata map, as measured against `maxMetaBytes`. */
export function metaSize(meta: Readonly<Record<string, string>>): number {
  return pb.Meta.encode({ Entries: { ...meta } }).finish().byteLength
}

/** Encoded `Message` for a ping. */
export const ping = (seqNo: number, target: string): Uint8Array =>
  encodeMessage({ Ping: { SeqNo: seqNo, Target: target } })

/** Encoded `Message` for an ack. */
export const ack = (seqNo: number): Uint8Array => encodeMessage({ Ack: { SeqNo: seqNo } })

/** Encoded `Message` for a nack. */
export const nack = (seqNo: number): Uint8Array => encodeMessage({ Nack: { SeqNo: seqNo } })

/** Encoded `Message` for an indirect ping request. */
export const indirectPing = (seqNo: number, target: string, targetAddr: string): Uint8Array =>
  encodeMessage({
    IndirectPing: { SeqNo: seqNo, Target: target, TargetAddr: targetAddr, Nack: true },
  })

/** Encoded `Message` for an alive announcement. */
export const alive = (a: Alive): Uint8Array => encodeMessage({ Alive: a })

/** Encoded `Message` for a suspicion. */
export const suspect = (s: Suspect): Uint8Array => encodeMessage({ Suspect: s })

/** Encoded `Message` for a death or leave. */
export const dead = (d: Dead): Uint8Array => encodeMessage({ Dead: d })

/** Encoded `Message` for a push-pull state exchange. */
export const pushPull = (p: PushPull): Uint8Array => encodeMessage({ PushPull: p })

/** Encoded `Message` for a user broadcast. */
export const userEvent = (from: string, boot: number, seq: number, data: Uint8Array): Uint8Array =>
  encodeMessage({ UserEvent: { From: from, Boot: boot, Seq: seq, Data: data } })
