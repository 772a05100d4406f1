import { parseArgs } from 'node:util'
import { CodegenError } from './errors.js'
import { generate } from './generate.js'

const USAGE = `usage: rony gen <proto dir or files...> --out <dir>

Generates one ES module + .d.ts per .proto: protobufjs static messages, C_ constructor
ids and a typed descriptor per service. Directories are searched for .proto files;
imports resolve against them, then rony/options.proto and google/protobuf/*.proto.`

/** Writes to the terminal; injectable so tests and embedders can capture it. */
export interface CliIo {
  out(text: string): void
  err(text: string): void
}

const STDIO: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
}

/**
 * Runs `rony <args>` and resolves to the exit code: 0 done, 1 a .proto could not be
 * generated, 2 bad usage.
 */
export async function main(args: readonly string[], io: CliIo = STDIO): Promise<number> {
  try {
    const [command, ...rest] = args
    if (command === undefined || command === '--help' || command === '-h') {
      io.out(USAGE)
      return command === undefined ? 2 : 0
    }
    if (command !== 'gen') throw usage(`unknown command ${JSON.stringify(command)}`)
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    })
    if (values.help) {
      io.out(USAGE)
      return 0
    }
    if (positionals.length === 0) throw usage('no .proto files or directories given')
    if (!values.out) throw usage('--out <dir> is required')
    const files = await generate({ inputs: positionals, out: values.out })
    io.out(`rony gen: ${files.length} .proto → ${values.out}`)
    return 0
  } catch (error) {
    if (error instanceof CodegenError) {
      io.err(`rony: ${error.message}`)
      if (error.code === 'RONY_ERR_CODEGEN_USAGE') io.err(USAGE)
      return error.code === 'RONY_ERR_CODEGEN_USAGE' ? 2 : 1
    }
    if ((error as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS')) {
      io.err(`rony: ${(error as Error).message}`)
      io.err(USAGE)
      return 2
    }
    throw error
  }
}

function usage(message: string): CodegenError {
  return new CodegenError('RONY_ERR_CODEGEN_USAGE', message)
}
