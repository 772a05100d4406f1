import { describe, expect, it } from 'vitest'
import {
  C_MessageContainer,
  C_Ping,
  createRegistry,
  decodeContainer,
  encodeContainer,
  encodeEnvelope,
  encodeJsonEnvelope,
  jsonToEnvelope,
  messageFromJson,
  messageToJson,
  parseJson,
  parseJsonEnvelope,
  RonyError,
  rony,
} from '../src/index.js'

const registry = createRegistry()
const text = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes))
const utf8 = (value: string): Uint8Array => new TextEncoder().encode(value)

function rejection(run: () => unknown): RonyError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(RonyError)
    return error as RonyError
  }
  throw new Error('expected a RonyError')
}

describe('messageFromJson / messageToJson (generated static classes)', () => {
  it('round-trips scalars, 64-bit ints, enums, nested and repeated messages', () => {
    const json = {
      Reason: 'ReplicaSetRequest',
      Edges: [{ ReplicaSet: '18446744073709551615', ServerID: 'n1', HostPorts: ['a:1', 'b:2'] }],
      WaitInSec: 30,
    }
    const bytes = messageFromJson(rony.Redirect, 'Redirect', json)
    expect(messageToJson(rony.Redirect, bytes)).toEqual(json)
  })

  it('takes numbers as strings and enums as numbers, as protobuf JSON allows', () => {
    const bytes = messageFromJson(rony.Redirect, 'Redirect', { Reason: 1, WaitInSec: '7' })
    expect(messageToJson(rony.Redirect, bytes)).toEqual({
      Reason: 'ReplicaSetRequest',
      WaitInSec: 7,
    })
  })

  it('rejects what fromObject would silently change, naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{ WaitInSec: 'soon' }, /WaitInSec: invalid value/],
      [{ WaitInSec: -1 }, /WaitInSec: invalid value/],
      [{ WaitInSec: 1.5 }, /WaitInSec: invalid value/],
      [{ WaitInSec: 2 ** 33 }, /WaitInSec: invalid value/],
      [{ Edges: [{ ReplicaSet: 'x' }] }, /Edges\[0\]\.ReplicaSet: invalid value/],
      [{ Edges: [{ Nope: 1 }] }, /Edges\[0\]\.Nope: no such field/],
      [{ Unknown: true }, /Unknown: no such field/],
      [{ Edges: 'x' }, /Edges/],
      [[], /expected a JSON object/],
    ]
    for (const [json, message] of cases) {
      const error = rejection(() => messageFromJson(rony.Redirect, 'Redirect', json))
      expect(error.wireCode, JSON.stringify(json)).toBe('E01')
      expect(error.items).toBe('MESSAGE')
      expect(error.code).toBe('RONY_ERR_INVALID_MESSAGE')
      expect(error.description).toMatch(message)
    }
  })

  it('refuses an enum name the enum lacks (fromObject would leave the field unset)', () => {
    for (const Reason of ['Nope', 'replicasetrequest', '1', '', 'toString', '__proto__']) {
      const error = rejection(() => messageFromJson(rony.Redirect, 'Redirect', { Reason }))
      expect([error.wireCode, error.items], Reason).toEqual(['E01', 'MESSAGE'])
      expect(error.description).toMatch(/Reason: invalid value/)
    }
    // Bytes still come back normalized ("AQ" is "AQ=="), and a known name is fine.
    const bytes = messageFromJson(rony.MessageEnvelope, 'MessageEnvelope', { Message: 'AQ' })
    expect([...rony.MessageEnvelope.decode(bytes).Message]).toEqual([1])
    const ok = messageFromJson(rony.Redirect, 'Redirect', { Reason: 'ReplicaSetRequest' })
    expect(messageToJson(rony.Redirect, ok)).toEqual({ Reason: 'ReplicaSetRequest' })
  })

  it('reads "true"/"false" for top-level bools only (REST query and path values)', () => {
    const bytes = messageFromJson(rony.MessageEnvelope, 'MessageEnvelope', { JsonEncoded: 'true' })
    expect(rony.MessageEnvelope.decode(bytes).JsonEncoded).toBe(true)
    expect(() =>
      messageFromJson(rony.MessageEnvelope, 'MessageEnvelope', { JsonEncoded: 'yes' }),
    ).toThrow(/JsonEncoded: invalid value/)
  })

  it('refuses numbers a JS number cannot hold exactly, and numbers for string fields', () => {
    const cases: [object, unknown, RegExp][] = [
      [
        rony.Ping,
        { ID: 2 ** 53 + 1 } /* 9007199254740993 as a JS number */,
        /ID: invalid value 9007199254740992/,
      ],
      [rony.Ping, { ID: 2n ** 63n }, /ID: invalid value 9223372036854775808/],
      [rony.KeyValue, { Key: 5 }, /Key: invalid value 5 \(expected a string\)/],
      [rony.KeyValue, { Key: 2n ** 60n }, /Key: invalid value \d+ \(expected a string\)/],
      [rony.KeyValue, { Value: 1.5 }, /Value: invalid value 1.5/],
      [rony.Edge, { HostPorts: ['a', 5] }, /HostPorts\[1\]: invalid value 5 \(expected a string\)/],
      [rony.Edges, { Nodes: [{ ServerID: 7 }] }, /Nodes\[0\]\.ServerID: invalid value 7/],
      [rony.Error, { Code: 1 }, /Code: invalid value 1/],
    ]
    for (const [type, json, message] of cases) {
      const error = rejection(() =>
        messageFromJson(type as typeof rony.Ping, 'T', json as Record<string, unknown>),
      )
      expect([error.wireCode, error.items], String(message)).toEqual(['E01', 'MESSAGE'])
      expect(error.description).toMatch(message)
    }
    // Exact numbers are fine for 64-bit fields, as protobuf JSON allows.
    const exact = messageFromJson(rony.Ping, 'Ping', { ID: -(2n ** 63n) })
    expect(rony.Ping.decode(exact).ID.toString()).toBe(String(-(2n ** 63n)))
    const repeated = messageFromJson(rony.GetNodes, 'GetNodes', { ReplicaSet: [1, 2n ** 64n - 1n] })
    expect(messageToJson(rony.GetNodes, repeated)).toEqual({
      ReplicaSet: ['1', '18446744073709551615'],
    })
  })

  it('treats null and absent as the default', () => {
    expect(messageFromJson(rony.Ping, 'Ping', null)).toHaveLength(0)
    expect(messageFromJson(rony.Ping, 'Ping', { ID: null })).toHaveLength(0)
  })
})

