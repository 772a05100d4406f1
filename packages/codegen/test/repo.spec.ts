import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { render } from '../src/index.js'
import { GENERATE_TIMEOUT_MS } from './timeouts.js'

// The repository generates its own messages (envelope, gossip, raft, testing, the demo) with
// `rony gen`, from each workspace's `generate` script, and commits the output. This checks on
// sources, with no build, that the committed files are what rony gen writes from proto/ today;
// CI's `check:generated` checks the same after `pnpm generate`.

const root = resolve(import.meta.dirname, '../../..')
const generating = ['packages', 'apps']
  .flatMap((dir) => readdirSync(join(root, dir)).map((name) => join(dir, name)))
  .filter((dir) => existsSync(join(root, dir, 'src/gen')))
  .sort()

/** `rony gen <inputs...> --out <dir>`, or the bin run by path as `node <…>/rony.js gen …`. */
const RONY_GEN = /^(?:rony|node \S+\/rony\.js) gen ((?:\S+ )+)--out (\S+)$/

function generateScript(dir: string): string | undefined {
  const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'))
  return manifest.scripts?.generate
}

describe('the repository generates its own code with rony gen', () => {
  it('finds the workspaces that commit generated code', () => {
    expect(generating).toEqual(
      expect.arrayContaining([
        'apps/demo',
        'packages/envelope',
        'packages/gossip',
        'packages/raft',
        'packages/testing',
      ]),
    )
  })

  it.each(generating)('%s: `generate` runs rony gen', (dir) => {
    expect(generateScript(dir)).toMatch(RONY_GEN)
  })

  it.each(generating)(
    '%s: src/gen is what rony gen writes now',
    async (dir) => {
      const [, inputs = '', out = ''] = RONY_GEN.exec(generateScript(dir) ?? '') ?? []
      const files = await render(
        inputs
          .trim()
          .split(' ')
          .map((input) => join(root, dir, input)),
      )
      expect(files.length).toBeGreaterThan(0)
      for (const file of files) {
        const base = join(root, dir, out, file.proto.replace(/\.proto$/, ''))
        expect(readFileSync(`${base}.js`, 'utf8'), `${base}.js`).toBe(file.js)
        expect(readFileSync(`${base}.d.ts`, 'utf8'), `${base}.d.ts`).toBe(file.dts)
      }
    },
    GENERATE_TIMEOUT_MS,
  )
})
