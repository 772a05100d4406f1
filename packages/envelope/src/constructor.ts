/**
 * Constructor ids: CRC-64/GO-ISO of a message's unqualified name, as the Go framework's
 * codegen computes them (`crc64.Checksum(name, crc64.MakeTable(crc64.ISO))`).
 *
 * Reflected polynomial 0xD800000000000000, initial value and final XOR all ones. The
 * 64-bit state is kept as two uint32 halves so the loop runs on small integers; only the
 * result becomes a bigint.
 */

const POLY_HI = 0xd8000000 // the low 32 bits of the reflected ISO polynomial are zero

const TABLE_LO = new Uint32Array(256)
const TABLE_HI = new Uint32Array(256)
for (let i = 0; i < 256; i++) {
  let lo = i
  let hi = 0
  for (let bit = 0; bit < 8; bit++) {
    const carry = lo & 1
    lo = ((lo >>> 1) | (hi << 31)) >>> 0
    hi >>>= 1
    if (carry) hi = (hi ^ POLY_HI) >>> 0
  }
  TABLE_LO[i] = lo
  TABLE_HI[i] = hi
}

const utf8 = new TextEncoder()
const scratch = new DataView(new ArrayBuffer(8))

/** One table step of the reflected CRC over a byte. */
function crcStep(state: Uint32Array, byte: number): void {
  const lo = state[0]!
  const hi = state[1]!
  const index = (lo ^ byte) & 0xff
  state[0] = ((lo >>> 8) | (hi << 24)) ^ TABLE_LO[index]!
  state[1] = (hi >>> 8) ^ TABLE_HI[index]!
}

const state = new Uint32Array(2)

function finish(): bigint {
  scratch.setUint32(0, ~state[0]!, true)
  scratch.setUint32(4, ~state[1]!, true)
  return scratch.getBigUint64(0, true)
}

/** CRC-64/GO-ISO of `bytes`, as a bigint in [0, 2^64). */
export function crc64(bytes: Uint8Array): bigint {
  state[0] = 0xffffffff
  state[1] = 0xffffffff
  for (let i = 0; i < bytes.length; i++) crcStep(state, bytes[i]!)
  return finish()
}

/**
 * The constructor id of the message named `name`: CRC-64/GO-ISO of its unqualified name
 * (`EchoRequest`, never `demo.EchoRequest`) in UTF-8, so ids match the Go framework's
 * `C_EchoRequest`.
 *
 * @example
 * constructorOf('MessageEnvelope') // 11385363697628734430n
 */
export function constructorOf(name: string): bigint {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError('constructorOf: name must be a non-empty string')
  }
  state[0] = 0xffffffff
  state[1] = 0xffffffff
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    // Message names are ASCII in practice; anything else is hashed as its UTF-8 bytes.
    if (c >= 0x80) return crc64(utf8.encode(name))
    crcStep(state, c)
  }
  return finish()
}
