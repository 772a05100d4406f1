import { afterEach, describe, expect, it } from 'vitest'
import { frame, Keyring, unframe } from '../src/codec/crypto.js'
import * as wire from '../src/codec/wire.js'
import { addr, type Sim, sim, view } from './sim.js'

const key = (b: number) => new Uint8Array(32).fill(b)
const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${i}`)

describe('AES-256-GCM keyring', () => {
  let s: Sim | undefined
  afterEach(async () => {
    await s?.close()
  })

  it('seals and opens with any installed key; refuses tampering and plaintext', () => {
    const ring = new Keyring([key(1)])
    const compound = wire.buildCompound([wire.ping(7, 'n1')])
    const sealed = frame(compound, ring)
    expect(sealed[0]).toBe(0x01)
    expect(unframe(sealed, ring)).toEqual(compound)
    const other = new Keyring([key(2), key(1)])
    expect(unframe(sealed, other)).toEqual(compound) // a secondary key opens it
    const tampered = sealed.slice()
    tampered[20]! ^= 1
    expect(unframe(tampered, ring)).toBe('decrypt')
    expect(unframe(sealed.subarray(0, 20), ring)).toBe('truncated')
    expect(unframe(frame(compound, undefined), ring)).toBe('unencrypted')
    expect(unframe(sealed, undefined)).toBe('encrypted')
    expect(() => new Keyring([new Uint8Array(16)])).toThrow(
      expect.objectContaining({ code: 'RONY_ERR_INVALID_KEY' }),
    )
    expect(() => ring.remove(key(1))).toThrow(
      expect.objectContaining({ code: 'RONY_ERR_INVALID_KEY' }),
    )
  })

  it('an encrypted cluster converges; nodes with another key or none stay out', async () => {
    const c = sim({ seed: 21 })
    s = c
    for (const id of ids(8)) await c.spawn(id, { keyring: new Keyring([key(9)]) })
    const stranger = await c.spawn('x', { seeds: [addr('n0')], keyring: new Keyring([key(8)]) })
    const plain = await c.spawn('p', { seeds: [addr('n0')] })
    await c.run(30_000)
    for (const id of ids(8)) expect(view(c.nodes.get(id)!)).toEqual(ids(8))
    expect(view(stranger)).toEqual(['x'])
    expect(view(plain)).toEqual(['p'])
    const st = c.nodes.get('n0')!.stats()
    expect(st.dropped.decrypt + st.dropped.unencrypted).toBeGreaterThan(0)
  })

  it('rotates keys without a split', async () => {
    const c = sim({ seed: 22 })
    s = c
    const rings = new Map<string, Keyring>()
    for (const id of ids(6)) {
      const ring = new Keyring([key(1)])
      rings.set(id, ring)
      await c.spawn(id, { keyring: ring })
    }
    await c.run(20_000)
    for (const r of rings.values()) r.install(key(2))
    await c.run(2_000)
    for (const r of rings.values()) r.use(key(2))
    await c.run(2_000)
    for (const r of rings.values()) r.remove(key(1))
    await c.run(60_000)
    for (const g of c.nodes.values()) expect(view(g)).toEqual(ids(6))
    expect(c.events.filter((e) => e.event === 'leave')).toEqual([])
  })
})
