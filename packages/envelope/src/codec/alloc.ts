/**
 * Output buffers for encoders and the frame decoder. Callers fill every byte of what they
 * take, so the memory need not be zeroed.
 *
 * `new Uint8Array(n)` costs about a microsecond for a few hundred bytes in V8 and several
 * for a few KiB (each gets its own zeroed backing store): more than encoding an envelope.
 * So small buffers are views into a shared 16 KiB slab, one real allocation per slab, as
 * Node's `Buffer` pool does; a kept view keeps its slab alive, so buffers above 2 KiB get
 * their own memory. Under Node that memory comes from `Buffer.allocUnsafe` (uninitialized,
 * about 5× cheaper); in browsers from `Uint8Array`. `Buffer` is looked up on `globalThis`,
 * never imported, so browser bundles stay free of Node built-ins.
 */

const SLAB_BYTES = 16 * 1024
const MAX_POOLED_BYTES = SLAB_BYTES / 8

interface BufferConstructorLike {
  allocUnsafe(size: number): Uint8Array
}

const NodeBuffer = (globalThis as { Buffer?: BufferConstructorLike }).Buffer
const allocUnpooled: (size: number) => Uint8Array =
  typeof NodeBuffer?.allocUnsafe === 'function'
    ? (size) => NodeBuffer.allocUnsafe(size)
    : (size) => new Uint8Array(size)

let slab = allocUnpooled(SLAB_BYTES)
let offset = 0

/** A buffer of exactly `size` bytes, uninitialized: the caller must fill all of it. */
export function allocBytes(size: number): Uint8Array {
  if (size > MAX_POOLED_BYTES) return allocUnpooled(size)
  if (offset + size > SLAB_BYTES) {
    slab = allocUnpooled(SLAB_BYTES)
    offset = 0
  }
  const bytes = new Uint8Array(slab.buffer, slab.byteOffset + offset, size)
  offset = (offset + size + 7) & ~7 // keep views 8-byte aligned
  return bytes
}
