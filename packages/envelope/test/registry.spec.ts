import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import {
  BUILTIN_TYPES,
  C_Edge,
  C_Edges,
  C_Error,
  C_GetAllNodes,
  C_GetNodes,
  C_KeyValue,
  C_MessageContainer,
  C_MessageEnvelope,
  C_Ping,
  C_Pong,
  C_Redirect,
  constructorOf,
  createRegistry,
  decodeMessage,
  encodeMessage,
  MessageRegistry,
  type MessageType,
  messageNameOf,
  messageTypeOf,
  RonyError,
  rony,
} from '../src/index.js'
import { catchRonyError, hex } from './helpers.js'

const BUILTINS: [name: string, ctor: bigint, type: MessageType][] = [
  ['MessageEnvelope', C_MessageEnvelope, rony.MessageEnvelope],
  ['MessageContainer', C_MessageContainer, rony.MessageContainer],
  ['Error', C_Error, rony.Error],
  ['KeyValue', C_KeyValue, rony.KeyValue],
  ['Redirect', C_Redirect, rony.Redirect],
  ['Edge', C_Edge, rony.Edge],
  ['Edges', C_Edges, rony.Edges],
  ['Ping', C_Ping, rony.Ping],
  ['Pong', C_Pong, rony.Pong],
  ['GetNodes', C_GetNodes, rony.GetNodes],
  ['GetAllNodes', C_GetAllNodes, rony.GetAllNodes],
]

const DEMO_PROTO = `
  syntax = "proto3";
  package demo;
  message EchoRequest { int64 ID = 1; string Text = 2; }
  message Outer { message Inner { bool Flag = 1; } }
`

function demoRoot(proto = DEMO_PROTO): protobuf.Root {
  return protobuf.parse(proto, { keepCase: true }).root
}

/** A reflected type built from JSON instead of .proto text. */
function jsonEcho(pkg: string): protobuf.Type {
  return protobuf.Root.fromJSON({
    nested: {
      [pkg]: { nested: { EchoRequest: { fields: { ID: { type: 'int64', id: 1 } } } } },
    },
  }).lookupType(`${pkg}.EchoRequest`)
}

describe('messageNameOf', () => {
  it.each(BUILTINS)('names the generated class %s', (name, _, type) => {
    expect(messageNameOf(type)).toBe(name)
  })

  it('names reflected types by their unqualified name', () => {
    const root = demoRoot()
    expect(messageNameOf(root.lookupType('demo.EchoRequest'))).toBe('EchoRequest')
    expect(messageNameOf(root.lookupType('demo.Outer.Inner'))).toBe('Inner')
    expect(messageNameOf(jsonEcho('other'))).toBe('EchoRequest')
    const bare = demoRoot('syntax = "proto3"; message Foo { int32 a = 1; }').lookupType('Foo')
    expect(messageNameOf(bare)).toBe('Foo')
  })

  it('falls back to name, and throws TypeError when there is none', () => {
    const codec = { encode: () => ({ finish: () => new Uint8Array(0) }), decode: () => ({}) }
    expect(messageNameOf({ ...codec, name: 'Bar' })).toBe('Bar')
    expect(() => messageNameOf(codec)).toThrow(TypeError)
    expect(() => messageNameOf({ ...codec, name: '' })).toThrow(TypeError)
  })
})

