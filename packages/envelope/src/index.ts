/**
 * @packageDocumentation
 *
 * Rony's wire format, compatible with the Go framework (ronaksoft/rony): the
 * `MessageEnvelope` every request, reply and update travels in, constructor ids,
 * `RonyError`, varint length-prefixed framing and a constructor → type registry.
 *
 * @example
 * ```ts
 * import { constructorOf, decodeEnvelope, encodeEnvelope, rony } from '@rony/envelope'
 *
 * const ping = rony.Ping.encode({ ID: 42 }).finish()
 * const bytes = encodeEnvelope({ ctor: constructorOf('Ping'), requestId: 7n, message: ping })
 * const envelope = decodeEnvelope(bytes)
 * envelope.ctor      // 3584172304239689728n
 * rony.Ping.decode(envelope.message).ID.toString() // '42'
 * ```
 */

export {
  type Container,
  type ContainerInit,
  decodeContainer,
  decodeEnvelope,
  type Envelope,
  type EnvelopeInit,
  encodeContainer,
  encodeEnvelope,
  type KeyValue,
} from './codec/envelope.js'
export { constructorOf, crc64 } from './constructor.js'
export {
  invalidEnvelope,
  RonyError,
  type RonyErrorOptions,
  WIRE_ERRORS,
  type WireError,
  type WireErrorCode,
} from './errors.js'
export {
  decodeFrames,
  encodeFrame,
  encodeFrames,
  FrameDecoder,
  type FrameDecoderInit,
} from './framing.js'
export { rony } from './gen/envelope.js'
export { SESSION_HEADER } from './headers.js'
export * from './ids.js'
export {
  encodeJsonEnvelope,
  type JsonEnvelope,
  jsonToEnvelope,
  parseJsonEnvelope,
} from './json/envelope.js'
export {
  hasJsonMapping,
  type JsonMessageType,
  messageFromJson,
  messageToJson,
} from './json/message.js'
export { parseJson, stringifyJson } from './json/parse.js'
export { DEFAULT_LIMITS, type EnvelopeLimits, resolveLimits } from './limits.js'
export {
  BUILTIN_TYPES,
  createRegistry,
  decodeMessage,
  encodeMessage,
  type MessageOf,
  MessageRegistry,
  type MessageType,
  messageNameOf,
  messageTypeOf,
  type RegisteredType,
} from './registry.js'
export type {
  AnyMethodDescriptor,
  HandlerMode,
  InputOf,
  MethodDescriptor,
  MethodOptions,
  OutputOf,
  ReadConsistency,
  RestBinding,
  ServiceDescriptor,
} from './service.js'
