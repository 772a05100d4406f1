import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { readExtras } from './emit.js'
import { findProtoFiles, loadRoot } from './load.js'
import { dtsImports, HEADER, renderDts, renderJs } from './render.js'
import { staticCode } from './static.js'

export interface GenerateInit {
  /** .proto files, or directories searched recursively for them. Imports resolve against each directory (a file's own directory), then the built-in `rony/options.proto` and `google/protobuf/*.proto`. */
  readonly inputs: readonly string[]
  /** Output directory; `a/b.proto` becomes `<out>/a/b.js` and `<out>/a/b.d.ts`. */
  readonly out: string
}

export interface GeneratedFile {
  /** The .proto's path under its include directory: `a/b.proto`. */
  readonly proto: string
  readonly js: string
  readonly dts: string
}

/**
 * Generates one ES module and its declarations per .proto: protobufjs's static messages,
 * `C_` constants and a typed descriptor per service. The same input gives byte-identical
 * output, whatever the order of `inputs`.
 */
export async function generate(init: GenerateInit): Promise<GeneratedFile[]> {
  const files = await render(init.inputs)
  for (const file of files) {
    const base = join(init.out, file.proto.replace(/\.proto$/, ''))
    await mkdir(dirname(base), { recursive: true })
    await writeIfChanged(`${base}.js`, file.js)
    await writeIfChanged(`${base}.d.ts`, file.dts)
  }
  return files
}

/**
 * Leaves an up-to-date file untouched and replaces a changed one by a rename, so a reader
 * running beside `rony gen` (a test importing the module) never sees it half written.
 */
async function writeIfChanged(path: string, text: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => undefined)
  if (current === text) return
  const temp = `${path}.${process.pid}.tmp`
  await writeFile(temp, text)
  await rename(temp, path)
}

/** `generate` without writing: the files' contents. */
export async function render(inputs: readonly string[]): Promise<GeneratedFile[]> {
  const { files, includes } = findProtoFiles(inputs)
  const out: GeneratedFile[] = []
  for (const file of files) {
    const root = loadRoot(file, includes)
    const extras = readExtras(root, file.path)
    // One protobufjs root per module, named by the file, so two generated modules never share one.
    const code = await staticCode(root, file.path, `rony-gen:${file.name}`)
    const header = `${HEADER}\n// source: ${file.name}\n`
    out.push({
      proto: file.name,
      js: header + code.js + renderJs(extras),
      dts: header + dtsImports(extras) + code.dts + renderDts(extras),
    })
  }
  return out
}
