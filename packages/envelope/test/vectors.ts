/**
 * Hand-written wire vectors for MessageEnvelope and MessageContainer, worked out from the
 * field numbers and wire types of proto/rony/envelope.proto (never produced by the encoder).
 */
import type { ContainerInit, EnvelopeInit } from '../src/index.js'
import { hex, U64_MAX } from './helpers.js'

// Tags are (field << 3) | wire type. MessageEnvelope: 08 = 1 varint (Constructor),
// 11 = 2 fixed64 (RequestID), 18 = 3 varint (JsonEncoded), 22 = 4 bytes (Message),
// 42 = 8 bytes (Auth), 52 = 10 bytes (Header). KeyValue: 0a = 1 bytes (Key), 12 = 2 bytes
// (Value). MessageContainer: 08 = 1 varint (Length), 12 = 2 bytes (Envelopes), 18 = 3 (SyncRun).
export const ALL_FIELDS_HEX = `
  08 01                           # ctor 1
  11 08 07 06 05 04 03 02 01      # requestId 0x0102030405060708, little-endian
  18 01                           # jsonEncoded
  22 02 68 69                     # message "hi"
  42 04 de ad be ef               # auth
  52 06 0a 01 61 12 01 62         # header { a: b }
`
export const ALL_FIELDS: EnvelopeInit = {
  ctor: 1n,
  requestId: 0x0102030405060708n,
  jsonEncoded: true,
  message: hex('6869'),
  auth: hex('deadbeef'),
  header: [{ key: 'a', value: 'b' }],
}

export const ENVELOPE_VECTORS: [name: string, hex: string, init: EnvelopeInit][] = [
  ['empty envelope', '', { ctor: 0n }],
  ['ctor 1', '08 01', { ctor: 1n }],
  // Ping = 0x31BD89B890000000: bits 0-27 are zero (80 80 80 80), then the 7-bit groups
  // 09 37 62 5e 31, every one but the last with the continuation bit: a 9-byte varint.
  ['ctor Ping', '08 80 80 80 80 89 b7 e2 de 31', { ctor: 3584172304239689728n }],
  // 2^64-1: nine groups of seven ones (ff x9) and the 64th bit alone (01).
  ['ctor 2^64-1', '08 ff ff ff ff ff ff ff ff ff 01', { ctor: U64_MAX }],
  ['requestId 2^64-1', '11 ff ff ff ff ff ff ff ff', { ctor: 0n, requestId: U64_MAX }],
  [
    'requestId 1 (fixed64, not a varint)',
    '11 01 00 00 00 00 00 00 00',
    { ctor: 0n, requestId: 1n },
  ],
  ['every field set', ALL_FIELDS_HEX, ALL_FIELDS],
  [
    'two header entries, in order',
    '08 01  52 06 0a 01 78 12 01 31  52 06 0a 01 78 12 01 32',
    {
      ctor: 1n,
      header: [
        { key: 'x', value: '1' },
        { key: 'x', value: '2' },
      ],
    },
  ],
  // Empty strings are not written (proto3), so these entries are 3 and 0 bytes long.
  [
    'header entries with empty key or value',
    '52 03 12 01 76  52 03 0a 01 6b  52 00',
    {
      ctor: 0n,
      header: [
        { key: '', value: 'v' },
        { key: 'k', value: '' },
        { key: '', value: '' },
      ],
    },
  ],
  // é = c3 a9; 日 = e6 97 a5; 本 = e6 9c ac; 😀 (U+1F600) = f0 9f 98 80. Entry: 2+2+2+10 = 16.
  [
    'non-ASCII header',
    '52 10 0a 02 c3 a9 12 0a e6 97 a5 e6 9c ac f0 9f 98 80',
    { ctor: 0n, header: [{ key: 'é', value: '日本😀' }] },
  ],
  // 40 x 'k' (0x28 bytes); 32 x 'x' + 'é' = 34 (0x22) bytes. Entry: 2+40+2+34 = 78 (0x4e).
  [
    'header strings over 32 characters',
    `52 4e 0a 28 ${'6b'.repeat(40)} 12 22 ${'78'.repeat(32)} c3 a9`,
    { ctor: 0n, header: [{ key: 'k'.repeat(40), value: `${'x'.repeat(32)}é` }] },
  ],
  // 33 x 'é' = 66 (0x42) bytes, non-ASCII from the first character. Entry: 2+66 = 68 (0x44).
  [
    'long non-ASCII header key',
    `52 44 0a 42 ${'c3a9'.repeat(33)}`,
    { ctor: 0n, header: [{ key: 'é'.repeat(33), value: '' }] },
  ],
  // 200 = 0x48 | 0x80, 1 → c8 01; entry 3+200 = 203 → cb 01.
  [
    'two-byte lengths',
    `52 cb 01 12 c8 01 ${'76'.repeat(200)}`,
    { ctor: 0n, header: [{ key: '', value: 'v'.repeat(200) }] },
  ],
  // 128 → 80 01.
  [
    '128-byte message',
    `22 80 01 ${'ab'.repeat(128)}`,
    { ctor: 0n, message: hex('ab'.repeat(128)) },
  ],
  // Lone surrogates are written as U+FFFD (ef bf bd), as TextEncoder does.
  // U+FEFF (a BOM) is data, kept as is: ef bb bf. Long form: 3+30 = 33 (0x21); entry 35 (0x23).
  [
    'BOM in a header key',
    '52 05 0a 03 ef bb bf',
    { ctor: 0n, header: [{ key: '\uFEFF', value: '' }] },
  ],
  [
    'BOM starting a long header key',
    `52 23 0a 21 ef bb bf ${'61'.repeat(30)}`,
    { ctor: 0n, header: [{ key: `\uFEFF${'a'.repeat(30)}`, value: '' }] },
  ],
  // Entry: 2+5+2+6 = 15 (0x0f).
  [
    'lone surrogates in header strings',
    `52 0f 0a 05 61 ef bf bd 62 12 06 ef bf bd ef bf bd`,
    { ctor: 0n, header: [{ key: 'a\uD800b', value: '\uDC00\uD800' }] },
  ],
  // 40 x 'x' + U+FFFD = 43 (0x2b) bytes. Entry: 2+43 = 45 (0x2d).
  [
    'lone surrogate ending a long header string',
    `52 2d 0a 2b ${'78'.repeat(40)} ef bf bd`,
    { ctor: 0n, header: [{ key: `${'x'.repeat(40)}\uD800`, value: '' }] },
  ],
]

export const LONE_SURROGATE = /[\uD800-\uDFFF]/u
export const hasLoneSurrogate = (init: EnvelopeInit) =>
  init.header?.some(({ key, value }) => LONE_SURROGATE.test(key + value)) ?? false

// The all-fields envelope is 2+9+2+4+6+8 = 31 (0x1f) bytes.
export const CONTAINER_VECTORS: [name: string, hex: string, init: ContainerInit][] = [
  ['empty container', '', { envelopes: [] }],
  ['one empty envelope', '08 01  12 00', { envelopes: [{ ctor: 0n }] }],
  [
    'two envelopes, syncRun',
    '08 02  12 02 08 01  12 04 08 02 18 01  18 01',
    { envelopes: [{ ctor: 1n }, { ctor: 2n, jsonEncoded: true }], syncRun: true },
  ],
  ['a full envelope', `08 01  12 1f ${ALL_FIELDS_HEX}`, { envelopes: [ALL_FIELDS] }],
]
