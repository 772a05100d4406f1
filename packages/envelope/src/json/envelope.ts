import {
  decodeContainer,
  decodeEnvelope,
  type Envelope,
  type EnvelopeInit,
  encodeContainer,
  type KeyValue,
} from '../codec/envelope.js'
import { constructorOf } from '../constructor.js'
import { invalidEnvelope, RonyError } from '../errors.js'
import { C_MessageContainer, rony } from '../gen/envelope.js'
import { DEFAULT_LIMITS, type EnvelopeLimits } from '../limits.js'
import type { MessageRegistry, RegisteredType } from '../registry.js'
import { hasJsonMapping, isJsonObject, messageFromJson, messageToJson } from './message.js'
import { parseJson, stringifyJson } from './parse.js'

/**
 * The JSON envelope of the Go framework (`MessageEnvelopeJSON` in its `msg.go`):
 *
 * ```json
 * { "requestId": 42, "header": { "k": "v" }, "cmd": "Echo", "message": { "Text": "hi" } }
 * ```
 *
 * `cmd` is the message name (its constructor id is the CRC-64 of it); `message` is the
 * payload in protobuf's JSON mapping. `requestId` is a JSON number, exact over the whole
 * uint64 range both ways (read with `parseJson`, written with `stringifyJson`); a decimal
 * string is accepted on input.
 *
 * A container is `cmd: "MessageContainer"` whose `message` is the container in protobuf
 * JSON, as the Go framework writes it (`protojson` of `MessageContainer`):
 * `{"Length": 1, "Envelopes": [{"Constructor": "…", "RequestID": "…", "Message": "<base64>",
 * "Header": [{"Key": "k", "Value": "v"}]}], "SyncRun": true}`, each entry's `Message` the
 * binary payload (or, with `"JsonEncoded": true`, the payload's JSON text), base64. Entries
 * may also be JSON envelopes (`{"requestId", "cmd", "message"}`), and replies are written
 * that way, readable without decoding base64. (The Go edge never sent a JSON container:
 * its JSON dispatcher writes each reply on its own, and could not read one either.)
 */
export interface JsonEnvelope {
  requestId: bigint
  header?: Record<string, string>
  cmd: string
  message: unknown
}

const MAX_UINT64 = (1n << 64n) - 1n
const decoder = new TextDecoder('utf-8', { fatal: true })
const encoder = new TextEncoder()

const invalidJson = (detail: string, cause?: unknown): RonyError =>
  invalidEnvelope(`invalid JSON envelope: ${detail}`, 'RONY_ERR_INVALID_JSON', cause)

/**
 * Parses the JSON text of an envelope far enough to know its request id, so that even an
 * envelope with a bad `cmd` or `message` is answered under its own id. Throws `RonyError`
 * E01/ENVELOPE for bytes that are not a JSON object with a valid `requestId`.
 */
export function parseJsonEnvelope(bytes: Uint8Array): { requestId: bigint; json: object } {
  let json: unknown
  try {
    json = parseJson(decoder.decode(bytes))
  } catch (cause) {
    throw invalidJson(cause instanceof Error ? cause.message : String(cause), cause)
  }
  if (!isJsonObject(json)) throw invalidJson('expected a JSON object')
  return { requestId: requestIdOf(json.requestId), json }
}

function requestIdOf(value: unknown): bigint {
  if (value === undefined || value === null) return 0n
  let id: bigint | undefined
  if (typeof value === 'bigint') id = value
  else if (typeof value === 'number' && Number.isSafeInteger(value)) id = BigInt(value)
  else if (typeof value === 'string' && /^\d{1,20}$/.test(value)) id = BigInt(value)
  if (id === undefined || id < 0n || id > MAX_UINT64) {
    const shown = typeof value === 'bigint' ? value.toString() : JSON.stringify(value)
    throw invalidJson(
      `requestId must be an unsigned 64-bit integer (a number or decimal string), got ${shown}`,
    )
  }
  return id
}

function headerOf(value: unknown): KeyValue[] {
  if (value === undefined || value === null) return []
  if (Array.isArray(value)) {
    return value.map((entry) => {
      if (
        !isJsonObject(entry) ||
        typeof entry.Key !== 'string' ||
        typeof entry.Value !== 'string'
      ) {
        throw invalidJson('header entries must be {"Key": string, "Value": string}')
      }
      return { key: entry.Key, value: entry.Value }
    })
  }
  if (!isJsonObject(value)) throw invalidJson('header must be an object of strings')
  return Object.entries(value).map(([key, entry]) => {
    if (typeof entry !== 'string') throw invalidJson(`header ${key} must be a string`)
    return { key, value: entry }
  })
}

/** The registration `cmd` names; E01/HANDLER when no registered type has that name. */
function typeNamed(registry: MessageRegistry, cmd: unknown): RegisteredType {
  if (typeof cmd !== 'string' || cmd === '') throw invalidJson('cmd must be a message name')
  const entry = registry.get(constructorOf(cmd))
  if (entry === undefined || entry.name !== cmd) {
    throw new RonyError('E01', 'HANDLER', `unknown cmd ${JSON.stringify(cmd)}`, {
      code: 'RONY_ERR_UNKNOWN_CONSTRUCTOR',
    })
  }
  return entry
}

