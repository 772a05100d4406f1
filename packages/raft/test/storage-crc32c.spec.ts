import { expect, it } from 'vitest'
import { crc32c } from '../src/storage/crc32c.js'
import { seeded } from './seeded.js'

/** The textbook bit-at-a-time CRC-32C, to check the slice-by-8 tables against. */
function reference(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return ~crc >>> 0
}

it('matches the standard check values', () => {
  expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283)
  expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa)
  expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43)
  expect(crc32c(new Uint8Array(0))).toBe(0)
})

it('matches the bitwise reference at every length and alignment', () => {
  const random = seeded(7)
  const bytes = Uint8Array.from({ length: 300 }, () => random() * 256)
  for (let start = 0; start < 9; start++) {
    for (let end = start; end <= 80; end++) {
      expect(crc32c(bytes, 0, start, end)).toBe(reference(bytes.subarray(start, end)))
    }
  }
  expect(crc32c(bytes)).toBe(reference(bytes))
})

it('chains: the CRC of a then b, seeded with the CRC of a, is the CRC of a ++ b', () => {
  const random = seeded(8)
  const bytes = Uint8Array.from({ length: 1000 }, () => random() * 256)
  for (const split of [0, 1, 7, 8, 9, 500, 999, 1000]) {
    const head = crc32c(bytes.subarray(0, split))
    expect(crc32c(bytes.subarray(split), head)).toBe(crc32c(bytes))
  }
})