describe('MessageRegistry', () => {
  it('createRegistry holds every built-in under its Go id', () => {
    const registry = createRegistry()
    expect([...registry].map((entry) => entry.name).sort()).toEqual(
      BUILTINS.map(([name]) => name).sort(),
    )
    for (const [name, ctor, type] of BUILTINS) {
      expect(constructorOf(name)).toBe(ctor)
      expect(registry.has(ctor)).toBe(true)
      expect(registry.get(ctor)).toEqual({ ctor, name, type })
      expect(registry.ctorOf(type)).toBe(ctor)
    }
    expect(BUILTIN_TYPES).toHaveLength(BUILTINS.length)
  })

  it('registers generated classes under constructorOf(name)', () => {
    const registry = new MessageRegistry()
    expect(registry.register(rony.Ping)).toBe(constructorOf('Ping'))
    expect(registry.register(rony.Edges)).toBe(3202852853167161344n)
    expect(registry.get(C_Ping)?.type).toBe(rony.Ping)
    expect(registry.has(C_Pong)).toBe(false)
    expect(registry.get(C_Pong)).toBeUndefined()
  })

  it('registers reflected types (from .proto text and from JSON) and decodes with them', () => {
    const registry = new MessageRegistry()
    const echo = demoRoot().lookupType('demo.EchoRequest')
    const ctor = registry.register(echo)
    expect(ctor).toBe(634453994073422796n)
    expect(ctor).toBe(constructorOf('EchoRequest'))
    const bytes = encodeMessage(echo, echo.create({ ID: 7, Text: 'hi' }))
    const decoded = registry.decode(ctor, bytes) as { ID: unknown; Text: string }
    expect(String(decoded.ID)).toBe('7')
    expect(decoded.Text).toBe('hi')

    const inner = demoRoot().lookupType('demo.Outer.Inner')
    expect(registry.register(inner)).toBe(constructorOf('Inner'))
    const fromJson = new MessageRegistry()
    expect(fromJson.register(jsonEcho('json'))).toBe(634453994073422796n)
  })

  it('takes an explicit name', () => {
    const registry = new MessageRegistry()
    const echo = demoRoot().lookupType('demo.EchoRequest')
    expect(registry.register(echo, 'SampleEcho')).toBe(5610266072904040111n)
    expect(registry.get(5610266072904040111n)?.name).toBe('SampleEcho')
    expect(registry.has(634453994073422796n)).toBe(false)
  })

  it('treats registering the same type again as a no-op', () => {
    const registry = createRegistry()
    expect(registry.register(rony.Ping)).toBe(C_Ping)
    expect([...registry]).toHaveLength(BUILTINS.length)
    expect(registry.get(C_Ping)?.type).toBe(rony.Ping)
  })

  it('throws TypeError for a different type under a taken name', () => {
    const registry = new MessageRegistry()
    registry.register(jsonEcho('a'))
    expect(() => registry.register(jsonEcho('b'))).toThrow(TypeError)
    expect(() => registry.register(demoRoot().lookupType('demo.EchoRequest'))).toThrow(TypeError)
    const builtins = createRegistry()
    const ping = demoRoot('syntax = "proto3"; message Ping { int64 ID = 1; }').lookupType('Ping')
    expect(() => builtins.register(ping)).toThrow(TypeError)
    expect(builtins.get(C_Ping)?.type).toBe(rony.Ping)
  })

  it('throws TypeError for the same type under a second name, keeping the first', () => {
    const registry = new MessageRegistry()
    registry.register(rony.Ping)
    expect(() => registry.register(rony.Ping, 'OtherPing')).toThrow(TypeError)
    expect(registry.ctorOf(rony.Ping)).toBe(C_Ping)
    expect(registry.has(constructorOf('OtherPing'))).toBe(false)
  })

  it('keeps the protobufjs error as the cause of a decode failure', () => {
    const error = catchRonyError(() => decodeMessage(rony.Ping, hex('0a 05 01')))
    expect(error.code).toBe('RONY_ERR_INVALID_MESSAGE')
    expect(error.cause).toBeInstanceOf(Error)
    expect(error.cause).not.toBeInstanceOf(RonyError)
  })

  it('ctorOf throws TypeError for an unregistered type', () => {
    expect(() => new MessageRegistry().ctorOf(rony.Ping)).toThrow(TypeError)
  })

  it('decodes a payload by its constructor id', () => {
    const registry = createRegistry()
    const ping = registry.decode(C_Ping, rony.Ping.encode({ ID: 42 }).finish()) as rony.Ping
    expect(ping).toBeInstanceOf(rony.Ping)
    expect(String(ping.ID)).toBe('42')
    const error = registry.decode(
      C_Error,
      encodeMessage(rony.Error, { Code: 'E07', Items: 'USER' }),
    ) as rony.Error
    expect(error.Code).toBe('E07')
  })

  it('throws RonyError E01/HANDLER for an unknown constructor', () => {
    const error = catchRonyError(() => createRegistry().decode(12345n, new Uint8Array(0)))
    expect(error.wireCode).toBe('E01')
    expect(error.items).toBe('HANDLER')
    expect(error.code).toBe('RONY_ERR_UNKNOWN_CONSTRUCTOR')
    expect(error.description).toContain('12345')
  })

  const GARBAGE: [what: string, hex: string][] = [
    ['length beyond the end', '0a 05 01'],
    ['truncated varint', '08'],
    ['11-byte field number', 'ff ff ff ff ff ff ff ff ff ff 01'],
    ['wire type 7', '0f'],
    ['wire type 6', '0e 00'],
    ['field number 0', '00 00'],
    ['unterminated group', '0b'],
    ['end group of another field', '0b 14'],
  ]

  it.each(GARBAGE)('turns %s into RonyError E01/ENVELOPE for every built-in', (_, bytes) => {
    const registry = createRegistry()
    for (const [name, ctor] of BUILTINS) {
      const error = catchRonyError(() => registry.decode(ctor, hex(bytes)))
      expect(error, name).not.toBeInstanceOf(RangeError)
      expect(error.wireCode).toBe('E01')
      expect(error.items).toBe('ENVELOPE')
      expect(error.code).toBe('RONY_ERR_INVALID_MESSAGE')
      expect(error.description).toContain(name)
    }
  })

  it('turns groups nested past the recursion limit into RonyError', () => {
    const deep = new Uint8Array(20_000).fill(0x0b)
    for (const [, ctor] of BUILTINS) {
      expect(() => createRegistry().decode(ctor, deep)).toThrow(RonyError)
    }
  })
})

