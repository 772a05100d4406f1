/**
 * What `rony gen` reports: a bad command line, an unreadable or unparsable .proto, or an
 * option it cannot read. `code` is stable for programs to test; `file` and `line` say
 * where, when known.
 *
 * | code                        | meaning                                              |
 * | --------------------------- | ---------------------------------------------------- |
 * | RONY_ERR_CODEGEN_USAGE      | bad arguments: no input, no `--out`, unknown flag    |
 * | RONY_ERR_CODEGEN_NOT_FOUND  | an input or an imported .proto does not exist        |
 * | RONY_ERR_CODEGEN_PARSE      | a .proto does not parse or a type does not resolve   |
 * | RONY_ERR_CODEGEN_OPTION     | a Rony option has a value it does not allow          |
 * | RONY_ERR_CODEGEN_CONFLICT   | two generated names collide                          |
 */
export type CodegenErrorCode =
  | 'RONY_ERR_CODEGEN_USAGE'
  | 'RONY_ERR_CODEGEN_NOT_FOUND'
  | 'RONY_ERR_CODEGEN_PARSE'
  | 'RONY_ERR_CODEGEN_OPTION'
  | 'RONY_ERR_CODEGEN_CONFLICT'

export interface CodegenErrorOptions extends ErrorOptions {
  readonly file?: string
  readonly line?: number
}

export class CodegenError extends Error {
  override readonly name = 'CodegenError'
  readonly code: CodegenErrorCode
  /** The .proto the error is in, when known. */
  readonly file: string | undefined
  /** Its 1-based line, when known. */
  readonly line: number | undefined

  constructor(code: CodegenErrorCode, message: string, options: CodegenErrorOptions = {}) {
    const where = options.file ? `${options.file}${options.line ? `:${options.line}` : ''}: ` : ''
    super(where + message, options)
    this.code = code
    this.file = options.file
    this.line = options.line
  }
}
