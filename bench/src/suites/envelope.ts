import {
  constructorOf,
  crc64,
  decodeContainer,
  decodeEnvelope,
  encodeContainer,
  encodeEnvelope,
  rony,
} from '@rony/envelope'
import Long from 'long'
import protobuf from 'protobufjs'
import type { Suite } from '../harness.ts'
import { sink } from '../sink.ts'

/**
 * The envelope codec against the ways a Node user would otherwise carry the same data:
 * protobufjs static code, protobufjs reflection, and JSON. Every case ends with the same
 * values in hand: bigint ids and the payload bytes.
 */

const PROTO = new URL('../../../proto/rony/envelope.proto', import.meta.url).pathname
const reflected = protobuf.Root.fromJSON(protobuf.loadSync(PROTO).toJSON())
const ReflectedEnvelope = reflected.lookupType('rony.MessageEnvelope')
const ReflectedContainer = reflected.lookupType('rony.MessageContainer')

const payload = Uint8Array.from({ length: 256 }, (_, i) => (i * 31 + 7) & 0xff)
const ctor = constructorOf('EchoRequest')
const requestId = 0x1234_5678_9abc_def0n

const toLong = (value: bigint): Long =>
  Long.fromBits(Number(value & 0xffff_ffffn) | 0, Number(value >> 32n) | 0, true)
const fromLong = (value: Long | number): bigint =>
  typeof value === 'number'
    ? BigInt(value)
    : (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0)

type LongFields = { Constructor: Long | number; RequestID: Long | number; Message: Uint8Array }

function keep(ctorOut: bigint, requestIdOut: bigint, message: Uint8Array): void {
  if (ctorOut !== ctor || requestIdOut !== requestId || message.length !== 256) {
    throw new Error('benchmark case decoded the wrong values')
  }
  sink(message)
}

function jsonRoundTrip(): void {
  const text = JSON.stringify({
    constructor: ctor.toString(),
    requestId: requestId.toString(),
    message: Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('base64'),
  })
  const parsed = JSON.parse(text) as { constructor: string; requestId: string; message: string }
  keep(BigInt(parsed.constructor), BigInt(parsed.requestId), Buffer.from(parsed.message, 'base64'))
}

export const envelopeSuite: Suite = {
  name: 'envelope encode+decode, 256-byte payload',
  description:
    'One MessageEnvelope (uint64 ctor, fixed64 requestId, 256 B message) encoded and decoded back to bigint ids and bytes.',
  baseline: 'rony',
  cases: [
    {
      name: 'rony',
      batch: 100,
      fn: () => {
        const e = decodeEnvelope(encodeEnvelope({ ctor, requestId, message: payload }))
        keep(e.ctor, e.requestId, e.message)
      },
    },
    {
      name: 'protobufjs static',
      batch: 100,
      fn: () => {
        const bytes = rony.MessageEnvelope.encode({
          Constructor: toLong(ctor),
          RequestID: toLong(requestId),
          Message: payload,
        }).finish()
        const e = rony.MessageEnvelope.decode(bytes)
        keep(fromLong(e.Constructor), fromLong(e.RequestID), e.Message)
      },
    },
    {
      name: 'protobufjs reflection',
      batch: 100,
      fn: () => {
        const bytes = ReflectedEnvelope.encode(
          ReflectedEnvelope.create({
            Constructor: toLong(ctor),
            RequestID: toLong(requestId),
            Message: payload,
          }),
        ).finish()
        const e = ReflectedEnvelope.decode(bytes) as unknown as LongFields
        keep(fromLong(e.Constructor), fromLong(e.RequestID), e.Message)
      },
    },
    { name: 'JSON.stringify/parse', batch: 100, fn: jsonRoundTrip },
  ],
  goals: [
    { case: 'rony', maxNs: 1000 },
    { case: 'rony', fasterThan: 'JSON.stringify/parse', factor: 2 },
  ],
}

const sixteen = Array.from({ length: 16 }, (_, i) => ({
  ctor,
  requestId: requestId + BigInt(i),
  message: payload,
}))

