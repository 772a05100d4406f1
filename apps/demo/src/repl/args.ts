/**
 * The REPL's command line: words (quotes keep spaces and keep a word from being read as
 * `via` or an option), an optional `via <node>`, and `--name` / `--name value` options.
 */

/** A mistake in what was typed: printed as is, the REPL carries on. */
export class ReplInputError extends Error {
  readonly code = 'RONY_ERR_REPL_INPUT'
}

interface Word {
  readonly text: string
  /** Written in quotes: always a plain word, never `via` or an option. */
  readonly quoted: boolean
}

/** Splits a line into words; `"…"` and `'…'` group words, `\` escapes the next character. */
export function splitWords(line: string): Word[] {
  const words: Word[] = []
  let text = ''
  let quoted = false
  let inWord = false
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!
    if (char === '\\' && i + 1 < line.length) {
      text += line[++i]
      inWord = true
    } else if (quote !== undefined) {
      if (char === quote) quote = undefined
      else text += char
    } else if (char === '"' || char === "'") {
      quote = char
      quoted = true
      inWord = true
    } else if (/\s/.test(char)) {
      if (inWord) words.push({ text, quoted })
      text = ''
      quoted = false
      inWord = false
    } else {
      text += char
      inWord = true
    }
  }
  if (quote !== undefined) throw new ReplInputError(`unclosed ${quote} quote`)
  if (inWord) words.push({ text, quoted })
  return words
}

/** What a command accepts besides its plain words: option names and whether each takes a value. */
export interface ArgSpec {
  readonly via?: boolean
  readonly options?: Readonly<Record<string, 'flag' | 'value'>>
}

export interface Args {
  readonly words: readonly string[]
  /** The node after `via`, if given. */
  readonly via: string | undefined
  /** `--flag` → `true`, `--name value` or `--name=value` → the value. */
  readonly options: ReadonlyMap<string, string | true>
}

export function parseArgs(command: string, words: readonly Word[], spec: ArgSpec): Args {
  const plain: string[] = []
  const options = new Map<string, string | true>()
  let via: string | undefined
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!
    if (word.quoted) {
      plain.push(word.text)
    } else if (word.text === 'via' && spec.via) {
      const node = words[++i]
      if (node === undefined) throw new ReplInputError(`${command}: 'via' needs a node id`)
      if (via !== undefined) throw new ReplInputError(`${command}: 'via' given twice`)
      via = node.text
    } else if (word.text.startsWith('--')) {
      const [name, inline] = splitOption(word.text.slice(2))
      const kind = spec.options?.[name]
      if (kind === undefined) throw new ReplInputError(`${command}: unknown option --${name}`)
      if (kind === 'flag') {
        if (inline !== undefined) throw new ReplInputError(`${command}: --${name} takes no value`)
        options.set(name, true)
      } else {
        const value = inline ?? words[++i]?.text
        if (value === undefined) throw new ReplInputError(`${command}: --${name} needs a value`)
        options.set(name, value)
      }
    } else {
      plain.push(word.text)
    }
  }
  return { words: plain, via, options }
}

function splitOption(text: string): [string, string | undefined] {
  const at = text.indexOf('=')
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)]
}

/** A whole number in [min, max], or a clear error naming `what`. */
export function integerIn(command: string, what: string, text: string, min: number, max: number) {
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new ReplInputError(
      `${command}: ${what} must be a whole number from ${min} to ${max}, got '${text}'`,
    )
  }
  return value
}
