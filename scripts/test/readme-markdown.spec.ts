import { describe, expect, test } from 'vitest'
import { extractBlocks, extractFileCopies } from '../readme-examples/markdown.ts'

const fence = '```'

describe('extractBlocks', () => {
  test('takes ts and typescript blocks only, with their line and attributes', () => {
    const markdown = [
      '# title',
      `${fence}sh`,
      'npm install x',
      fence,
      `${fence}ts server`,
      '// server.ts',
      'await start()',
      fence,
      `${fence}typescript needs=server.ts base=../demo`,
      'await call()',
      fence,
      `${fence}ts processes=3`,
      'join(process.argv[2])',
      fence,
      `${fence}ts no-run`,
      'fragment(…)',
      fence,
      `${fence}ts check-only`,
      "suite('x', {})",
      fence,
    ].join('\n')
    const blocks = extractBlocks('README.md', markdown)
    expect(
      blocks.map((b) => [
        b.line,
        b.file,
        b.run,
        b.typecheck,
        b.server,
        b.needs,
        b.processes,
        b.base,
      ]),
    ).toEqual([
      [5, 'server.ts', true, true, true, undefined, 1, undefined],
      [9, 'line-9.ts', true, true, false, 'server.ts', 1, '../demo'],
      [12, 'line-12.ts', true, true, false, undefined, 3, undefined],
      [15, 'line-15.ts', false, false, false, undefined, 1, undefined],
      [18, 'line-18.ts', false, true, false, undefined, 1, undefined],
    ])
    expect(blocks[0]?.code).toBe('// server.ts\nawait start()')
  })

  test('a misspelt attribute or an unclosed block is an error, not a silent skip', () => {
    expect(() => extractBlocks('R.md', `${fence}ts norun\nx\n${fence}`)).toThrow(/R.md:1: unknown/)
    expect(() => extractBlocks('R.md', `${fence}ts processes=0\nx\n${fence}`)).toThrow(/unknown/)
    expect(() => extractBlocks('R.md', `text\n${fence}ts\nx`)).toThrow(
      /R.md:2: code block is never closed/,
    )
  })

  test('a block inside a longer fence stays part of it', () => {
    const markdown = `${'````'}md\n${fence}ts\nnot code\n${fence}\n${'````'}\n`
    expect(extractBlocks('R.md', markdown)).toEqual([])
  })
})

describe('extractFileCopies', () => {
  test('takes blocks of any language that name a file, with their line and code', () => {
    const markdown = [
      `${fence}proto file=proto/demo/greeter.proto`,
      'syntax = "proto3";',
      fence,
      `${fence}sh`,
      'npx rony gen proto --out src/gen',
      fence,
      `${fence}json  file=../package.json`,
      '{}',
      fence,
    ].join('\n')
    expect(extractFileCopies('README.md', markdown)).toEqual([
      { line: 1, path: 'proto/demo/greeter.proto', code: 'syntax = "proto3";' },
      { line: 7, path: '../package.json', code: '{}' },
    ])
  })

  test('a ts block cannot name a file: it runs, and extractBlocks refuses the attribute', () => {
    const markdown = [`${fence}ts file=x.ts`, 'run()', fence].join('\n')
    expect(() => extractFileCopies('README.md', markdown)).toThrow(/file= is for blocks/)
    expect(() => extractBlocks('README.md', markdown)).toThrow(/unknown code block attribute/)
  })
})
