/**
 * Paths in apps/demo, found from wherever this module runs: its source (src/) or a bundle
 * that includes it (.bundle/), so that a bundled supervisor still finds node.ts, the page
 * and the packages' sources.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function demoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === '@rony/demo') {
      return dir
    }
    if (dirname(dir) === dir) throw new Error(`apps/demo not found above ${from}`)
  }
}

/** apps/demo. */
export const DEMO_ROOT = demoRoot(dirname(fileURLToPath(import.meta.url)))

/** A path under apps/demo: `demoPath('src', 'cluster', 'node.ts')`. */
export const demoPath = (...parts: string[]): string => join(DEMO_ROOT, ...parts)