describe('JSON envelopes', () => {
  it('reads numeric request ids exactly over the whole uint64 range', () => {
    for (const id of [0n, 2n ** 53n + 1n, 9223372036854775808n, 2n ** 64n - 1n]) {
      const input = `{"requestId":${id},"cmd":"Ping","message":{"ID":${2n ** 62n + 1n}}}`
      const { requestId, json } = parseJsonEnvelope(utf8(input))
      expect(requestId).toBe(id)
      const envelope = jsonToEnvelope(json, registry)
      expect(envelope.requestId).toBe(id)
      expect(rony.Ping.decode(envelope.message).ID.toString()).toBe(String(2n ** 62n + 1n))
      // And back: the reply's digits are the request's.
      const reply = new TextDecoder().decode(encodeJsonEnvelope(envelope, registry))
      expect(reply).toBe(`{"requestId":${id},"cmd":"Ping","message":{"ID":"${2n ** 62n + 1n}"}}`)
    }
  })

  it('parses the Go framework shape, with numeric or string request ids', () => {
    for (const requestId of [5, '5']) {
      const { requestId: id, json } = parseJsonEnvelope(
        utf8(JSON.stringify({ requestId, header: { a: 'b' }, cmd: 'Ping', message: { ID: '9' } })),
      )
      expect(id).toBe(5n)
      const envelope = jsonToEnvelope(json, registry)
      expect(envelope).toMatchObject({
        ctor: C_Ping,
        requestId: 5n,
        header: [{ key: 'a', value: 'b' }],
      })
      expect(rony.Ping.decode(envelope.message).ID.toString()).toBe('9')
    }
  })

  it('writes replies with numeric ids, header object and the payload as JSON', () => {
    const bytes = encodeJsonEnvelope(
      {
        ctor: C_Ping,
        requestId: 2n ** 64n - 1n,
        header: [{ key: 'k', value: 'v' }],
        message: rony.Ping.encode({ ID: 3 }).finish(),
      },
      registry,
    )
    expect(new TextDecoder().decode(bytes)).toMatch(/^\{"requestId":18446744073709551615,/)
    expect(parseJson(new TextDecoder().decode(bytes))).toEqual({
      requestId: 2n ** 64n - 1n,
      header: { k: 'v' },
      cmd: 'Ping',
      message: { ID: '3' },
    })
  })

  it('writes an unregistered payload as base64 under its numeric constructor', () => {
    const bytes = encodeJsonEnvelope(
      { ctor: 5n, requestId: 1n, message: new Uint8Array([1, 2, 3]) },
      registry,
    )
    expect(text(bytes)).toEqual({ requestId: 1, cmd: '5', message: 'AQID' })
  })

  it('maps containers both ways', () => {
    const { json } = parseJsonEnvelope(
      utf8(
        JSON.stringify({
          cmd: 'MessageContainer',
          message: { SyncRun: true, Envelopes: [{ requestId: '1', cmd: 'Ping', message: {} }] },
        }),
      ),
    )
    const envelope = jsonToEnvelope(json, registry)
    expect(envelope.ctor).toBe(C_MessageContainer)
    const container = decodeContainer(envelope.message)
    expect(container.syncRun).toBe(true)
    expect(container.envelopes.map((inner) => inner.ctor)).toEqual([C_Ping])

    const reply = encodeJsonEnvelope(
      {
        ctor: C_MessageContainer,
        message: encodeContainer({ envelopes: [{ ctor: C_Ping, requestId: 1n }] }),
      },
      registry,
    )
    expect(text(reply)).toEqual({
      requestId: 0,
      cmd: 'MessageContainer',
      message: { Length: 1, Envelopes: [{ requestId: 1, cmd: 'Ping', message: {} }] },
    })
  })

  it("accepts the Go framework's container shape: protojson MessageEnvelopes, binary or JSON payloads", () => {
    const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')
    const { json } = parseJsonEnvelope(
      utf8(
        JSON.stringify({
          requestId: 3,
          cmd: 'MessageContainer',
          message: {
            Length: 2,
            SyncRun: true,
            Envelopes: [
              {
                Constructor: String(C_Ping),
                RequestID: '18446744073709551615',
                Message: b64(rony.Ping.encode({ ID: 7 }).finish()),
                Header: [{ Key: 'k', Value: 'v' }],
              },
              {
                Constructor: String(C_Ping),
                RequestID: 2,
                JsonEncoded: true,
                Message: b64(utf8('{"ID":"9223372036854775807"}')),
              },
            ],
          },
        }),
      ),
    )
    const container = decodeContainer(jsonToEnvelope(json, registry).message)
    expect(container.syncRun).toBe(true)
    const [first, second] = container.envelopes
    expect(first).toMatchObject({
      ctor: C_Ping,
      requestId: 2n ** 64n - 1n,
      header: [{ key: 'k', value: 'v' }],
    })
    expect(rony.Ping.decode(first!.message).ID.toString()).toBe('7')
    // A JsonEncoded payload is passed on as JSON text, as in a binary envelope.
    expect(second).toMatchObject({ ctor: C_Ping, requestId: 2n, jsonEncoded: true })
    expect(new TextDecoder().decode(second!.message)).toBe('{"ID":"9223372036854775807"}')

    const bad: [unknown, RegExp][] = [
      [{ Constructor: 'x' }, /Constructor: invalid value/],
      [{ Constructor: String(C_Ping), Nope: 1 }, /Nope: no such field/],
      [{ Constructor: String(C_MessageContainer) }, /do not nest/],
      [{ Constructor: String(C_Ping), Message: '%%' }, /Message/],
    ]
    for (const [entry, message] of bad) {
      const error = rejection(() =>
        jsonToEnvelope({ cmd: 'MessageContainer', message: { Envelopes: [entry] } }, registry),
      )
      expect([error.wireCode, error.items], JSON.stringify(entry)).toEqual(['E01', 'ENVELOPE'])
      expect(error.description).toMatch(message)
    }
  })

  it('rejects malformed envelopes with E01 and a stable code', () => {
    const bad = [
      '',
      'nul',
      '[1]',
      '"x"',
      '{"requestId":-1,"cmd":"Ping"}',
      '{"requestId":"18446744073709551616","cmd":"Ping"}',
      '{"requestId":1.5,"cmd":"Ping"}',
      '{"requestId":18446744073709551616,"cmd":"Ping"}',
      '{"requestId":-9007199254740993,"cmd":"Ping"}',
    ]
    for (const input of bad) {
      const error = rejection(() => parseJsonEnvelope(utf8(input)))
      expect([error.wireCode, error.items, error.code], input).toEqual([
        'E01',
        'ENVELOPE',
        'RONY_ERR_INVALID_JSON',
      ])
    }
    expect(rejection(() => parseJsonEnvelope(new Uint8Array([0xc3]))).code).toBe(
      'RONY_ERR_INVALID_JSON',
    )
    const shapes: [object, string][] = [
      [{ cmd: 'Ping', header: [1] }, 'ENVELOPE'],
      [{ cmd: 'Ping', header: { a: 1 } }, 'ENVELOPE'],
      [{ cmd: '' }, 'ENVELOPE'],
      [{ cmd: 'Nope' }, 'HANDLER'],
      [{ cmd: 'MessageContainer', message: {} }, 'ENVELOPE'],
      [
        { cmd: 'MessageContainer', message: { Envelopes: [{ cmd: 'MessageContainer' }] } },
        'ENVELOPE',
      ],
    ]
    for (const [json, items] of shapes) {
      expect(rejection(() => jsonToEnvelope(json, registry)).items, JSON.stringify(json)).toBe(
        items,
      )
    }
    const many = {
      cmd: 'MessageContainer',
      message: { Envelopes: [{ cmd: 'Ping' }, { cmd: 'Ping' }] },
    }
    expect(
      rejection(() => jsonToEnvelope(many, registry, { maxContainerEnvelopes: 1 })).description,
    ).toMatch(/more than 1 envelopes/)
  })

  it('never confuses a registered name with a colliding or unknown one', () => {
    const error = rejection(() => jsonToEnvelope({ cmd: 'ping' }, registry))
    expect(error.items).toBe('HANDLER')
    // A binary envelope with the same payload is what the JSON one stands for.
    const viaJson = jsonToEnvelope({ requestId: '1', cmd: 'Ping', message: { ID: 4 } }, registry)
    const binary = encodeEnvelope({
      ctor: C_Ping,
      requestId: 1n,
      message: rony.Ping.encode({ ID: 4 }).finish(),
    })
    expect(encodeEnvelope(viaJson)).toEqual(binary)
  })
})