/**
 * Turns a parsed JSON envelope (from `parseJsonEnvelope`) into an envelope with a binary
 * payload, converting `message` through the registered type named by `cmd`. Throws
 * `RonyError`: E01/ENVELOPE for a malformed envelope, E01/HANDLER for an unknown `cmd`,
 * E01/MESSAGE for a message that does not fit its type.
 */
export function jsonToEnvelope(
  json: object,
  registry: MessageRegistry,
  limits: Pick<EnvelopeLimits, 'maxContainerEnvelopes'> = DEFAULT_LIMITS,
): Envelope {
  const fields = json as Record<string, unknown>
  const base = { requestId: requestIdOf(fields.requestId), header: headerOf(fields.header) }
  if (fields.cmd === 'MessageContainer') {
    const { Envelopes: inner, SyncRun: syncRun } = isJsonObject(fields.message)
      ? fields.message
      : {}
    if (!Array.isArray(inner)) throw invalidJson('a MessageContainer needs an Envelopes list')
    if (inner.length > limits.maxContainerEnvelopes) {
      throw invalidJson(`more than ${limits.maxContainerEnvelopes} envelopes in one container`)
    }
    if (syncRun !== undefined && syncRun !== null && typeof syncRun !== 'boolean') {
      throw invalidJson('SyncRun must be a boolean')
    }
    const envelopes = inner.map((entry) => containerEntry(entry, registry, limits))
    const message = encodeContainer({ envelopes, syncRun: syncRun === true })
    return { ...base, ctor: C_MessageContainer, jsonEncoded: false, message, auth: EMPTY }
  }
  const entry = typeNamed(registry, fields.cmd)
  const message = messageFromJson(entry.type, entry.name, fields.message)
  return { ...base, ctor: entry.ctor, jsonEncoded: false, message, auth: EMPTY }
}

/**
 * One entry of a JSON container: a JSON envelope (it has `cmd`), or a `MessageEnvelope` in
 * protobuf JSON as the Go framework writes it (binary payload, or JSON text with
 * `JsonEncoded`). Containers do not nest.
 */
function containerEntry(
  entry: unknown,
  registry: MessageRegistry,
  limits: Pick<EnvelopeLimits, 'maxContainerEnvelopes'>,
): Envelope {
  if (!isJsonObject(entry)) throw invalidJson('container entries must be objects')
  if ('cmd' in entry) {
    if (entry.cmd === 'MessageContainer') throw invalidJson('containers do not nest')
    return jsonToEnvelope(entry, registry, limits)
  }
  let envelope: Envelope
  try {
    envelope = decodeEnvelope(messageFromJson(rony.MessageEnvelope, 'MessageEnvelope', entry))
  } catch (cause) {
    const detail = cause instanceof RonyError ? cause.description : String(cause)
    throw invalidJson(`container entry: ${detail}`, cause)
  }
  if (envelope.ctor === C_MessageContainer) throw invalidJson('containers do not nest')
  // A JsonEncoded payload stays JSON text: the edge reads it by its handler's type.
  return envelope
}

const EMPTY = new Uint8Array(0)

/**
 * The JSON envelope of `init` (UTF-8 bytes): its payload decoded by the registered type
 * of its constructor and written in protobuf's JSON mapping; a container's envelopes as
 * JSON envelopes (see {@link JsonEnvelope}). A payload whose constructor is not
 * registered (or has no JSON mapping) is written as base64 under `cmd` = the decimal
 * constructor id.
 */
export function encodeJsonEnvelope(init: EnvelopeInit, registry: MessageRegistry): Uint8Array {
  return encoder.encode(stringifyJson(toJsonEnvelope(init, registry)))
}

function toJsonEnvelope(init: EnvelopeInit, registry: MessageRegistry): JsonEnvelope {
  const bytes = init.message ?? EMPTY
  const out: JsonEnvelope = { requestId: init.requestId ?? 0n, cmd: '', message: {} }
  if (init.header !== undefined && init.header.length > 0) {
    out.header = Object.fromEntries(init.header.map((entry) => [entry.key, entry.value]))
  }
  if (init.ctor === C_MessageContainer) {
    const { envelopes, syncRun } = decodeContainer(bytes)
    out.cmd = 'MessageContainer'
    out.message = {
      Length: envelopes.length,
      Envelopes: envelopes.map((inner) => toJsonEnvelope(inner, registry)),
      ...(syncRun ? { SyncRun: true } : {}),
    }
    return out
  }
  const entry = registry.get(init.ctor)
  if (entry !== undefined && hasJsonMapping(entry.type)) {
    out.cmd = entry.name
    out.message = messageToJson(entry.type, bytes)
  } else {
    out.cmd = String(init.ctor)
    out.message = base64(bytes)
  }
  return out
}

/** Base64 without Node's Buffer: this package also runs in browsers. */
function base64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(binary)
}
