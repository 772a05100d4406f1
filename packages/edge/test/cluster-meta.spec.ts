import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_EDGE_META_BYTES,
  decodeEdgeMeta,
  type EdgeMeta,
  encodeEdgeMeta,
  metaBytes,
} from '../src/cluster/index.js'

const full: EdgeMeta = {
  replicaSet: 2,
  gateways: ['ws://10.0.0.1:8080/', 'http://10.0.0.1:8081/'],
  raft: '10.0.0.1:9001',
  tunnel: '10.0.0.1:9101',
  role: 'follower',
  leader: 'n3',
  term: 7,
}

/** What a decoded record looks like: every optional field present, maybe undefined. */
const decoded = (meta: EdgeMeta) => ({
  raft: undefined,
  tunnel: undefined,
  leader: undefined,
  ...meta,
})

/** The metadata map as gossip encodes it (`message Meta { map<string, string> Entries = 1 }`). */
const MetaType = new protobuf.Type('Meta').add(
  new protobuf.MapField('Entries', 1, 'string', 'string'),
)
const encodedSize = (meta: Record<string, string>) =>
  MetaType.encode(MetaType.fromObject({ Entries: meta })).finish().byteLength

describe('edge metadata schema', () => {
  it('writes the documented keys, all strings', () => {
    expect(encodeEdgeMeta(full)).toEqual({
      rony: '1',
      rs: '2',
      gw: 'ws://10.0.0.1:8080/ http://10.0.0.1:8081/',
      raft: '10.0.0.1:9001',
      tun: '10.0.0.1:9101',
      role: 'follower',
      ldr: 'n3',
      term: '7',
    })
    expect(encodeEdgeMeta({ replicaSet: 0, gateways: [], role: 'candidate', term: 0 })).toEqual({
      rony: '1',
      rs: '0',
      gw: '',
      role: 'candidate',
      term: '0',
    })
  })

  it('round-trips a record, with and without the optional fields', () => {
    const records: EdgeMeta[] = [
      full,
      { replicaSet: 0, gateways: [], role: 'learner', term: 0 },
      {
        replicaSet: Number.MAX_SAFE_INTEGER,
        gateways: ['/ip4/1.2.3.4/udp/4433/quic-v1'],
        role: 'leader',
        leader: 'n1',
        term: 2 ** 40,
      },
    ]
    for (const meta of records) {
      expect(decodeEdgeMeta(encodeEdgeMeta(meta))).toEqual({ ok: true, meta: decoded(meta) })
    }
  })

  it('reads a record that has keys from a later version of the same format', () => {
    const meta = { ...encodeEdgeMeta(full), shard: '3-9' }
    expect(decodeEdgeMeta(meta)).toEqual({ ok: true, meta: decoded(full) })
  })

  it('ignores a plain membership node, another format version, and malformed values', () => {
    const good = encodeEdgeMeta(full)
    const cases: [Record<string, string>, string][] = [
      [{}, 'not-an-edge'],
      [{ role: 'raft', addr: '10.0.0.33:9001' }, 'not-an-edge'],
      [{ ...good, rony: '2' }, 'version'],
      [{ ...good, rony: '0' }, 'version'],
      [{ ...good, rony: '' }, 'version'],
      [withoutKey(good, 'rs'), 'invalid'],
      [{ ...good, rs: '' }, 'invalid'],
      [{ ...good, rs: 'one' }, 'invalid'],
      [{ ...good, rs: '01' }, 'invalid'],
      [{ ...good, rs: '-1' }, 'invalid'],
      [{ ...good, rs: '1.5' }, 'invalid'],
      [{ ...good, rs: '9007199254740993' }, 'invalid'],
      [withoutKey(good, 'term'), 'invalid'],
      [{ ...good, term: '1e3' }, 'invalid'],
      [withoutKey(good, 'role'), 'invalid'],
      [{ ...good, role: 'boss' }, 'invalid'],
      [{ ...good, role: 'toString' }, 'invalid'],
      [withoutKey(good, 'gw'), 'invalid'],
      [{ ...good, gw: 'ws://a/  ws://b/' }, 'invalid'],
      [{ ...good, gw: ' ws://a/' }, 'invalid'],
      [{ ...good, gw: 'ws://a/\tws://b/' }, 'invalid'],
      [{ ...good, raft: '' }, 'invalid'],
      [{ ...good, tun: '10.0.0.1 9101' }, 'invalid'],
      [{ ...good, ldr: '' }, 'invalid'],
    ]
    for (const [meta, reason] of cases) {
      const result = decodeEdgeMeta(meta)
      expect({ meta, reason: result.ok ? 'ok' : result.reason }).toEqual({ meta, reason })
    }
  })

  it('reads only own keys, never through the prototype', () => {
    const inherited = Object.create(encodeEdgeMeta(full)) as Record<string, string>
    expect(decodeEdgeMeta(inherited)).toMatchObject({ ok: false, reason: 'not-an-edge' })
    const values = { ...encodeEdgeMeta(full), rs: 5 as unknown as string }
    expect(decodeEdgeMeta(values)).toMatchObject({ ok: false, reason: 'invalid' })
  })

  it('refuses to write a malformed record, naming the field', () => {
    const bad: [Partial<EdgeMeta>, RegExp][] = [
      [{ replicaSet: -1 }, /replicaSet/],
      [{ replicaSet: 1.5 }, /replicaSet/],
      [{ replicaSet: Number.NaN }, /replicaSet/],
      [{ replicaSet: 2 ** 53 }, /replicaSet/],
      [{ term: -1 }, /term/],
      [{ role: 'boss' as never }, /role/],
      [{ gateways: ['ws://a/ b'] }, /gateway/],
      [{ gateways: [''] }, /gateway/],
      [{ gateways: 'ws://a/' as never }, /gateways/],
      [{ raft: '' }, /raft/],
      [{ tunnel: 'a b' }, /tunnel/],
      [{ leader: '' }, /leader/],
      [{ leader: '\ud800' }, /leader/],
    ]
    for (const [patch, field] of bad) {
      expect(() => encodeEdgeMeta({ ...full, ...patch })).toThrow(
        expect.objectContaining({
          code: 'RONY_ERR_INVALID_META',
          message: expect.stringMatching(field),
        }),
      )
    }
  })

  it('measures metadata exactly as the protobuf map encodes it', () => {
    const metas: Record<string, string>[] = [
      {},
      encodeEdgeMeta(full),
      { k: '' },
      { κλειδί: 'τιμή 🙂' },
      { long: 'x'.repeat(200), longer: 'y'.repeat(20_000) },
    ]
    for (const meta of metas) expect(metaBytes(meta)).toBe(encodedSize(meta))
  })

  it('bounds the encoded size, and a large realistic record fits the default bound', () => {
    const large: EdgeMeta = {
      replicaSet: Number.MAX_SAFE_INTEGER,
      gateways: [
        'wss://[2001:db8:1234:5678:9abc:def0:1234:5678]:8443/',
        'https://[2001:db8:1234:5678:9abc:def0:1234:5678]:8444/rony',
        '/ip4/203.0.113.200/udp/4433/quic-v1/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK',
      ],
      raft: '[2001:db8:1234:5678:9abc:def0:1234:5678]:9001',
      tunnel: '[2001:db8:1234:5678:9abc:def0:1234:5678]:9101',
      role: 'candidate',
      leader: 'edge-eu-west-1-0042',
      term: Number.MAX_SAFE_INTEGER,
    }
    const meta = encodeEdgeMeta(large)
    expect(metaBytes(meta)).toBeLessThanOrEqual(DEFAULT_EDGE_META_BYTES)
    expect(DEFAULT_EDGE_META_BYTES).toBeLessThan(512) // gossip's default maxMetaBytes
    expect(() => encodeEdgeMeta(large, metaBytes(meta) - 1)).toThrow(
      expect.objectContaining({ code: 'RONY_ERR_MESSAGE_TOO_LARGE' }),
    )
    expect(encodeEdgeMeta(large, metaBytes(meta))).toEqual(meta)
    const many = {
      ...large,
      gateways: Array.from({ length: 8 }, (_, i) => `ws://10.0.0.${i}:8080/`),
    }
    expect(() =>
      encodeEdgeMeta({ ...many, gateways: [...many.gateways, ...large.gateways] }),
    ).toThrow(expect.objectContaining({ code: 'RONY_ERR_MESSAGE_TOO_LARGE' }))
  })
})

function withoutKey(meta: Record<string, string>, key: string): Record<string, string> {
  const { [key]: _, ...rest } = meta
  return rest
}
