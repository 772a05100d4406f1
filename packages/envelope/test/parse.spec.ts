import { describe, expect, it } from 'vitest'
import { parseJson, stringifyJson } from '../src/index.js'
import { HAS_SOURCE_TEXT } from '../src/json/parse.js'

const TEXTS = [
  '0',
  '-0',
  '1.5e300',
  '"a\\"b\\\\c\\u00e9"',
  '[]',
  '{}',
  ' { "a" : [ 1 , 2.5 , -3e2 , true , false , null , "x" ] } ',
  '{"requestId":18446744073709551615,"cmd":"Ping","message":{"ID":-9223372036854775808}}',
  '{"id":9007199254740991,"unsafe":9007199254740993,"float":9007199254740993.0}',
  '{"big":12345678901234567890123,"exp":1234567890123456789e0}',
  '{"__proto__":{"polluted":1},"n":1234567890123456789}',
  '{"s":"12345678901234567890 in a string"}',
]

describe('parseJson', () => {
  it('is exact for integer literals past 2^53, and JSON.parse for everything else', () => {
    expect(parseJson('{"a":9007199254740993,"b":[18446744073709551615,1.5]}')).toEqual({
      a: 9007199254740993n,
      b: [18446744073709551615n, 1.5],
    })
    expect(parseJson('{"a":9007199254740991}')).toEqual({ a: 9007199254740991 })
    expect(parseJson('{"f":9007199254740993.0,"e":1e400}')).toEqual({
      f: 9007199254740992,
      e: Number.POSITIVE_INFINITY,
    })
  })

  it('uses the source text where the runtime has it (Node 24 does)', () => {
    expect(HAS_SOURCE_TEXT).toBe(true)
  })

  it('gives the same values without reviver source text (older browsers)', () => {
    for (const text of TEXTS) {
      expect(parseJson(text, false), text).toEqual(parseJson(text, true))
    }
    const polluted = parseJson('{"__proto__":{"p":1},"n":12345678901234567890}', false) as object
    expect(Object.getPrototypeOf(polluted)).toBe(Object.prototype)
    expect(Object.keys(polluted)).toEqual(['__proto__', 'n'])
  })

  it('refuses what JSON.parse refuses, on both paths', () => {
    const bad = [
      '',
      '{',
      '[1,]',
      '{"a":1,}',
      '01234567890123456789',
      '12345678901234567890 1',
      '"12345678901234567890',
      '{"a":"\u0001","b":12345678901234567890}',
      '{a:12345678901234567890}',
      '-',
      '1.',
    ]
    for (const text of bad) {
      expect(() => JSON.parse(text), text.slice(0, 20)).toThrow(SyntaxError)
      expect(() => parseJson(text, false), text.slice(0, 20)).toThrow(SyntaxError)
      expect(() => parseJson(text, true), text.slice(0, 20)).toThrow()
    }
    // The portable parser recurses, so it bounds nesting instead of overflowing the stack.
    const deep = `${'['.repeat(10_000)}1234567890123456789${']'.repeat(10_000)}`
    expect(() => parseJson(deep, false)).toThrow(/nested too deeply/)
  })
})

describe('stringifyJson', () => {
  it('writes bigints as number digits and otherwise as JSON.stringify', () => {
    const value = { id: 18446744073709551615n, list: [1, 'a', null, true], skip: undefined }
    expect(stringifyJson(value)).toBe('{"id":18446744073709551615,"list":[1,"a",null,true]}')
    for (const text of [TEXTS[7]!, TEXTS[10]!, TEXTS[6]!, TEXTS[3]!]) {
      const parsed = parseJson(text)
      expect(parseJson(stringifyJson(parsed)), text).toEqual(parsed)
    }
  })
})
