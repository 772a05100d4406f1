// Module resolution for README examples run in a child process (`node --import` this file):
// `@rony/<pkg>` and `@rony/<pkg>/<subpath>` resolve to the workspace's TypeScript sources, as
// the root vitest.config.ts does for tests, so an example runs what the tests test without a
// build. Node's own type stripping loads the sources; this only resolves.
//
// RONY_EXAMPLE_DIR is the directory the README's blocks are written to (a block imports
// another as './<name>.js'); RONY_EXAMPLE_BASE is where the rest of a block's imports resolve
// from (the README's directory, or its `base=`), as if the block were a file there.
import { type ResolveFnOutput, type ResolveHookContext, registerHooks } from 'node:module'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { isFile, tsForJs, workspaceSource } from './workspace-sources.ts'

const exampleDir = process.env.RONY_EXAMPLE_DIR
const baseDir = process.env.RONY_EXAMPLE_BASE

const isRelative = (specifier: string) => specifier.startsWith('./') || specifier.startsWith('../')

function resolve(
  specifier: string,
  context: ResolveHookContext,
  nextResolve: (specifier: string, context?: Partial<ResolveHookContext>) => ResolveFnOutput,
): ResolveFnOutput {
  const parent = context.parentURL?.startsWith('file:')
    ? fileURLToPath(context.parentURL)
    : undefined
  const source = workspaceSource(specifier, parent)
  if (source) return { url: pathToFileURL(source).href, shortCircuit: true }

  if (parent && exampleDir && baseDir && dirname(parent) === exampleDir) {
    // A block: its siblings first, then everything as if it sat in the base directory.
    if (isRelative(specifier)) {
      const sibling = tsForJs(join(dirname(parent), specifier))
      if (isFile(sibling)) return { url: pathToFileURL(sibling).href, shortCircuit: true }
      return nextResolve(pathToFileURL(tsForJs(join(baseDir, specifier))).href, context)
    }
    return nextResolve(specifier, {
      ...context,
      parentURL: pathToFileURL(join(baseDir, 'example.ts')).href,
    })
  }

  if (parent && isRelative(specifier) && !parent.includes(`${sep}node_modules${sep}`)) {
    return nextResolve(pathToFileURL(tsForJs(join(dirname(parent), specifier))).href, context)
  }
  return nextResolve(specifier, context)
}

registerHooks({ resolve })
