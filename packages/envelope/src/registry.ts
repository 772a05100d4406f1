import { constructorOf } from './constructor.js'
import { invalidEnvelope, RonyError } from './errors.js'
import { rony } from './gen/envelope.js'

/**
 * A protobufjs message type: a generated static class (`pbjs -t static-module`) or a
 * reflected `Type` (`root.lookupType(...)`). Only these members are used.
 */
export interface MessageType<T = unknown> {
  encode(message: NoInfer<T>): { finish(): Uint8Array }
  decode(bytes: Uint8Array): T
  /** Reflected types: the unqualified name. Static classes: the class name. */
  readonly name?: string
  /** Static classes: `type.googleapis.com/pkg.Name`; preferred over `name`, which minifiers rename. */
  getTypeUrl?(prefix?: string): string
}

/** The payload type of a `MessageType`. */
export type MessageOf<M> = M extends MessageType<infer T> ? T : never

export interface RegisteredType<T = unknown> {
  readonly ctor: bigint
  readonly name: string
  readonly type: MessageType<T>
}

/** The protobufjs type of a message instance, if it has one (see `MessageRegistry.entryOf`). */
export function messageTypeOf(message: object): MessageType | undefined {
  const reflected = (message as { $type?: unknown }).$type
  if (isMessageType(reflected)) return reflected
  const ctor = (message as { constructor?: unknown }).constructor
  return isMessageType(ctor) ? ctor : undefined
}

function isMessageType(value: unknown): value is MessageType {
  return (
    (typeof value === 'function' || (typeof value === 'object' && value !== null)) &&
    typeof (value as MessageType).encode === 'function' &&
    typeof (value as MessageType).decode === 'function'
  )
}

