// Finds the TypeScript code blocks of a README and reads how each one is to be run.
//
// A block is fenced with ```ts (or ```typescript); words after the language are attributes:
//   no-run         not runnable on its own (a signature, a fragment): counted and listed as
//                  skipped, and not type-checked either
//   check-only     type-checked but not run: code that needs another runner, e.g. a vitest
//                  spec; listed as skipped by the run
//   server         runs until its top level has finished, stays up while the blocks that
//                  name it in `needs=` run, then gets SIGTERM and must exit 0 (or die of it).
//                  Server blocks run one at a time, so they may share fixed ports (8080);
//                  other blocks run in parallel: port 0, or a port no other block uses
//   needs=<file>   starts once the `server` block written as <file> is up
//   processes=<n>  runs in n processes started together (a cluster); process i gets
//                  argv[2] = 'i' (1-based). Once every process has finished its top level,
//                  those still running (serving the others) get SIGTERM and may die of it
//   base=<dir>     resolves the block's relative imports and packages from <dir> (relative to the
//                  README) instead of the README's directory, e.g. to reach a generated module
// A block whose first line is `// <name>.ts` is written as <name>.ts, so the README's other
// blocks can import it as './<name>.js'.
//
// A block of any language with `file=<path>` (relative to the README) shows that file of the
// repository as it is, e.g. the `.proto` a ts block's generated module comes from
// (```proto file=../proto/demo/greeter.proto); the test holds the two equal.

export type ExampleBlock = {
  /** README path relative to the repository root. */
  readme: string
  /** 1-based line of the opening fence. */
  line: number
  code: string
  /** File the block is written as: its `// <name>.ts` comment, or a name from its line. */
  file: string
  run: boolean
  typecheck: boolean
  server: boolean
  needs: string | undefined
  processes: number
  base: string | undefined
}

const FENCE = /^(`{3,}|~{3,})\s*(\S*)\s*(.*)$/
const TS_LANGUAGES = new Set(['ts', 'typescript'])
const FILE_COMMENT = /^\/\/\s*([\w.-]+\.ts)\b/

type Fenced = { line: number; language: string; info: string; code: string }

function fencedBlocks(readme: string, markdown: string): Fenced[] {
  const lines = markdown.split('\n')
  const blocks: Fenced[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '')
    if (!open) continue
    const [, fence = '```', language = '', info = ''] = open
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !(lines[i] ?? '').startsWith(fence); i++)
      body.push(lines[i] ?? '')
    if (i === lines.length) throw new Error(`${readme}:${start + 1}: code block is never closed`)
    blocks.push({ line: start + 1, language: language.toLowerCase(), info, code: body.join('\n') })
  }
  return blocks
}

export function extractBlocks(readme: string, markdown: string): ExampleBlock[] {
  return fencedBlocks(readme, markdown)
    .filter((block) => TS_LANGUAGES.has(block.language))
    .map((block) => parseBlock(readme, block.line, block.code, block.info))
}

/** A block that shows a file of the repository: its `file=` path, relative to the README. */
export type FileCopy = { line: number; path: string; code: string }

export function extractFileCopies(readme: string, markdown: string): FileCopy[] {
  return fencedBlocks(readme, markdown).flatMap(({ line, language, info, code }) => {
    const path = /(?:^|\s)file=(\S+)/.exec(info)?.[1]
    if (path && TS_LANGUAGES.has(language)) {
      throw new Error(`${readme}:${line}: file= is for blocks that are not run (a ts block runs)`)
    }
    return path ? [{ line, path, code }] : []
  })
}

function parseBlock(readme: string, line: number, code: string, info: string): ExampleBlock {
  const block: ExampleBlock = {
    readme,
    line,
    code,
    file: FILE_COMMENT.exec(code)?.[1] ?? `line-${line}.ts`,
    run: true,
    typecheck: true,
    server: false,
    needs: undefined,
    processes: 1,
    base: undefined,
  }
  for (const word of info.split(/\s+/).filter(Boolean)) {
    const [key, value] = word.split('=', 2)
    if (key === 'no-run' && value === undefined) {
      block.run = false
      block.typecheck = false
    } else if (key === 'check-only' && value === undefined) block.run = false
    else if (key === 'server' && value === undefined) block.server = true
    else if (key === 'needs' && value) block.needs = value
    else if (key === 'base' && value) block.base = value
    else if (key === 'processes' && value && /^[1-9]\d*$/.test(value)) {
      block.processes = Number(value)
    } else throw new Error(`${readme}:${line}: unknown code block attribute '${word}'`)
  }
  if (block.server && block.processes > 1) {
    throw new Error(`${readme}:${line}: a server block runs in one process`)
  }
  return block
}
