import { describe, expect, it } from 'vitest'
import { gossip } from '../src/index.js'
import { sim } from './sim.js'

/** Values a JavaScript caller (or parsed JSON) can pass where the types say strings. */
const BAD: [string, unknown][] = [
  ['a number value', { port: 8080 }],
  ['a null value', { role: null }],
  ['an undefined value', { role: undefined }],
  ['an object value', { nested: { a: 'b' } }],
  ['null', null],
  ['a string', 'role=api'],
  ['an array', ['api']],
  ['a Map', new Map([['role', 'api']])],
  ['a symbol key', { [Symbol('k')]: 'v' }],
  ['a lone surrogate in a value', { role: 'api\uD800' }],
  ['a lone surrogate in a key', { '\uDC00': 'api' }],
]

describe('metadata is checked as its type says', () => {
  for (const [what, meta] of BAD) {
    it(`refuses ${what} in the options and in updateMeta() with RONY_ERR_INVALID_META`, async () => {
      expect(() => gossip({ id: 'x', meta: meta as Record<string, string> })).toThrow(
        expect.objectContaining({ code: 'RONY_ERR_INVALID_META' }),
      )
      const s = sim({ seed: 61 })
      const g = await s.spawn('a', { meta: { role: 'api' } })
      await expect(g.updateMeta(meta as Record<string, string>)).rejects.toMatchObject({
        code: 'RONY_ERR_INVALID_META',
      })
      expect(g.local.meta).toEqual({ role: 'api' })
      await s.close()
    })
  }

  it('takes plain objects of strings, with or without a prototype, and keeps a copy', async () => {
    const bare = Object.assign(Object.create(null) as Record<string, string>, { role: 'raft' })
    const s = sim({ seed: 62 })
    const init = { role: 'api', 'emoji 🙂': 'ok' }
    const g = await s.spawn('a', { meta: init })
    init.role = 'changed'
    expect(g.local.meta).toEqual({ role: 'api', 'emoji 🙂': 'ok' })
    await g.updateMeta(bare)
    expect(g.local.meta).toEqual({ role: 'raft' })
    await s.close()
  })
})
