import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { CodegenError } from './errors.js'

/** One .proto to generate: where it is and its path under its include directory. */
export interface ProtoFile {
  /** Absolute path. */
  readonly path: string
  /** Path under its include directory, `/`-separated: `demo/echo.proto`. */
  readonly name: string
}

/** Where imports are looked up besides the inputs: our rony/options.proto, then google/protobuf/*.proto. */
const BUILTIN_INCLUDES = [
  fileURLToPath(new URL('../proto/', import.meta.url)),
  dirname(createRequire(import.meta.url).resolve('protobufjs/package.json')),
]

/**
 * The .proto files named by `inputs` (directories are searched recursively), sorted by
 * name so the output does not depend on the order of the inputs, and the include
 * directories their imports are resolved against (each directory input, each file's own
 * directory, then the built-in ones).
 */
export function findProtoFiles(inputs: readonly string[]): {
  files: ProtoFile[]
  includes: string[]
} {
  const files = new Map<string, ProtoFile>()
  const includes: string[] = []
  for (const input of inputs) {
    const path = resolve(input)
    if (!existsSync(path)) {
      throw new CodegenError('RONY_ERR_CODEGEN_NOT_FOUND', `no such file or directory: ${input}`)
    }
    const base = statSync(path).isDirectory() ? path : dirname(path)
    if (!includes.includes(base)) includes.push(base)
    for (const file of base === path ? walk(path) : [path]) {
      files.set(file, { path: file, name: relative(base, file).split(sep).join('/') })
    }
  }
  const sorted = [...files.values()].sort(
    (a, b) => compare(a.name, b.name) || compare(a.path, b.path),
  )
  if (sorted.length === 0) {
    throw new CodegenError('RONY_ERR_CODEGEN_NOT_FOUND', `no .proto files in ${inputs.join(', ')}`)
  }
  return { files: sorted, includes: [...includes.sort(compare), ...BUILTIN_INCLUDES] }
}

/** Code-point order, independent of the locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function walk(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...walk(path))
    else if (entry.name.endsWith('.proto')) out.push(path)
  }
  return out
}

/** Parses `file` and what it imports into a fresh, resolved protobufjs root. */
export function loadRoot(file: ProtoFile, includes: readonly string[]): protobuf.Root {
  const root = new protobuf.Root()
  root.resolvePath = (origin, target) => {
    if (isAbsolute(target)) return target
    for (const dir of includes) {
      const candidate = join(dir, target)
      if (existsSync(candidate)) return candidate
    }
    return origin ? join(dirname(origin), target) : target
  }
  try {
    root.loadSync(file.path, { keepCase: false, alternateCommentMode: false })
    root.resolveAll()
  } catch (error) {
    throw parseError(error, file)
  }
  return root
}

/** protobufjs's errors name the file and line in the message: `… (path, line 12)`. */
function parseError(error: unknown, file: ProtoFile): CodegenError {
  const message = error instanceof Error ? error.message : String(error)
  if ((error as { code?: unknown }).code === 'ENOENT') {
    const missing = (error as { path?: string }).path ?? message
    return new CodegenError('RONY_ERR_CODEGEN_NOT_FOUND', `cannot find import ${missing}`, {
      file: file.path,
      cause: error,
    })
  }
  const at = /^(.*) \((.+), line (\d+)\)$/.exec(message)
  if (at) {
    return new CodegenError('RONY_ERR_CODEGEN_PARSE', at[1] ?? message, {
      file: at[2] ?? file.path,
      line: Number(at[3]),
      cause: error,
    })
  }
  return new CodegenError('RONY_ERR_CODEGEN_PARSE', message, { file: file.path, cause: error })
}
