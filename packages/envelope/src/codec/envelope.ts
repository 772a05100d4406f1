import { invalidEnvelope, RonyError } from '../errors.js'
import { DEFAULT_LIMITS, type EnvelopeLimits } from '../limits.js'
import { allocBytes } from './alloc.js'
import { WireReader } from './reader.js'
import {
  delimitedSize,
  stringFieldSize,
  Uint64Halves,
  varint32Size,
  varint64Size,
  writeBytes,
  writeFixed64,
  writeString,
  writeVarint32,
  writeVarint64,
} from './writer.js'

/**
 * The hot-path codec for `rony.MessageEnvelope` and `rony.MessageContainer`, written by
 * hand for speed and for exact 64-bit ids as bigint (the generated protobufjs classes
 * hold them as `Long`). Field numbers and wire types are those of proto/rony/envelope.proto;
 * tests check every byte against vectors written from that file and against the generated code.
 */

/** One header entry; order and duplicates are kept as on the wire. */
export interface KeyValue {
  key: string
  value: string
}

/** A decoded `MessageEnvelope`. Every field is present; absent ones hold their zero value. */
export interface Envelope {
  /** The payload's constructor id (CRC-64 of its message name). Wire field 1, uint64. */
  ctor: bigint
  /** Correlates a reply with its request; 0n for server-initiated updates. Field 2, fixed64. */
  requestId: bigint
  /** `message` holds protobuf JSON instead of binary protobuf. Field 3. */
  jsonEncoded: boolean
  /** The payload. A view into the decoded buffer, not a copy. Field 4. */
  message: Uint8Array
  /** Opaque credentials; carried, never interpreted. A view into the decoded buffer. Field 8. */
  auth: Uint8Array
  /** Field 10. */
  header: readonly KeyValue[]
}

/** What `encodeEnvelope` takes: `ctor` is required, every other field defaults to zero. */
export interface EnvelopeInit {
  ctor: bigint
  requestId?: bigint
  jsonEncoded?: boolean
  message?: Uint8Array
  auth?: Uint8Array
  header?: readonly KeyValue[]
}

/** A decoded `MessageContainer`. */
export interface Container {
  envelopes: Envelope[]
  /** Run the envelopes one after another instead of concurrently. */
  syncRun: boolean
}

export interface ContainerInit {
  envelopes: readonly EnvelopeInit[]
  syncRun?: boolean
}

const EMPTY_BYTES: Uint8Array = new Uint8Array(0)
const EMPTY_HEADER: readonly KeyValue[] = Object.freeze([])

// Tags: (field number << 3) | wire type.
const TAG_CONSTRUCTOR = 0x08 // 1, varint
const TAG_REQUEST_ID = 0x11 // 2, fixed64
const TAG_JSON_ENCODED = 0x18 // 3, varint
const TAG_MESSAGE = 0x22 // 4, bytes
const TAG_AUTH = 0x42 // 8, bytes
const TAG_HEADER = 0x52 // 10, bytes
const TAG_KEY = 0x0a // KeyValue.Key = 1
const TAG_VALUE = 0x12 // KeyValue.Value = 2
const TAG_LENGTH = 0x08 // MessageContainer.Length = 1, int32
const TAG_ENVELOPES = 0x12 // MessageContainer.Envelopes = 2
const TAG_SYNC_RUN = 0x18 // MessageContainer.SyncRun = 3

/**
 * An envelope measured for writing: sizing and writing share the split ids so each
 * bigint is taken apart once.
 */
interface Measured {
  init: EnvelopeInit
  size: number
  ctorLo: number
  ctorHi: number
  reqLo: number
  reqHi: number
}

const halves = new Uint64Halves()

function measure(init: EnvelopeInit): Measured {
  halves.load(init.ctor, 'ctor')
  const ctorLo = halves.lo
  const ctorHi = halves.hi
  let reqLo = 0
  let reqHi = 0
  if (init.requestId !== undefined) {
    halves.load(init.requestId, 'requestId')
    reqLo = halves.lo
    reqHi = halves.hi
  }
  let size = 0
  if (ctorLo !== 0 || ctorHi !== 0) size += 1 + varint64Size(ctorLo, ctorHi)
  if (reqLo !== 0 || reqHi !== 0) size += 9
  if (init.jsonEncoded) size += 2
  if (init.message?.length) size += 1 + delimitedSize(init.message.length)
  if (init.auth?.length) size += 1 + delimitedSize(init.auth.length)
  if (init.header) {
    for (const { key, value } of init.header) size += 1 + delimitedSize(keyValueSize(key, value))
  }
  return { init, size, ctorLo, ctorHi, reqLo, reqHi }
}

function keyValueSize(key: string, value: string): number {
  return (key ? stringFieldSize(key) : 0) + (value ? stringFieldSize(value) : 0)
}

/** Writes a measured envelope at `pos`; returns the position after it. */
function writeEnvelope(buf: Uint8Array, pos: number, m: Measured): number {
  const { init } = m
  if (m.ctorLo !== 0 || m.ctorHi !== 0) {
    buf[pos] = TAG_CONSTRUCTOR
    pos = writeVarint64(buf, pos + 1, m.ctorLo, m.ctorHi)
  }
  if (m.reqLo !== 0 || m.reqHi !== 0) {
    buf[pos] = TAG_REQUEST_ID
    pos = writeFixed64(buf, pos + 1, m.reqLo, m.reqHi)
  }
  if (init.jsonEncoded) {
    buf[pos] = TAG_JSON_ENCODED
    buf[pos + 1] = 1
    pos += 2
  }
  if (init.message?.length) {
    buf[pos] = TAG_MESSAGE
    pos = writeBytes(buf, pos + 1, init.message)
  }
  if (init.auth?.length) {
    buf[pos] = TAG_AUTH
    pos = writeBytes(buf, pos + 1, init.auth)
  }
  if (init.header) {
    for (const { key, value } of init.header) {
      buf[pos] = TAG_HEADER
      pos = writeVarint32(buf, pos + 1, keyValueSize(key, value))
      if (key) {
        buf[pos] = TAG_KEY
        pos = writeString(buf, pos + 1, key)
      }
      if (value) {
        buf[pos] = TAG_VALUE
        pos = writeString(buf, pos + 1, value)
      }
    }
  }
  return pos
}