function keepAll(decoded: { ctor: bigint; requestId: bigint; message: Uint8Array }[]): void {
  if (decoded.length !== 16 || decoded[15]?.requestId !== requestId + 15n) {
    throw new Error('benchmark case decoded the wrong values')
  }
  sink(decoded)
}

export const containerSuite: Suite = {
  name: 'container of 16 envelopes, encode+decode',
  description: 'A MessageContainer of 16 envelopes with 256 B payloads each, encoded and decoded.',
  baseline: 'rony',
  cases: [
    {
      name: 'rony',
      batch: 10,
      fn: () => keepAll(decodeContainer(encodeContainer({ envelopes: sixteen })).envelopes),
    },
    {
      name: 'protobufjs static',
      batch: 10,
      fn: () => {
        const bytes = rony.MessageContainer.encode({
          Length: 16,
          Envelopes: sixteen.map((e) => ({
            Constructor: toLong(e.ctor),
            RequestID: toLong(e.requestId),
            Message: e.message,
          })),
        }).finish()
        const decoded = rony.MessageContainer.decode(bytes).Envelopes.map((e) => ({
          ctor: fromLong(e.Constructor as Long),
          requestId: fromLong(e.RequestID as Long),
          message: e.Message as Uint8Array,
        }))
        keepAll(decoded)
      },
    },
    {
      name: 'protobufjs reflection',
      batch: 10,
      fn: () => {
        const bytes = ReflectedContainer.encode(
          ReflectedContainer.create({
            Length: 16,
            Envelopes: sixteen.map((e) => ({
              Constructor: toLong(e.ctor),
              RequestID: toLong(e.requestId),
              Message: e.message,
            })),
          }),
        ).finish()
        const { Envelopes } = ReflectedContainer.decode(bytes) as unknown as {
          Envelopes: LongFields[]
        }
        keepAll(
          Envelopes.map((e) => ({
            ctor: fromLong(e.Constructor),
            requestId: fromLong(e.RequestID),
            message: e.Message,
          })),
        )
      },
    },
    {
      name: 'JSON.stringify/parse',
      batch: 10,
      fn: () => {
        const text = JSON.stringify({
          envelopes: sixteen.map((e) => ({
            constructor: e.ctor.toString(),
            requestId: e.requestId.toString(),
            message: Buffer.from(e.message.buffer, e.message.byteOffset, e.message.length).toString(
              'base64',
            ),
          })),
        })
        const parsed = JSON.parse(text) as {
          envelopes: { constructor: string; requestId: string; message: string }[]
        }
        keepAll(
          parsed.envelopes.map((e) => ({
            ctor: BigInt(e.constructor),
            requestId: BigInt(e.requestId),
            message: Buffer.from(e.message, 'base64'),
          })),
        )
      },
    },
  ],
  goals: [{ case: 'rony', fasterThan: 'JSON.stringify/parse', factor: 2 }],
}

/** A bit-at-a-time BigInt CRC-64/GO-ISO: what a straightforward port would do. */
function naiveCrc64(bytes: Uint8Array): bigint {
  const mask = 0xffff_ffff_ffff_ffffn
  let crc = mask
  for (const byte of bytes) {
    crc ^= BigInt(byte)
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ 0xd800000000000000n : crc >> 1n
  }
  return crc ^ mask
}

const nameBytes = new TextEncoder().encode('EchoRequest')

export const constructorSuite: Suite = {
  name: 'constructorOf',
  description: "CRC-64/GO-ISO of 'EchoRequest' (11 bytes) to a bigint constructor id.",
  baseline: 'constructorOf',
  cases: [
    { name: 'constructorOf', batch: 100, fn: () => sink(constructorOf('EchoRequest')) },
    { name: 'crc64 (pre-encoded bytes)', batch: 100, fn: () => sink(crc64(nameBytes)) },
    { name: 'naive BigInt bitwise', batch: 10, fn: () => sink(naiveCrc64(nameBytes)) },
  ],
}