describe('decodeMessage and encodeMessage', () => {
  it('round-trip a message', () => {
    const bytes = encodeMessage(rony.Edge, { ServerID: 'edge-1', HostPorts: ['a:1', 'b:2'] })
    const edge = decodeMessage(rony.Edge, bytes)
    expect(edge.ServerID).toBe('edge-1')
    expect(edge.HostPorts).toEqual(['a:1', 'b:2'])
  })

  it("encodeMessage takes the writer's own buffer (finish(true)), with no copy", () => {
    const shared: unknown[] = []
    const written = hex('0a 01 61')
    const type = {
      name: 'Fake',
      encode: (_message: object) => ({
        finish: (share?: boolean) => {
          shared.push(share)
          return written
        },
      }),
      decode: () => ({}),
    }
    expect(encodeMessage(type, {})).toBe(written)
    expect(shared).toEqual([true])
  })

  it("encodeMessage's results are the caller's: a later encode does not overwrite one", () => {
    const first = encodeMessage(rony.Edge, { ServerID: 'edge-1' })
    const copy = first.slice()
    const second = encodeMessage(rony.Edge, { ServerID: 'edge-2' })
    expect(first).toEqual(copy)
    expect(decodeMessage(rony.Edge, second).ServerID).toBe('edge-2')
    expect(first).toEqual(rony.Edge.encode({ ServerID: 'edge-1' }).finish())
  })

  it("encodeMessage gives a large message memory of its own, not a view of the writer's larger buffer", () => {
    const large = encodeMessage(rony.Error, { Description: 'x'.repeat(5000) })
    expect(large.buffer.byteLength).toBe(large.byteLength)
    expect(rony.Error.decode(large).Description).toHaveLength(5000)
  })

  it('decodeMessage names the type in its RonyError', () => {
    const error = catchRonyError(() => decodeMessage(rony.Edges, hex('0a 05')))
    expect(error.description).toMatch(/^cannot decode Edges: /)
    const named = catchRonyError(() => decodeMessage(rony.Edges, hex('0a 05'), 'Custom'))
    expect(named.description).toMatch(/^cannot decode Custom: /)
  })
})

describe('entryOf and messageTypeOf', () => {
  it('resolves a static class instance by its constructor', () => {
    const registry = new MessageRegistry()
    const ping = rony.Ping.create({ ID: 1 })
    expect(messageTypeOf(ping)).toBe(rony.Ping)
    expect(registry.entryOf(ping)).toMatchObject({ ctor: C_Ping, name: 'Ping', type: rony.Ping })
    expect(registry.has(C_Ping)).toBe(true)
  })

  it('resolves a reflected message by its $type', () => {
    const registry = new MessageRegistry()
    const EchoRequest = demoRoot().lookupType('demo.EchoRequest')
    const entry = registry.entryOf(EchoRequest.create({ text: 'hi' }))
    expect(entry.type).toBe(EchoRequest)
    expect(entry.ctor).toBe(constructorOf('EchoRequest'))
  })

  it('throws TypeError for a plain object', () => {
    expect(messageTypeOf({ ID: 1 })).toBeUndefined()
    expect(() => new MessageRegistry().entryOf({ ID: 1 })).toThrow(TypeError)
  })
})
