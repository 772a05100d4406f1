/**
 * Exact JSON for 64-bit integers. `JSON.parse` turns every number into a double, so an
 * integer literal past 2^53 (a request id, an int64 field) comes out changed. Here such a
 * literal becomes a `bigint` instead, and `stringifyJson` writes a `bigint` as its digits,
 * so ids round-trip over the whole uint64 range. Every other value is as `JSON.parse` gives.
 *
 * Where the runtime gives a reviver the number's source text (Node ≥ 21, current browsers),
 * that is used; elsewhere a small parser takes over, but only for texts that have a run
 * of 16 or more digits: an integer literal of 15 digits or fewer is always exact as a double.
 */

/** An integer literal: no fraction, no exponent. */
const INTEGER_LITERAL = /^-?(0|[1-9]\d*)$/
/** Could hold an integer literal that is not a safe integer. */
const LONG_DIGIT_RUN = /\d{16}/

type SourceReviver = (key: string, value: unknown, context?: { source?: string }) => unknown

/** Whether `JSON.parse` hands revivers the source text of primitives. */
export const HAS_SOURCE_TEXT: boolean = (() => {
  let source: string | undefined
  ;(JSON.parse as (text: string, reviver: SourceReviver) => unknown)('1', (_key, value, ctx) => {
    source = ctx?.source
    return value
  })
  return source === '1'
})()

/** The value of a number literal: a bigint when it is an integer a double cannot hold exactly. */
function exactNumber(value: number, source: string): number | bigint {
  return Number.isSafeInteger(value) || !INTEGER_LITERAL.test(source) ? value : BigInt(source)
}

const reviveExact: SourceReviver = (_key, value, context) =>
  typeof value === 'number' && context?.source !== undefined
    ? exactNumber(value, context.source)
    : value

/**
 * Parses JSON text, keeping integer literals exact (a `bigint` for those outside
 * `Number.isSafeInteger`). Throws `SyntaxError` for invalid JSON.
 *
 * @param sourceText - test hook: `false` forces the portable parser
 */
export function parseJson(text: string, sourceText = HAS_SOURCE_TEXT): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text)
  if (sourceText) return (JSON.parse as (t: string, r: SourceReviver) => unknown)(text, reviveExact)
  return new PortableParser(text).parse()
}

/** Nesting deeper than this is refused (the parser recurses). */
const MAX_DEPTH = 512
const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y
const WHITESPACE = /[ \t\n\r]*/y

/** A recursive-descent JSON parser for runtimes without reviver source text. */
class PortableParser {
  private at = 0

  constructor(private readonly text: string) {}

  parse(): unknown {
    const value = this.value(0)
    this.skipWhitespace()
    if (this.at !== this.text.length) this.fail('unexpected text after the JSON value')
    return value
  }

  private fail(what: string): never {
    throw new SyntaxError(`${what} at position ${this.at}`)
  }

  private skipWhitespace(): void {
    WHITESPACE.lastIndex = this.at
    WHITESPACE.test(this.text)
    this.at = WHITESPACE.lastIndex
  }

  private value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail('JSON nested too deeply')
    this.skipWhitespace()
    const c = this.text[this.at]
    if (c === '{') return this.object(depth)
    if (c === '[') return this.array(depth)
    if (c === '"') return this.string()
    for (const [word, value] of LITERALS) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length
        return value
      }
    }
    NUMBER.lastIndex = this.at
    const match = NUMBER.exec(this.text)
    if (match === null) this.fail('unexpected character')
    this.at = NUMBER.lastIndex
    return exactNumber(Number(match[0]), match[0])
  }

  private string(): string {
    const start = this.at
    let i = start + 1
    for (;;) {
      const c = this.text.charCodeAt(i)
      if (Number.isNaN(c)) {
        this.at = i
        this.fail('unterminated string')
      }
      if (c === 0x22) break
      i += c === 0x5c ? 2 : 1
    }
    this.at = i + 1
    // JSON.parse checks escapes and control characters.
    return JSON.parse(this.text.slice(start, this.at)) as string
  }

  private array(depth: number): unknown[] {
    this.at++
    const out: unknown[] = []
    this.skipWhitespace()
    if (this.text[this.at] === ']') {
      this.at++
      return out
    }
    for (;;) {
      out.push(this.value(depth + 1))
      this.skipWhitespace()
      const c = this.text[this.at++]
      if (c === ']') return out
      if (c !== ',') this.fail("expected ',' or ']'")
    }
  }

  private object(depth: number): Record<string, unknown> {
    this.at++
    const out: Record<string, unknown> = {}
    this.skipWhitespace()
    if (this.text[this.at] === '}') {
      this.at++
      return out
    }
    for (;;) {
      this.skipWhitespace()
      if (this.text[this.at] !== '"') this.fail('expected a property name')
      const key = this.string()
      this.skipWhitespace()
      if (this.text[this.at++] !== ':') this.fail("expected ':'")
      // An own property even for "__proto__", as JSON.parse makes it.
      Object.defineProperty(out, key, {
        value: this.value(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      })
      this.skipWhitespace()
      const c = this.text[this.at++]
      if (c === '}') return out
      if (c !== ',') this.fail("expected ',' or '}'")
    }
  }
}

const LITERALS: readonly [string, unknown][] = [
  ['true', true],
  ['false', false],
  ['null', null],
]

/**
 * `JSON.stringify` for the values `parseJson` and protobufjs' `toObject` produce, writing
 * a `bigint` as its decimal digits (a JSON number). `undefined` properties are left out.
 */
export function stringifyJson(value: unknown): string {
  switch (typeof value) {
    case 'bigint':
      return value.toString()
    case 'object': {
      if (value === null) return 'null'
      if (Array.isArray(value)) {
        return `[${value.map((item) => (item === undefined ? 'null' : stringifyJson(item))).join(',')}]`
      }
      const parts: string[] = []
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key]
        if (item !== undefined) parts.push(`${JSON.stringify(key)}:${stringifyJson(item)}`)
      }
      return `{${parts.join(',')}}`
    }
    default:
      return JSON.stringify(value) ?? 'null'
  }
}
