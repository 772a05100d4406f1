import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The client runs in browsers: nothing under src/ may import a Node built-in or lean on
// Node-only globals. (The built bundle is checked in a browser later; this guards the source.)
const srcDir = fileURLToPath(new URL('../src/', import.meta.url))

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Comments out: doc examples may import '@rony/client' or mention Node. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|(^|[^:])\/\/.*$/gm, '$1')
}

/**
 * Node-only modules: reached only through the `#quic-dialer` import, which browser
 * bundles resolve to `quic-unsupported.ts` instead (package.json `imports`, checked below
 * and in browser-bundle.spec.ts).
 */
const NODE_ONLY = new Set(['transport/quic-dialer.ts'])

const files = sources(srcDir)
  .map((path) => {
    const text = readFileSync(path, 'utf8')
    return { path: path.slice(srcDir.length), text, code: code(text) }
  })
  .filter((f) => !NODE_ONLY.has(f.path))

/** Every module specifier in `import … from '…'`, `export … from '…'` and `import('…')`. */
function specifiers(text: string): string[] {
  const found: string[] = []
  for (const match of text.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
    found.push(match[1]!)
  }
  return found
}

describe('browser safety of src/', () => {
  it('finds the sources', () => {
    expect(files.map((f) => f.path)).toContain('client.ts')
    expect(files.map((f) => f.path)).toContain('transport/ws.ts')
  })

  it("has no `from 'node:` import", () => {
    const offenders = files.filter((f) => /from\s+['"]node:/.test(f.text)).map((f) => f.path)
    expect(offenders).toEqual([])
  })

  it('imports no Node built-in, ws or Node-only package under any spelling', () => {
    const builtins = new Set(builtinModules)
    const offenders = files.flatMap((f) =>
      specifiers(f.code)
        .filter((s) => s.startsWith('node:') || builtins.has(s) || s === 'ws')
        .map((s) => `${f.path}: ${s}`),
    )
    expect(offenders).toEqual([])
  })

  it('only imports relative files and @rony/envelope', () => {
    const external = files.flatMap((f) =>
      specifiers(f.code)
        .filter((s) => !s.startsWith('./') && !s.startsWith('../'))
        .filter((s) => s !== '@rony/envelope' && s !== '#quic-dialer'),
    )
    expect(external).toEqual([])
  })

  it('reaches the Node-only modules through #quic-dialer only, never by path', () => {
    expect(files.map((f) => f.path)).toContain('transport/quic.ts')
    const offenders = files.flatMap((f) =>
      specifiers(f.code)
        .filter((s) =>
          [...NODE_ONLY].some((m) =>
            s.endsWith(m.slice(m.lastIndexOf('/') + 1).replace('.ts', '.js')),
          ),
        )
        .map((s) => `${f.path}: ${s}`),
    )
    expect(offenders).toEqual([])
  })

  it('uses no Node-only globals (process, Buffer, require)', () => {
    const offenders = files
      .filter((f) => /\b(?:process\.|Buffer\.|require\(|__dirname)/.test(f.code))
      .map((f) => f.path)
    expect(offenders).toEqual([])
  })
})
