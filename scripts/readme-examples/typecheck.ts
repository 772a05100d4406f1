// Type-checks README blocks (written to disk by run.ts's writeBlocks) with the repository's
// strict compiler options, against the workspace's sources, resolving each block's imports
// as the runner does: its README's sibling blocks, then its base directory.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { isFile, tsForJs, workspaceSource } from './workspace-sources.ts'

export type CheckedFile = { path: string; base: string }

const root = fileURLToPath(new URL('../../', import.meta.url))

function compilerOptions(): ts.CompilerOptions {
  const file = join(root, 'tsconfig.base.json')
  const { config } = ts.readConfigFile(file, ts.sys.readFile)
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root, undefined, file)
  return { ...options, noEmit: true, allowImportingTsExtensions: true, types: ['node'] }
}

/** Diagnostics of the given files, one formatted line each (empty when they typecheck). */
export function typecheck(files: readonly CheckedFile[]): string[] {
  const options = compilerOptions()
  const baseOf = new Map(files.map((f) => [f.path, f.base]))
  const host = ts.createCompilerHost(options)
  const lookup = (name: string, from: string) =>
    ts.resolveModuleName(name, from, options, host).resolvedModule
  host.resolveModuleNames = (names, containingFile) =>
    names.map((name) => {
      const source = workspaceSource(name, containingFile)
      if (source) return { resolvedFileName: source, extension: ts.Extension.Ts }
      const base = baseOf.get(containingFile)
      if (!base) return lookup(name, containingFile)
      if (name.startsWith('./') || name.startsWith('../')) {
        const sibling = tsForJs(join(dirname(containingFile), name))
        if (isFile(sibling)) return { resolvedFileName: sibling, extension: ts.Extension.Ts }
      }
      return lookup(name, join(base, 'example.ts'))
    })
  const program = ts.createProgram({ rootNames: [...baseOf.keys()], options, host })
  return files.flatMap(({ path }) =>
    ts.getPreEmitDiagnostics(program, program.getSourceFile(path)).map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n')
      if (!d.file || d.start === undefined) return text
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start)
      return `${d.file.fileName}:${line + 1}:${character + 1}: ${text}`
    }),
  )
}
