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

  it('reads "true"/"false" for top-level bools only (REST query and path values)', () => {
    const bytes = messageFromJson(rony.MessageEnvelope, 'MessageEnvelope', { JsonEncoded: 'true' })
    expect(rony.MessageEnvelope.decode(bytes).JsonEncoded).toBe(true)
    expect(() =>
      messageFromJson(rony.MessageEnvelope, 'MessageEnvelope', { JsonEncoded: 'yes' }),
    ).toThrow(/JsonEncoded: invalid value/)
  })

  it('treats null and absent as the default', () => {
    expect(messageFromJson(rony.Ping, 'Ping', null)).toHaveLength(0)
    expect(messageFromJson(rony.Ping, 'Ping', { ID: null })).toHaveLength(0)
  })
})

describe('JSON envelopes', () => {
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

  it('writes replies with decimal-string ids, header object and the payload as JSON', () => {
    const bytes = encodeJsonEnvelope(
      {
        ctor: C_Ping,
        requestId: 2n ** 64n - 1n,
        header: [{ key: 'k', value: 'v' }],
        message: rony.Ping.encode({ ID: 3 }).finish(),
      },
      registry,
    )
    expect(text(bytes)).toEqual({
      requestId: '18446744073709551615',
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
    expect(text(bytes)).toEqual({ requestId: '1', cmd: '5', message: 'AQID' })
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
      requestId: '0',
      cmd: 'MessageContainer',
      message: { Length: 1, Envelopes: [{ requestId: '1', cmd: 'Ping', message: {} }] },
    })
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
