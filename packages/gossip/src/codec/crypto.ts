import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { CodedError } from '@rony/interface'
import { compoundSize, writeCompound } from './wire.js'

/**
 * Packet sealing. Every packet and stream message starts with one version byte:
 *
 * - `0x00`: plaintext, the rest is a `Compound`;
 * - `0x01`: AES-256-GCM, then a 12-byte random nonce, the ciphertext, and the 16-byte tag;
 *   the version byte is authenticated as additional data.
 *
 * With a keyring, packets are sealed with the primary key and opened with any installed
 * key (so keys rotate without downtime: install everywhere, switch primary, then remove the
 * old one); plaintext packets are refused. Without a keyring, sealed packets are refused.
 */

const PLAIN = 0x00
const SEALED = 0x01
const NONCE_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32

/** Bytes sealing adds to a compound. */
export const SEALED_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES
/** Bytes the plaintext framing adds to a compound. */
export const PLAIN_OVERHEAD = 1

/**
 * AES-256-GCM keys shared by the cluster. The primary key seals outgoing packets; every
 * installed key may open incoming ones.
 */
export class Keyring {
  #keys: Uint8Array[] = []

  /**
   * @param keys - 32-byte keys; the first one is the primary.
   */
  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0)
      throw new CodedError('keyring needs at least one key', 'RONY_ERR_INVALID_KEY')
    for (const k of keys) this.install(k)
  }

  /** The key that seals outgoing packets. */
  get primary(): Uint8Array {
    return this.#keys[0]!
  }

  /** Every installed key, primary first (copies). */
  get keys(): Uint8Array[] {
    return this.#keys.map((k) => k.slice())
  }

  /** Adds a key that may open incoming packets; a no-op when already installed. */
  install(key: Uint8Array): void {
    if (key.byteLength !== KEY_BYTES) {
      throw new CodedError(
        `keys are ${KEY_BYTES} bytes, got ${key.byteLength}`,
        'RONY_ERR_INVALID_KEY',
      )
    }
    if (this.#index(key) < 0) this.#keys.push(key.slice())
  }

  /** Makes an installed key (or a new one, installed first) the primary. */
  use(key: Uint8Array): void {
    this.install(key)
    const i = this.#index(key)
    const [k] = this.#keys.splice(i, 1)
    this.#keys.unshift(k!)
  }

  /** Removes a key; the primary cannot be removed. */
  remove(key: Uint8Array): void {
    const i = this.#index(key)
    if (i === 0) throw new CodedError('cannot remove the primary key', 'RONY_ERR_INVALID_KEY')
    if (i > 0) this.#keys.splice(i, 1)
  }

  #index(key: Uint8Array): number {
    return this.#keys.findIndex(
      (k) => k.byteLength === key.byteLength && k.every((b, i) => b === key[i]),
    )
  }

  /** @internal Tries every key; `undefined` when none authenticates the packet. */
  open(packet: Uint8Array): Uint8Array | undefined {
    const nonce = packet.subarray(1, 1 + NONCE_BYTES)
    const body = packet.subarray(1 + NONCE_BYTES, packet.byteLength - TAG_BYTES)
    const tag = packet.subarray(packet.byteLength - TAG_BYTES)
    for (const key of this.#keys) {
      try {
        const d = createDecipheriv('aes-256-gcm', key, nonce)
        d.setAAD(packet.subarray(0, 1))
        d.setAuthTag(tag)
        const head = d.update(body)
        const tail = d.final()
        return tail.byteLength === 0
          ? new Uint8Array(head)
          : new Uint8Array(Buffer.concat([head, tail]))
      } catch {
        // wrong key or tampered packet: try the next key
      }
    }
    return undefined
  }

  /** @internal Seals a compound with the primary key. */
  seal(compound: Uint8Array): Uint8Array {
    const nonce = randomBytes(NONCE_BYTES)
    const c = createCipheriv('aes-256-gcm', this.primary, nonce)
    const version = Uint8Array.of(SEALED)
    c.setAAD(version)
    const body = Buffer.concat([c.update(compound), c.final()])
    const out = new Uint8Array(SEALED_OVERHEAD + body.byteLength)
    out[0] = SEALED
    out.set(nonce, 1)
    out.set(body, 1 + NONCE_BYTES)
    out.set(c.getAuthTag(), 1 + NONCE_BYTES + body.byteLength)
    return out
  }
}

/** Why an inbound packet could not be opened. */
export type OpenFailure = 'truncated' | 'unencrypted' | 'encrypted' | 'decrypt' | 'version'

/** Frames a compound for the wire, sealing it when a keyring is set. */
export function frame(compound: Uint8Array, keyring: Keyring | undefined): Uint8Array {
  if (keyring !== undefined) return keyring.seal(compound)
  const out = new Uint8Array(PLAIN_OVERHEAD + compound.byteLength)
  out[0] = PLAIN
  out.set(compound, 1)
  return out
}

/**
 * Frames encoded messages as one compound (`parts`, then `extra`), written straight into the
 * packet when it goes out in plaintext (one allocation).
 */
export function frameMessages(
  keyring: Keyring | undefined,
  parts: readonly Uint8Array[],
  extra: readonly Uint8Array[] = [],
): Uint8Array {
  const size = compoundSize(parts) + compoundSize(extra)
  const offset = keyring === undefined ? PLAIN_OVERHEAD : 0
  const out = new Uint8Array(offset + size)
  writeCompound(out, writeCompound(out, offset, parts), extra)
  if (keyring !== undefined) return keyring.seal(out)
  out[0] = PLAIN
  return out
}

/** Unframes (and opens) a packet: the compound bytes, or why it was refused. */
export function unframe(
  packet: Uint8Array,
  keyring: Keyring | undefined,
): Uint8Array | OpenFailure {
  if (packet.byteLength < 1) return 'truncated'
  const version = packet[0]
  if (version === PLAIN) return keyring === undefined ? packet.subarray(1) : 'unencrypted'
  if (version !== SEALED) return 'version'
  if (keyring === undefined) return 'encrypted'
  if (packet.byteLength < SEALED_OVERHEAD) return 'truncated'
  return keyring.open(packet) ?? 'decrypt'
}

/** Framing overhead for a keyring setting. */
export const frameOverhead = (keyring: Keyring | undefined): number =>
  keyring === undefined ? PLAIN_OVERHEAD : SEALED_OVERHEAD
