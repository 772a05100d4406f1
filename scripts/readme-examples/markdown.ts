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

export function extractBlocks(readme: string, markdown: string): ExampleBlock[] {
  const lines = markdown.split('\n')
  const blocks: ExampleBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '')
    if (!open) continue
    const [, fence = '```', language = '', info = ''] = open
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !(lines[i] ?? '').startsWith(fence); i++)
      body.push(lines[i] ?? '')
    if (i === lines.length) throw new Error(`${readme}:${start + 1}: code block is never closed`)
    if (!TS_LANGUAGES.has(language.toLowerCase())) continue
    blocks.push(parseBlock(readme, start + 1, body.join('\n'), info))
  }
  return blocks
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