/**
 * Encodes one `MessageEnvelope`. Throws `TypeError` for ids outside [0, 2^64).
 *
 * Small results are views into a shared slab (see `allocBytes`): send or copy the view
 * itself, never its `.buffer`, and do not transfer that buffer to a worker.
 */
export function encodeEnvelope(init: EnvelopeInit): Uint8Array {
  const measured = measure(init)
  const buf = allocBytes(measured.size)
  writeEnvelope(buf, 0, measured)
  return buf
}

/** Encodes one `MessageContainer` (its `Length` is set to the number of envelopes). */
export function encodeContainer(init: ContainerInit): Uint8Array {
  const measured = init.envelopes.map(measure)
  const count = measured.length
  let size = count > 0 ? 1 + varint32Size(count) : 0
  for (const m of measured) size += 1 + delimitedSize(m.size)
  if (init.syncRun) size += 2
  const buf = allocBytes(size)
  let pos = 0
  if (count > 0) {
    buf[pos] = TAG_LENGTH
    pos = writeVarint32(buf, pos + 1, count)
  }
  for (const m of measured) {
    buf[pos] = TAG_ENVELOPES
    pos = writeEnvelope(buf, writeVarint32(buf, pos + 1, m.size), m)
  }
  if (init.syncRun) {
    buf[pos] = TAG_SYNC_RUN
    buf[pos + 1] = 1
  }
  return buf
}

function readKeyValue(r: WireReader): KeyValue {
  const outer = r.limit(r.length())
  let key = ''
  let value = ''
  while (r.pos < r.end) {
    const tag = r.tag()
    if (tag === TAG_KEY) key = r.string()
    else if (tag === TAG_VALUE) value = r.string()
    else r.skip(tag)
  }
  r.end = outer
  return { key, value }
}

/** Reads envelope fields until `r.end`. */
function readEnvelope(r: WireReader): Envelope {
  let ctor = 0n
  let requestId = 0n
  let jsonEncoded = false
  let message = EMPTY_BYTES
  let auth = EMPTY_BYTES
  let header: KeyValue[] | undefined
  while (r.pos < r.end) {
    const tag = r.tag()
    switch (tag) {
      case TAG_CONSTRUCTOR:
        ctor = r.uint64()
        break
      case TAG_REQUEST_ID:
        requestId = r.fixed64()
        break
      case TAG_JSON_ENCODED:
        jsonEncoded = r.bool()
        break
      case TAG_MESSAGE:
        message = r.bytes()
        break
      case TAG_AUTH:
        auth = r.bytes()
        break
      case TAG_HEADER:
        header ??= []
        header.push(readKeyValue(r))
        break
      default:
        // Unknown fields, and known ones with an unexpected wire type, are skipped as
        // Go's proto.Unmarshal does.
        r.skip(tag)
    }
  }
  return { ctor, requestId, jsonEncoded, message, auth, header: header ?? EMPTY_HEADER }
}

function checkSize(bytes: Uint8Array, limits: EnvelopeLimits): void {
  if (!(bytes instanceof Uint8Array)) throw invalidEnvelope('expected a Uint8Array')
  if (bytes.length > limits.maxEnvelopeBytes) {
    throw invalidEnvelope(
      `${bytes.length} bytes exceed maxEnvelopeBytes (${limits.maxEnvelopeBytes})`,
      'RONY_ERR_ENVELOPE_TOO_LARGE',
    )
  }
}

/**
 * Decodes one `MessageEnvelope`. `message` and `auth` are views into `bytes`: copy them
 * before reusing the buffer. Throws only `RonyError` (E01/ENVELOPE).
 */
export function decodeEnvelope(
  bytes: Uint8Array,
  limits: Readonly<EnvelopeLimits> = DEFAULT_LIMITS,
): Envelope {
  checkSize(bytes, limits)
  return readEnvelope(new WireReader(bytes))
}

/**
 * Decodes one `MessageContainer`. Throws only `RonyError`: E01/ENVELOPE for malformed
 * bytes, E03/ENVELOPES when it carries more than `maxContainerEnvelopes`.
 */
export function decodeContainer(
  bytes: Uint8Array,
  limits: Readonly<EnvelopeLimits> = DEFAULT_LIMITS,
): Container {
  checkSize(bytes, limits)
  const r = new WireReader(bytes)
  const envelopes: Envelope[] = []
  let syncRun = false
  while (r.pos < r.end) {
    const tag = r.tag()
    if (tag === TAG_ENVELOPES) {
      if (envelopes.length === limits.maxContainerEnvelopes) {
        throw new RonyError(
          'E03',
          'ENVELOPES',
          `a container may carry at most ${limits.maxContainerEnvelopes} envelopes`,
          { code: 'RONY_ERR_CONTAINER_TOO_LARGE' },
        )
      }
      const outer = r.limit(r.length())
      envelopes.push(readEnvelope(r))
      r.end = outer
    } else if (tag === TAG_SYNC_RUN) {
      syncRun = r.bool()
    } else {
      // Length (field 1) is informational: the envelopes themselves are counted.
      r.skip(tag)
    }
  }
  return { envelopes, syncRun }
}
