/**
 * UTF-8 helpers tuned for the short ASCII strings envelopes carry (header keys and
 * values): a plain loop beats TextEncoder/TextDecoder below a few dozen bytes.
 */

const SHORT = 32
const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true })

/** The UTF-8 length of `text` (lone surrogates count as U+FFFD, 3 bytes, as TextEncoder writes them). */
export function utf8Length(text: string): number {
  let length = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) length += 1
    else if (c < 0x800) length += 2
    else if ((c & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      i++
      length += 4
    } else length += 3
  }
  return length
}

/** Writes `text` at `offset`; returns the offset after it. `buf` must have room for it. */
export function writeUtf8(text: string, buf: Uint8Array, offset: number): number {
  if (text.length > SHORT) return offset + encoder.encodeInto(text, buf.subarray(offset)).written
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x80) return offset + encoder.encodeInto(text.slice(i), buf.subarray(offset)).written
    buf[offset++] = c
  }
  return offset
}

/** Decodes `buf[start, end)`; malformed sequences become U+FFFD, never an exception. */
export function readUtf8(buf: Uint8Array, start: number, end: number): string {
  if (end - start > SHORT) return decoder.decode(buf.subarray(start, end))
  let text = ''
  for (let i = start; i < end; i++) {
    const c = buf[i]!
    if (c >= 0x80) return text + decoder.decode(buf.subarray(i, end))
    text += String.fromCharCode(c)
  }
  return text
}
