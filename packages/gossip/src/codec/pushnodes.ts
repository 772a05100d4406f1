import type Long from 'long'
import { ByteReader, readMetaEntry } from './bytes.js'

/** One push-pull entry as protobufjs decodes (or takes) it. */
export interface PushNodeFields {
  Node?: string | null
  Addr?: string | null
  Incarnation?: number | Long | null
  State?: number | null
  Meta?: Record<string, string> | null
}

const NO_META: Record<string, string> = Object.freeze({}) as Record<string, string>

/**
 * The entries (`PushNode`s) of a decoded push-pull, kept as bytes: the reader validates each
 * entry and takes out what every merge needs (member id, incarnation, state), while address
 * and meta stay in the packet until `addr(i)` / `meta(i)` read them. A full state exchange
 * at N members is N entries, nearly all about members already known at that incarnation: the
 * member table skips those without making their strings and maps.
 */
export class PushNodes {
  readonly #buf: Uint8Array
  readonly ids: string[] = []
  /** As `Long#toNumber()` reads the uint64 (may be unsafe: `incarnationOf` refuses it). */
  readonly incarnations: number[] = []
  /** `NodeState` as sent (an unknown value too, as protobufjs keeps it). */
  readonly states: number[] = []
  /** Each entry's byte range, start and end. */
  readonly #ranges: number[] = []
  /** Entries decoded by protobufjs instead (input the hand reader did not take). */
  #decoded: readonly PushNodeFields[] | undefined

  constructor(buf: Uint8Array) {
    this.#buf = buf
  }

  /** Entries already decoded (by protobufjs), or made up in a test. */
  static of(nodes: readonly PushNodeFields[]): PushNodes {
    const p = new PushNodes(new Uint8Array(0))
    p.#decoded = nodes
    for (const n of nodes) {
      const inc = n.Incarnation ?? 0
      p.ids.push(n.Node ?? '')
      p.incarnations.push(typeof inc === 'number' ? inc : inc.toNumber())
      p.states.push(n.State ?? 0)
    }
    return p
  }

  get length(): number {
    return this.ids.length
  }

  /**
   * Reads one entry (the reader's limit is its end), validating all of it (strings included,
   * as protobufjs would refuse the whole message for one bad entry).
   */
  scan(r: ByteReader): void {
    const start = r.pos
    let id = ''
    let inc = 0
    let state = 0
    while (r.pos < r.limit) {
      const tag = r.tag()
      if (tag === 0x0a) id = r.string()
      else if (tag === 0x12) r.skipString()
      else if (tag === 0x18) inc = r.varint64()
      else if (tag === 0x20) state = r.varint() | 0
      else if (tag === 0x2a) skipMetaEntry(r)
      else r.skip(tag & 7)
    }
    this.ids.push(id)
    this.incarnations.push(inc)
    this.states.push(state)
    this.#ranges.push(start, r.limit)
  }

  /** Entry `i`'s address. */
  addr(i: number): string {
    if (this.#decoded !== undefined) return this.#decoded[i]!.Addr ?? ''
    let addr = ''
    this.#fields(i, (r, tag) => {
      if (tag !== 0x12) return false
      addr = r.string()
      return true
    })
    return addr
  }

  /** Entry `i`'s meta (a fresh object, or a shared frozen empty one). */
  meta(i: number): Record<string, string> {
    if (this.#decoded !== undefined) return this.#decoded[i]!.Meta ?? NO_META
    let meta = NO_META
    this.#fields(i, (r, tag) => {
      if (tag !== 0x2a) return false
      if (meta === NO_META) meta = {}
      readMetaEntry(r, meta)
      return true
    })
    return meta
  }

  /** Walks entry `i`'s fields (already validated by `scan`); `read` consumes those it takes. */
  #fields(i: number, read: (r: ByteReader, tag: number) => boolean): void {
    const r = new ByteReader(this.#buf, this.#ranges[2 * i]!, this.#ranges[2 * i + 1]!)
    while (r.pos < r.limit) {
      const tag = r.tag()
      if (!read(r, tag)) r.skip(tag & 7)
    }
  }
}

/** Validates one map entry without making its strings. */
function skipMetaEntry(r: ByteReader): void {
  const end = r.lengthEnd()
  const outer = r.limit
  r.limit = end
  while (r.pos < end) {
    const tag = r.tag()
    if (tag === 0x0a || tag === 0x12) r.skipString()
    else r.skip(tag & 7)
  }
  r.limit = outer
}