/** The unqualified message name of a protobufjs type: `EchoRequest` for `demo.EchoRequest`. */
export function messageNameOf(type: MessageType): string {
  const qualified = typeof type.getTypeUrl === 'function' ? type.getTypeUrl('') : type.name
  const name = qualified?.slice(qualified.lastIndexOf('.') + 1).replace(/^\//, '')
  if (!name) throw new TypeError('cannot tell the message name of this type: pass it explicitly')
  return name
}

/**
 * Maps constructor ids to message types and back, so an envelope's payload can be
 * decoded by its `ctor`.
 *
 * Ids are CRC-64 of the unqualified name, as in the Go framework, so two packages'
 * `Foo` collide: registering a different type under an id already taken throws.
 *
 * @example
 * const registry = new MessageRegistry()
 * const ctor = registry.register(EchoRequest)      // constructorOf('EchoRequest')
 * const request = registry.decode(ctor, bytes)     // an EchoRequest, or throws RonyError E01
 */
export class MessageRegistry implements Iterable<RegisteredType> {
  private readonly byCtor = new Map<bigint, RegisteredType>()
  private readonly byType = new Map<MessageType, RegisteredType>()

  /**
   * Registers `type` and returns its constructor id. Registering the same type again
   * is a no-op; a different type under a taken id, or the same type under another name,
   * throws `TypeError`.
   *
   * @param name - defaults to the type's unqualified name
   */
  register<T>(type: MessageType<T>, name: string = messageNameOf(type)): bigint {
    const ctor = constructorOf(name)
    const registered = this.byType.get(type as MessageType)
    if (registered && registered.ctor !== ctor) {
      throw new TypeError(`this type is already registered as ${registered.name}, not ${name}`)
    }
    const existing = this.byCtor.get(ctor)
    if (existing) {
      if (existing.type === type) return ctor
      throw new TypeError(
        `constructor ${ctor} (${name}) is already registered to a different type named ${existing.name}`,
      )
    }
    const entry: RegisteredType<T> = { ctor, name, type }
    this.byCtor.set(ctor, entry as RegisteredType)
    this.byType.set(type as MessageType, entry as RegisteredType)
    return ctor
  }

  /**
   * The registration of a message instance's type, registering the type on first sight:
   * a generated static class instance (its `constructor`) or a reflected message (its
   * `$type`). Throws `TypeError` for a plain object, whose type cannot be known.
   */
  entryOf(message: object): RegisteredType {
    const type = messageTypeOf(message)
    if (!type) {
      throw new TypeError(
        'cannot tell the protobuf type of a plain object: pass an instance (Type.create(...)) or the type',
      )
    }
    return this.ensure(type)
  }

  /** The registration of `type`, registering it under its own name if it is new. */
  ensure<T>(type: MessageType<T>): RegisteredType<T> {
    const entry = this.byType.get(type as MessageType)
    if (entry) return entry as RegisteredType<T>
    this.register(type)
    return this.byType.get(type as MessageType) as RegisteredType<T>
  }

  /** The registration of `ctor`, if any. */
  get(ctor: bigint): RegisteredType | undefined {
    return this.byCtor.get(ctor)
  }

  has(ctor: bigint): boolean {
    return this.byCtor.has(ctor)
  }

  /** The constructor id `type` was registered under; throws `TypeError` if it was not. */
  ctorOf(type: MessageType): bigint {
    const entry = this.byType.get(type)
    if (!entry) throw new TypeError(`message type ${messageNameOf(type)} is not registered`)
    return entry.ctor
  }

  /**
   * Decodes a payload by its constructor id. Throws only `RonyError`: E01/HANDLER for an
   * unknown id, E01/ENVELOPE for bytes that do not decode as the registered type.
   */
  decode(ctor: bigint, bytes: Uint8Array): unknown {
    const entry = this.byCtor.get(ctor)
    if (!entry) {
      throw new RonyError('E01', 'HANDLER', `unknown constructor ${ctor}`, {
        code: 'RONY_ERR_UNKNOWN_CONSTRUCTOR',
      })
    }
    return decodeMessage(entry.type, bytes, entry.name)
  }

  [Symbol.iterator](): Iterator<RegisteredType> {
    return this.byCtor.values()
  }
}

/**
 * `type.decode(bytes)`, with every failure (truncation, bad wire type, recursion limit)
 * turned into `RonyError` E01/ENVELOPE; a `RonyError` the decoder throws itself is kept.
 * Only `decode` is needed, so hand-written decoders go through it too.
 */
export function decodeMessage<T>(
  type: Pick<MessageType<T>, 'decode' | 'name' | 'getTypeUrl'>,
  bytes: Uint8Array,
  name?: string,
): T {
  try {
    return type.decode(bytes)
  } catch (cause) {
    if (cause instanceof RonyError) throw cause
    // messageNameOf reads only `name` and `getTypeUrl`, never `encode`.
    const what = name ?? messageNameOf(type as MessageType)
    const reason = cause instanceof Error ? cause.message : String(cause)
    throw invalidEnvelope(`cannot decode ${what}: ${reason}`, 'RONY_ERR_INVALID_MESSAGE', cause)
  }
}

/** The built-in messages of proto/rony/envelope.proto, by their generated classes. */
export const BUILTIN_TYPES: readonly MessageType[] = [
  rony.MessageEnvelope,
  rony.MessageContainer,
  rony.Error,
  rony.KeyValue,
  rony.Redirect,
  rony.Edge,
  rony.Edges,
  rony.Ping,
  rony.Pong,
  rony.GetNodes,
  rony.GetAllNodes,
]

/** A registry holding the built-in messages (`Error`, `Ping`, `Edges`, …). */
export function createRegistry(): MessageRegistry {
  const registry = new MessageRegistry()
  for (const type of BUILTIN_TYPES) registry.register(type)
  return registry
}

/** What protobufjs 8's writers add to `finish`. */
interface SharingWriter {
  finish(shared?: boolean): Uint8Array
}

/** Larger results get memory of their own (see `encodeMessage`). */
const SHARED_MAX_BYTES = 2048

/**
 * `type.encode(message).finish()`, without `finish`'s copy: `message` is whatever the
 * type's `encode` takes. The writer is `encode`'s own and dropped here, so protobufjs 8's
 * `finish(true)`, a view of the writer's buffer instead of a copy into a new one, belongs
 * to the caller alone: one allocation and one copy less on every small message (half the
 * cost of encoding one). The writer grows by doubling, so a large message's buffer may be
 * up to twice its size: above 2 KiB the result is copied into memory of its own, as
 * `finish()` would, so a kept one holds no more than itself. Other writers (protobufjs 7,
 * hand-written types) ignore the argument and copy as before.
 */
export function encodeMessage<M extends MessageType>(
  type: M,
  message: Parameters<M['encode']>[0],
): Uint8Array {
  const bytes = (type.encode(message) as SharingWriter).finish(true)
  return bytes.byteLength > SHARED_MAX_BYTES ? new Uint8Array(bytes) : bytes
}
